/**
 * The page: the machine form and script on the left with the timeline of steps; on the right the
 * selected step (what ran, what it printed, what changed, what the checker says) and views of the
 * machine at that step. All state lives here; the model runs in the page.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { Timeline } from '../model/timeline.js';
import { EXAMPLES, exampleById, type Example } from '../model/examples.js';
import { formToArgv, argvText, type MachineForm } from '../model/spec.js';
import { MachineFormView } from './MachineForm.js';
import { StepList } from './StepList.js';
import { StepView } from './StepView.js';
import { PhysMap } from './PhysMap.js';
import { PageTables } from './PageTables.js';
import { HardwareWalk } from './HardwareWalk.js';
import { Files } from './Files.js';

type Tab = 'memory' | 'tables' | 'walk' | 'files';
const TABS: Array<[Tab, string]> = [
  ['memory', 'Physical memory'],
  ['tables', 'Page tables'],
  ['walk', 'Hardware walk'],
  ['files', 'Files'],
];

function initialExample(): Example {
  const id = new URLSearchParams(location.search).get('example');
  return (id && exampleById(id)) || EXAMPLES[0]!;
}

function isTyping(t: EventTarget | null): boolean {
  return t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement || t instanceof HTMLSelectElement;
}

export function App() {
  const first = useMemo(initialExample, []);
  const [exampleId, setExampleId] = useState(first.id);
  const [form, setForm] = useState<MachineForm>(first.machine);
  const [script, setScript] = useState(first.script);
  const [walkVa, setWalkVa] = useState(first.walkVa);
  const [tl, setTl] = useState<Timeline | undefined>(undefined);
  // Bumped when the timeline grows in place, so the view re-renders.
  const [, setVersion] = useState(0);
  const [cur, setCur] = useState(0);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(true);
  const [tab, setTab] = useState<Tab>('memory');
  const [expanded, setExpanded] = useState<Set<string>>(() => new Set());

  // A newer boot supersedes a script still running.
  const runId = useRef(0);
  const boot = useCallback((f: MachineForm, text: string) => {
    const id = ++runId.current;
    setBusy(true);
    // Yield so the page paints "running" before the model takes the thread.
    setTimeout(() => {
      if (runId.current !== id) return;
      let t: Timeline;
      try {
        t = new Timeline(formToArgv(f));
      } catch (e) {
        setTl(undefined);
        setError(e instanceof Error ? e.message : String(e));
        setBusy(false);
        return;
      }
      setTl(t);
      setError('');
      setCur(0);
      const lines = text.split('\n');
      let i = 0;
      // Steps appear as they are computed, a slice of about one frame at a time, so the page stays usable.
      const next = (): void => {
        if (runId.current !== id) return;
        const until = performance.now() + 30;
        try {
          while (i < lines.length && performance.now() < until) t.run(lines[i++]!);
        } catch (e) {
          // A model error (not a guest error, which is output): show it, keep the steps so far.
          setError(`line ${i}: ${e instanceof Error ? e.message : String(e)}`);
          i = lines.length;
        }
        setVersion((v) => v + 1);
        if (i < lines.length) {
          setTimeout(next, 0);
          return;
        }
        // ?step=N applies to the page's first run only.
        const want = id === 1 ? Number(new URLSearchParams(location.search).get('step')) : 0;
        if (Number.isInteger(want) && want > 0) setCur(Math.min(want, t.steps.length - 1));
        setBusy(false);
      };
      next();
    }, 0);
  }, []);

  useEffect(() => boot(first.machine, first.script), [boot, first]);

  const loadExample = (id: string): void => {
    const e = exampleById(id);
    if (!e) return;
    setExampleId(id);
    setForm(e.machine);
    setScript(e.script);
    setWalkVa(e.walkVa);
    setExpanded(new Set());
    boot(e.machine, e.script);
  };

  const runLine = (line: string): void => {
    if (!tl) return;
    const s = tl.run(line);
    setScript((t) => (t.endsWith('\n') || t === '' ? t : t + '\n') + line);
    if (s) setCur(s.index);
    setVersion((v) => v + 1);
  };

  const last = tl ? tl.steps.length - 1 : 0;
  const go = useCallback((i: number) => setCur(Math.max(0, Math.min(last, i))), [last]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => {
      if (isTyping(e.target) || e.altKey || e.ctrlKey || e.metaKey) return;
      if (e.key === 'ArrowRight' || e.key === 'j') go(cur + 1);
      else if (e.key === 'ArrowLeft' || e.key === 'k') go(cur - 1);
      else if (e.key === 'Home') go(0);
      else if (e.key === 'End') go(last);
      else return;
      e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [cur, last, go]);

  const snap = tl?.steps[cur];
  const prev = tl && cur > 0 ? tl.steps[cur - 1] : undefined;

  return (
    <>
      <header>
        <h1>riscv-hotplug</h1>
        <span class="sub">
          Linux 6.12 memory hot(un)plug on a RISC-V QEMU virt machine, modelled in your browser
        </span>
        <label>
          <span>Example</span>
          <select
            aria-label="Example"
            data-testid="example"
            value={exampleId}
            onChange={(e) => loadExample(e.currentTarget.value)}
          >
            {EXAMPLES.map((e) => (
              <option key={e.id} value={e.id}>
                {e.title}
              </option>
            ))}
          </select>
        </label>
        <span class="note" aria-live="polite" data-testid="status">
          {busy
            ? `running… ${last} steps so far`
            : tl
              ? `${tl.modeName}, ${last} steps, done`
              : 'not running'}
        </span>
      </header>
      <div class="layout">
        <div>
          <MachineFormView
            form={form}
            script={script}
            about={exampleById(exampleId)?.about ?? ''}
            onForm={setForm}
            onScript={setScript}
            onRun={() => boot(form, script)}
            onCommand={runLine}
            canCommand={tl !== undefined && !busy}
          />
          {tl && <StepList steps={tl.steps} cur={cur} onSelect={go} />}
        </div>
        <main>
          {error && (
            <p class="error" role="alert" data-testid="error">
              {error}
            </p>
          )}
          {tl && snap && (
            <>
              <div class="nav" role="group" aria-label="Step through the script">
                <button onClick={() => go(0)} disabled={cur === 0} aria-label="First step (Home)">
                  |◀
                </button>
                <button
                  onClick={() => go(cur - 1)}
                  disabled={cur === 0}
                  aria-label="Previous step (←)"
                  data-testid="prev"
                >
                  ◀
                </button>
                <span class="pos" data-testid="position" aria-live="polite">
                  step {cur} of {last}
                </span>
                <button
                  onClick={() => go(cur + 1)}
                  disabled={cur === last}
                  aria-label="Next step (→)"
                  data-testid="next"
                >
                  ▶
                </button>
                <button onClick={() => go(last)} disabled={cur === last} aria-label="Last step (End)">
                  ▶|
                </button>
                <span class="note">
                  keys: ← → Home End · machine: <code>riscv-hotplug run {argvText(tl.argv)}</code>
                </span>
              </div>
              <StepView
                snap={snap}
                prev={prev}
                notes={cur === 0 ? tl.notes : []}
                bootLog={cur === 0 ? tl.bootLog : undefined}
              />
              <div class="tabs" role="tablist" aria-label="Views of the machine at this step">
                {TABS.map(([id, label]) => (
                  <button
                    key={id}
                    role="tab"
                    id={`tab-${id}`}
                    aria-selected={tab === id}
                    aria-controls={`panel-${id}`}
                    onClick={() => setTab(id)}
                  >
                    {label}
                  </button>
                ))}
              </div>
              <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
                {tab === 'memory' && <PhysMap snap={snap} />}
                {tab === 'tables' && (
                  <PageTables
                    kernel={tl.machineAt(cur).kernel}
                    expanded={expanded}
                    onToggle={(key) =>
                      setExpanded((s) => {
                        const n = new Set(s);
                        if (!n.delete(key)) n.add(key);
                        return n;
                      })
                    }
                  />
                )}
                {tab === 'walk' && (
                  <HardwareWalk system={tl.machineAt(cur)} step={cur} va={walkVa} onVa={setWalkVa} />
                )}
                {tab === 'files' && <Files snap={snap} />}
              </div>
            </>
          )}
        </main>
      </div>
    </>
  );
}
