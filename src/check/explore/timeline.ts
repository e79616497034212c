/** The explorer's report: a violating interleaving as a timeline a reviewer can follow. */
import type { TimelineEntry } from './runtime.js';
import type { ExploreResult } from './explorer.js';
import { hexll } from '../../kernel/lib/vsprintf.js';

function pteText(e: TimelineEntry): string {
  const p = e.pte;
  if (!p) return '';
  const val = (lo: number, hi: number): string =>
    lo === 0 && hi === 0 ? '0' : hexll(hi * 2 ** 32 + (lo >>> 0));
  return `  [pfn ${hexll(p.table)}[${p.index}]: ${val(p.oldLo, p.oldHi)} -> ${val(p.lo, p.hi)}]`;
}

/**
 * One line per step: number, CPU, actor, what it did, the locks it held, the entry that changed.
 * A run of writes by one actor to consecutive entries of one table (a split filling 512 entries)
 * is one line with its first and last change.
 */
export function formatTimeline(entries: readonly TimelineEntry[]): string[] {
  const width = Math.max(0, ...entries.map((e) => e.actor.length));
  const out: string[] = [];
  for (let i = 0; i < entries.length;) {
    const e = entries[i]!;
    let j = i + 1;
    let lastWrite = i;
    // Range flushes between the writes (arm64 flushes each leaf it clears) stay in the run.
    while (e.pte && j < entries.length && entries[j]!.actor === e.actor) {
      const n = entries[j]!;
      if (n.pte?.table === e.pte.table && n.pte.index > entries[lastWrite]!.pte!.index) lastWrite = j;
      else if (n.text !== 'flush_tlb_kernel_range()') break;
      j++;
    }
    j = lastWrite + 1;
    const locks = e.locks.length ? `  {holds ${e.locks.join(', ')}}` : '';
    const head = `${String(i + 1).padStart(4)}  cpu${e.cpu} ${e.actor.padEnd(width)}  `;
    if (j - i >= 3) {
      const last = entries[j - 1]!;
      out.push(
        `${head}write entries ${e.pte!.index}..${last.pte!.index} of table pfn ${hexll(e.pte!.table)} (steps ${i + 1}..${j})${locks}${pteText(e)} ...${pteText(last)}`,
      );
      i = j;
      continue;
    }
    out.push(`${head}${e.text}${locks}${pteText(e)}`);
    i++;
  }
  return out;
}

export function formatResult(r: ExploreResult): string {
  const lines = [
    `${r.scenario} under ${r.strategy}, at most ${r.preemptions} preemption${r.preemptions === 1 ? '' : 's'}:`,
    `explored ${r.interleavings} interleavings, ${r.distinctStates} distinct states` +
      (r.pruned ? ` (${r.pruned} not expressible as nested operations, each covered by a later start)` : '') +
      (r.complete ? '' : ' — stopped at the limit, the search is not complete'),
  ];
  for (const n of r.notes)
    lines.push(`seen in ${n.interleavings} interleaving${n.interleavings === 1 ? '' : 's'}: ${n.note}`);
  if (!r.violation) {
    lines.push(r.complete ? 'no invariant broken' : 'no invariant broken so far');
    return lines.join('\n') + '\n';
  }
  const v = r.violation.run.violation!;
  lines.push(
    `VIOLATION ${v.invariant}: ${v.detail}`,
    `shortest interleaving (${r.violation.run.timeline.length} steps, ${r.violation.run.preemptions} preemption${r.violation.run.preemptions === 1 ? '' : 's'}):`,
    ...formatTimeline(r.violation.run.timeline),
  );
  return lines.join('\n') + '\n';
}
