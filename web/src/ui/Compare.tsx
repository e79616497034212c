/**
 * The script under several strategies side by side: compareStrategies (as `riscv-hotplug compare`)
 * in a worker, after a click, as a table with a column per strategy and a block of rows per line.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { STRATEGIES } from '../../../src/kernel/arch/strategies.js';
import type { CompareCell, Comparison } from '../../../src/session/compare.js';
import { bytesText, causeNotes, deaths, hasMetrics, joinColumns, resultClass } from '../model/compare.js';
import type { CompareReply, CompareRequest } from '../model/compare.worker.js';
import { argvText } from '../model/spec.js';

const ALL = [...STRATEGIES.keys()];

const METRICS: Array<[string, string, (x: CompareCell) => string]> = [
  ['pte', 'PTE writes', (x) => String(x.pteWrites)],
  [
    'tables',
    'page-table pages allocated / freed / held',
    (x) => `${x.tablesAllocated} / ${x.tablesFreed} / ${x.tablesHeld}`,
  ],
  ['flush', 'TLB flushes all / range', (x) => `${x.flushAll} / ${x.flushRange}`],
  ['stillmapped', 'removed but still mapped', (x) => bytesText(x.removedStillMapped)],
  ['unmapped', 'present but unmapped', (x) => bytesText(x.presentUnmapped)],
  ['violated', 'invariants violated', (x) => (x.violations.length ? String(x.violations.length) : '-')],
];

interface Props {
  argv: string[];
  script: string;
  /** Strategies to tick at first (from ?compare=A,B); all when empty. */
  initial: string[];
  /** Run at once (a link asked for it). */
  autorun: boolean;
}

export function CompareView(p: Props) {
  const [chosen, setChosen] = useState<string[]>(p.initial.length ? p.initial : ALL);
  const [result, setResult] = useState<Comparison | undefined>(undefined);
  const [status, setStatus] = useState('');
  const [running, setRunning] = useState(false);
  const [error, setError] = useState('');
  const worker = useRef<Worker | undefined>(undefined);

  const stop = (): void => {
    worker.current?.terminate();
    worker.current = undefined;
  };
  useEffect(() => stop, []);

  const run = (): void => {
    stop();
    // Keep the order of STRATEGIES, as the CLI keeps the order it is given.
    const names = ALL.filter((n) => chosen.includes(n));
    if (!names.length) return;
    const w = new Worker(new URL('../model/compare.worker.ts', import.meta.url), { type: 'module' });
    worker.current = w;
    const columns: Comparison[] = [];
    setRunning(true);
    setError('');
    setResult(undefined);
    setStatus(`running… 0 of ${names.length} strategies`);
    const t0 = performance.now();
    w.onmessage = (e: MessageEvent<CompareReply>) => {
      const m = e.data;
      if (m.kind === 'column') {
        columns[m.index] = m.column;
        setStatus(
          `running… ${columns.filter(Boolean).length} of ${names.length} strategies (${names[m.index]} done)`,
        );
      } else if (m.kind === 'error') {
        setError(m.message);
        setRunning(false);
        setStatus('');
        stop();
      } else {
        setResult(joinColumns(columns));
        setRunning(false);
        setStatus(`${names.length} strategies in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
        stop();
      }
    };
    const req: CompareRequest = { argv: p.argv, strategies: names, script: p.script };
    w.postMessage(req);
  };

  // A link (?compare=…) runs the comparison once the view opens.
  useEffect(() => {
    if (p.autorun) run();
  }, []);

  const toggle = (n: string, on: boolean): void =>
    setChosen((c) => (on ? [...c.filter((x) => x !== n), n] : c.filter((x) => x !== n)));

  const notes = result ? causeNotes(result) : [];
  return (
    <section aria-labelledby="compare-h" id="compare" data-testid="compare">
      <h2 id="compare-h">Compare strategies</h2>
      <p class="note">
        The script of the form, run once per strategy as{' '}
        <code>
          riscv-hotplug compare --strategy {ALL.filter((n) => chosen.includes(n)).join(',') || '…'}{' '}
          {argvText(p.argv.filter((a, i, v) => a !== '--strategy' && v[i - 1] !== '--strategy'))} SCRIPT
        </code>{' '}
        does. Each strategy is the architecture code the kernel is built with; <code>docs/strategies.md</code>{' '}
        describes them.
      </p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          run();
        }}
      >
        <fieldset class="strategies">
          <legend>Strategies</legend>
          {ALL.map((n) => (
            <label key={n} class="check">
              <input
                type="checkbox"
                checked={chosen.includes(n)}
                data-testid={`cmp-pick-${n}`}
                onChange={(e) => toggle(n, e.currentTarget.checked)}
              />{' '}
              {n}
            </label>
          ))}
        </fieldset>
        <button type="submit" data-testid="cmp-run" disabled={running || chosen.length === 0}>
          {running ? 'Running…' : 'Run the comparison'}
        </button>{' '}
        <span class="note" aria-live="polite" data-testid="cmp-status">
          {status}
        </span>
      </form>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {result && (
        <>
          <div class="cmp-scroll">
            <table class="cmp" data-testid="cmp-table">
              <caption>
                What each strategy made of each line: the result, and for lines that changed page tables what
                it cost and what it broke
              </caption>
              <thead>
                <tr>
                  <th scope="col">Line</th>
                  {result.strategies.map((s) => (
                    <th scope="col" key={s}>
                      {s}
                    </th>
                  ))}
                </tr>
              </thead>
              {result.rows.map((row, i) => (
                <tbody key={i} data-testid={`cmp-line-${i + 1}`}>
                  <tr class="cmp-line">
                    <th scope="row">
                      <span class="muted">{i + 1}.</span> <code>{row.line}</code>
                    </th>
                    {row.cells.map((x, j) => (
                      <td
                        key={j}
                        class={resultClass(x.result)}
                        data-testid={`cmp-${i + 1}-${result.strategies[j]}-result`}
                      >
                        {x.result}
                      </td>
                    ))}
                  </tr>
                  {hasMetrics(row.cells) &&
                    METRICS.map(([id, label, f]) => (
                      <tr key={id}>
                        <th scope="row" class="metric">
                          {label}
                        </th>
                        {row.cells.map((x, j) => {
                          const v = f(x);
                          const bad =
                            (id === 'unmapped' || id === 'stillmapped' || id === 'violated') &&
                            v !== '0' &&
                            v !== '-';
                          return (
                            <td
                              key={j}
                              class={bad ? 'bad' : ''}
                              data-testid={`cmp-${i + 1}-${result.strategies[j]}-${id}`}
                            >
                              {v}
                            </td>
                          );
                        })}
                      </tr>
                    ))}
                </tbody>
              ))}
            </table>
          </div>
          <h3>What the checker says</h3>
          {deaths(result).map((d) => (
            <p key={d.strategy} class="bad" data-testid={`cmp-died-${d.strategy}`}>
              {d.strategy}: the kernel died at line {d.line} ({d.result}); nothing ran after it, and a dead
              kernel is not checked.
            </p>
          ))}
          {notes.length ? (
            <ul class="cmp-notes" data-testid="cmp-notes">
              {notes.map((n, k) => (
                <li key={k}>
                  <strong>{n.strategy}</strong>, line {n.line} (<code>{n.cause.invariant}</code>):{' '}
                  {n.cause.text}
                </li>
              ))}
            </ul>
          ) : (
            <p class="ok">No invariant violated under any of these strategies while their kernels ran.</p>
          )}
        </>
      )}
    </section>
  );
}
