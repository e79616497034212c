/** The machine's QEMU options as a form, the script, and a command box for one more line. */
import { useState } from 'preact/hooks';
import type { MachineForm } from '../model/spec.js';
import { DEFAULT_STRATEGY, STRATEGIES } from '../../../src/kernel/arch/strategies.js';

interface Props {
  form: MachineForm;
  script: string;
  about: string;
  link?: { query: string; text: string };
  onForm(f: MachineForm): void;
  onScript(s: string): void;
  onRun(): void;
  onCommand(line: string): void;
  canCommand: boolean;
}

const lines = (s: string): string[] => s.split('\n');

export function MachineFormView(p: Props) {
  const [cmd, setCmd] = useState('');
  const f = p.form;
  const submitCommand = (e: Event): void => {
    e.preventDefault();
    if (!cmd.trim()) return;
    p.onCommand(cmd);
    setCmd('');
  };
  return (
    <>
      <section aria-labelledby="machine-h">
        <h2 id="machine-h">Machine (QEMU options)</h2>
        {p.about && <p class="note">{p.about}</p>}
        {p.link && (
          <p class="note">
            <a href={p.link.query} data-testid="example-link">
              {p.link.text}
            </a>
          </p>
        )}
        <form
          onSubmit={(e) => {
            e.preventDefault();
            p.onRun();
          }}
        >
          {(
            [
              ['-m', 'm'],
              ['-smp', 'smp'],
              ['-append', 'append'],
            ] as const
          ).map(([option, key]) => (
            <label key={key}>
              <span>{option}</span>
              <input
                type="text"
                value={f[key]}
                onInput={(e) => p.onForm({ ...f, [key]: e.currentTarget.value })}
              />
            </label>
          ))}
          <label>
            <span>--strategy</span>
            <select
              data-testid="strategy"
              aria-label="--strategy: the architecture code the kernel is built with"
              value={f.strategy ?? DEFAULT_STRATEGY}
              onChange={(e) => p.onForm({ ...f, strategy: e.currentTarget.value })}
            >
              {[...STRATEGIES.keys()].map((n) => (
                <option key={n} value={n}>
                  {n}
                </option>
              ))}
            </select>
          </label>
          <label>
            -object (one per line)
            <textarea
              rows={2}
              value={f.objects.join('\n')}
              onInput={(e) => p.onForm({ ...f, objects: lines(e.currentTarget.value) })}
            />
          </label>
          <label>
            -device (one per line)
            <textarea
              rows={2}
              value={f.devices.join('\n')}
              onInput={(e) => p.onForm({ ...f, devices: lines(e.currentTarget.value) })}
            />
          </label>
          <label>
            Script: guest shell lines and <code>(qemu)</code> monitor lines
            <textarea
              rows={8}
              value={p.script}
              data-testid="script"
              onInput={(e) => p.onScript(e.currentTarget.value)}
            />
          </label>
          <button type="submit" data-testid="run">
            Boot and run the script
          </button>
        </form>
      </section>
      <section aria-labelledby="cmd-h">
        <h2 id="cmd-h">Command</h2>
        <form onSubmit={submitCommand}>
          <input
            type="text"
            aria-label="Command: a guest shell line or (qemu) monitor line, run on the last step"
            placeholder="cat /proc/meminfo  ·  (qemu) info memory-devices"
            value={cmd}
            data-testid="command"
            onInput={(e) => setCmd(e.currentTarget.value)}
          />
          <button type="submit" disabled={!p.canCommand}>
            Run
          </button>
        </form>
        <p class="note">Runs after the last step and adds it to the script.</p>
      </section>
    </>
  );
}
