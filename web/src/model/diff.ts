/** What changed between two snapshots: page-table lines, memory blocks, meminfo counters. */
import { type BlockTable, findBlock, STATE_NAMES, ZONE_LABELS, parseMeminfo } from './snapshot.js';
import { lineDiff } from '../../../src/session/line-diff.js';

export { lineDiff };

export interface BlockChange {
  first: number;
  last: number;
  from: string;
  to: string;
}

function describe(t: BlockTable, i: number): string {
  if (i < 0) return 'absent';
  const z = t.zones[i]!;
  return STATE_NAMES[t.states[i]!] + (z >= 0 ? ' ' + ZONE_LABELS[z] : '');
}

/** Blocks whose state or zone changed, as runs of consecutive ids with the same change. */
export function blockChanges(a: BlockTable, b: BlockTable): BlockChange[] {
  const ids = new Set<number>([...a.ids, ...b.ids]);
  const sorted = [...ids].sort((p, q) => p - q);
  const out: BlockChange[] = [];
  for (const id of sorted) {
    const from = describe(a, findBlock(a, id));
    const to = describe(b, findBlock(b, id));
    if (from === to) continue;
    const prev = out[out.length - 1];
    if (prev && prev.last === id - 1 && prev.from === from && prev.to === to) prev.last = id;
    else out.push({ first: id, last: id, from, to });
  }
  return out;
}

export function blockRangeName(c: { first: number; last: number }): string {
  return c.first === c.last ? `memory${c.first}` : `memory${c.first}–memory${c.last}`;
}

/** meminfo counters that changed: name, before, after (kB). */
export function meminfoChanges(a: string, b: string): Array<[string, number, number]> {
  const x = parseMeminfo(a);
  const y = parseMeminfo(b);
  const out: Array<[string, number, number]> = [];
  for (const [k, v] of y) {
    const w = x.get(k) ?? 0;
    if (w !== v) out.push([k, w, v]);
  }
  return out;
}
