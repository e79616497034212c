/** The machine's QEMU options as a form, the script, and a command box for one more line. */
import { useState } from 'preact/hooks';
import type { MachineForm } from '../model/spec.js';

interface Props {
  form: MachineForm;
  script: string;
  about: string;
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
        <form
          onSubmit={(e) => {
            e.preventDefault();
            p.onRun();
          }}
        >
          <label>
            <span>-m</span>
            <input type="text" value={f.m} onInput={(e) => p.onForm({ ...f, m: e.currentTarget.value })} />
          </label>
          <label>
            <span>-smp</span>
            <input
              type="text"
              value={f.smp}
              onInput={(e) => p.onForm({ ...f, smp: e.currentTarget.value })}
            />
          </label>
          <label>
            <span>-append</span>
            <input
              type="text"
              value={f.append}
              onInput={(e) => p.onForm({ ...f, append: e.currentTarget.value })}
            />
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
