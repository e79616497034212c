/** One step: the command and what it printed, the checker's verdict, and what changed since the step before. */
import { Fragment } from 'preact';
import { useMemo } from 'preact/hooks';
import { formatViolation, type Violation } from '../../../src/check/invariants.js';
import { parseMeminfo, type Snapshot } from '../model/snapshot.js';
import { blockChanges, blockRangeName, lineDiff, meminfoChanges } from '../model/diff.js';

const MAX_SHOWN_PER_GROUP = 50;

/** The checker's findings by invariant, in the order it reported them (a few dozen of each at most). */
function groupByInvariant(vs: readonly Violation[]): Array<[string, Violation[]]> {
  const m = new Map<string, Violation[]>();
  for (const v of vs) {
    const g = m.get(v.invariant) ?? [];
    if (g.length < MAX_SHOWN_PER_GROUP) g.push(v);
    m.set(v.invariant, g);
  }
  return [...m];
}

interface Props {
  snap: Snapshot;
  prev: Snapshot | undefined;
  notes: readonly string[];
  /** For step 0: the boot's kernel log. */
  bootLog?: string;
}

function counts(s: Snapshot): { online: number; offline: number; going: number } {
  let online = 0;
  let going = 0;
  for (const st of s.blocks.states) {
    if (st === 1) online++;
    else if (st === 2) going++;
  }
  return { online, offline: s.blocks.ids.length - online - going, going };
}

export function StepView({ snap, prev, notes, bootLog }: Props) {
  const mi = useMemo(() => parseMeminfo(snap.meminfo), [snap]);
  const c = useMemo(() => counts(snap), [snap]);
  const changes = useMemo(
    () =>
      prev
        ? {
            pt: lineDiff(prev.ptdump, snap.ptdump),
            blocks: blockChanges(prev.blocks, snap.blocks),
            mem: meminfoChanges(prev.meminfo, snap.meminfo),
          }
        : undefined,
    [snap, prev],
  );
  const r = snap.result;
  const ptLines = snap.ptdump.split('\n').length - 1;
  return (
    <section aria-labelledby="step-h" data-testid="step">
      <h2 id="step-h">
        Step {snap.index}: <code data-testid="step-cmd">{snap.cmd}</code>
      </h2>
      <dl class="kv" aria-label="Machine summary">
        <dt>MemTotal</dt>
        <dd data-testid="memtotal">{mi.get('MemTotal')} kB</dd>
        <dt>MemFree</dt>
        <dd data-testid="memfree">{mi.get('MemFree')} kB</dd>
        <dt>memory blocks</dt>
        <dd data-testid="blocks-summary">
          {snap.blocks.ids.length} ({c.online} online, {c.offline} offline
          {c.going ? `, ${c.going} going offline` : ''})
        </dd>
        <dt>kernel_page_tables</dt>
        <dd data-testid="ptdump-lines">{ptLines} lines</dd>
        <dt>page-table pages</dt>
        <dd data-testid="pt-pages">{snap.tablePfns.length + 1}</dd>
        <dt>time (model)</dt>
        <dd>
          {snap.runMs.toFixed(1)} ms run, {snap.snapMs.toFixed(1)} ms view
        </dd>
      </dl>
      {notes.map((n) => (
        <p class="note" key={n}>
          {n}
        </p>
      ))}
      {snap.dead && <p class="error">The guest kernel has crashed; nothing runs any more.</p>}
      {snap.violationCount > 0 ? (
        <div class="violations" role="alert" data-testid="violations">
          <strong>
            {snap.violationCount} invariant violation{snap.violationCount > 1 ? 's' : ''} after this step
          </strong>
          {groupByInvariant(snap.violations).map(([name, vs], gi) => (
            <details key={name} open={gi === 0}>
              <summary>
                <code>{name}</code>: {vs.length}
                {vs.length === MAX_SHOWN_PER_GROUP ? '+' : ''}
              </summary>
              <ul>
                {vs.map((v, i) => (
                  <li key={i} title={formatViolation(v)}>
                    {v.address}: {v.detail}
                  </li>
                ))}
              </ul>
            </details>
          ))}
          {snap.violationCount > snap.violations.length && (
            <span>
              (the first {snap.violations.length} of {snap.violationCount} are listed)
            </span>
          )}
        </div>
      ) : (
        !snap.dead && (
          <p class="ok" data-testid="invariants-ok">
            All invariants hold.
          </p>
        )
      )}
      {bootLog && (
        <details>
          <summary>Boot log ({bootLog.split('\n').length - 1} lines)</summary>
          <pre aria-label="boot kernel log" data-testid="boot-log">
            {bootLog}
          </pre>
        </details>
      )}
      {r && (
        <>
          <h3>Output</h3>
          {r.kmsg.length > 0 && (
            <pre aria-label="kernel log" data-testid="kmsg">
              {r.kmsg.join('\n')}
            </pre>
          )}
          {r.stdout && (
            <pre aria-label="standard output" data-testid="stdout">
              {r.stdout}
            </pre>
          )}
          {r.stderr && (
            <pre aria-label="standard error" class="error" data-testid="stderr">
              {r.stderr}
            </pre>
          )}
          {!r.stdout && !r.stderr && !r.kmsg.length && <p class="note">(no output)</p>}
        </>
      )}
      {changes && (
        <>
          <h3>What changed</h3>
          {changes.blocks.length === 0 && changes.mem.length === 0 && changes.pt.length === 0 && (
            <p class="note" data-testid="no-change">
              Nothing in memory blocks, meminfo or the page tables.
            </p>
          )}
          {changes.blocks.length > 0 && (
            <ul data-testid="block-changes">
              {changes.blocks.map((b) => (
                <li key={b.first}>
                  {blockRangeName(b)}: {b.from} → {b.to}
                </li>
              ))}
            </ul>
          )}
          {changes.mem.length > 0 && (
            <details>
              <summary>/proc/meminfo: {changes.mem.length} counters changed</summary>
              <dl class="kv">
                {changes.mem.map(([k, a, b]) => (
                  <Fragment key={k}>
                    <dt>{k}</dt>
                    <dd>
                      {a} → {b}
                    </dd>
                  </Fragment>
                ))}
              </dl>
            </details>
          )}
          {changes.pt.length > 0 && (
            <details open data-testid="pt-diff">
              <summary>kernel_page_tables: {changes.pt.length} lines changed</summary>
              <pre class="diff">
                {changes.pt.map((l, i) => (
                  <div key={i} class={l.startsWith('+') ? 'add' : 'del'}>
                    {l}
                  </div>
                ))}
              </pre>
            </details>
          )}
        </>
      )}
    </section>
  );
}
