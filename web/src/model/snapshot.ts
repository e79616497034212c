/**
 * What the view shows of one step, taken from the machine right after it: files read through the
 * guest's own VFS (so the numbers are the ones `cat` prints), memory blocks packed in typed arrays
 * (a 1 TiB machine has 8,192 of them), where page-table and vmemmap pages live, and the checker's
 * verdict. Snapshots are small, so stepping back is a lookup, not a re-run.
 */
import type { GuestSystem } from '../../../src/kernel/system.js';
import type { LineResult } from '../../../src/session/session.js';
import { checkInvariants, type Violation } from '../../../src/check/invariants.js';
import { physRegions, type PhysRegion } from './physmap.js';

export const STATE_NAMES = ['offline', 'online', 'going-offline'] as const;
export const ZONE_LABELS = ['DMA32', 'Normal', 'Movable'] as const;

/** Memory blocks in id order: state index (STATE_NAMES) and zone index (ZONE_LABELS, -1 for none). */
export interface BlockTable {
  ids: Int32Array;
  states: Uint8Array;
  zones: Int8Array;
}

export interface Snapshot {
  /** 0 is the booted machine; step i is after the i-th command. */
  index: number;
  cmd: string;
  result: LineResult | undefined;
  meminfo: string;
  iomem: string;
  ptdump: string;
  blocks: BlockTable;
  /** Page-table pages the kernel holds (root excluded), sorted pfns. */
  tablePfns: Float64Array;
  /** vmemmap backing blocks: first pfn and number of pages, sorted by pfn. */
  vmemmapPfns: Float64Array;
  vmemmapPages: Float64Array;
  regions: PhysRegion[];
  /** The first violations (the checker can report thousands) and how many there were. */
  violations: Violation[];
  violationCount: number;
  dead: boolean;
  /** Milliseconds the command and this snapshot took. */
  runMs: number;
  snapMs: number;
}

const MAX_VIOLATIONS = 200;

/** Reads a file as the view's observer: the guest's kernel allocates nothing for it. */
export function readFile(sys: GuestSystem, path: string): string {
  return sys.vfs.quietly(() => sys.vfs.readOpen(sys.vfs.open(path, 'r')));
}

export function blockTable(sys: GuestSystem): BlockTable {
  const blocks = [...sys.kernel.memoryBlocks.values()].sort((a, b) => a.id - b.id);
  const t: BlockTable = {
    ids: new Int32Array(blocks.length),
    states: new Uint8Array(blocks.length),
    zones: new Int8Array(blocks.length),
  };
  blocks.forEach((b, i) => {
    t.ids[i] = b.id;
    t.states[i] = STATE_NAMES.indexOf(b.state);
    t.zones[i] = b.state === 'offline' || !b.zone ? -1 : b.zone.idx;
  });
  return t;
}

export function takeSnapshot(
  sys: GuestSystem,
  index: number,
  result: LineResult | undefined,
  dead: boolean,
  runMs: number,
): Snapshot {
  const t0 = performance.now();
  const pt = sys.kernel.pt;
  const tablePfns = Float64Array.from(pt.tablePages).sort();
  const vm = [...pt.vmemmapBlocks.entries()].sort((a, b) => a[0] - b[0]);
  // A crashed kernel answers nothing more; its last state is what the view keeps showing.
  const violations = dead ? [] : checkInvariants(sys, result?.cmd ?? 'boot');
  const snap: Snapshot = {
    index,
    cmd: result?.cmd ?? 'boot',
    result,
    meminfo: readFile(sys, '/proc/meminfo'),
    iomem: readFile(sys, '/proc/iomem'),
    ptdump: readFile(sys, '/sys/kernel/debug/kernel_page_tables'),
    blocks: blockTable(sys),
    tablePfns,
    vmemmapPfns: Float64Array.from(vm, (e) => e[0]),
    vmemmapPages: Float64Array.from(vm, (e) => 2 ** e[1]),
    regions: physRegions(sys),
    violations: violations.slice(0, MAX_VIOLATIONS),
    violationCount: violations.length,
    dead,
    runMs,
    snapMs: 0,
  };
  snap.snapMs = performance.now() - t0;
  return snap;
}

/** /proc/meminfo as name -> kB (or pages, for the few counters without a unit). */
export function parseMeminfo(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of text.split('\n')) {
    const r = /^([^:]+):\s+(\d+)/.exec(line);
    if (r) m.set(r[1]!, Number(r[2]));
  }
  return m;
}

/** Index of block `id` in the table, or -1 (binary search: ids are sorted). */
export function findBlock(t: BlockTable, id: number): number {
  let lo = 0;
  let hi = t.ids.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = t.ids[mid]!;
    if (v === id) return mid;
    if (v < id) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

export function blockLabel(t: BlockTable, i: number): string {
  const z = t.zones[i]!;
  return `memory${t.ids[i]}: ${STATE_NAMES[t.states[i]!]}${z >= 0 ? ' ' + ZONE_LABELS[z] : ''}`;
}
