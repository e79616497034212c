/**
 * The physical address space as the view draws it: boot RAM, QEMU's device-memory window and the
 * backends plugged into it, what the kernel registered in /proc/iomem (System RAM added by a
 * driver, MMIO), and the holes between them.
 */
import type { GuestSystem } from '../../../src/kernel/system.js';
import { hex, size } from './format.js';

export type RegionKind = 'boot-ram' | 'device-window' | 'device-backend' | 'hotplugged-ram' | 'mmio';

export interface PhysRegion {
  start: bigint;
  /** Exclusive. */
  end: bigint;
  kind: RegionKind;
  label: string;
}

export function physRegions(sys: GuestSystem): PhysRegion[] {
  const k = sys.kernel;
  const out: PhysRegion[] = [];
  const bootStart = k.machine.dramBase;
  const bootEnd = bootStart + k.machine.dramSize;
  out.push({ start: bootStart, end: bootEnd, kind: 'boot-ram', label: 'boot RAM (riscv_virt_board.ram)' });
  const dm = sys.devices?.deviceMemory;
  if (dm && dm.size > 0n) {
    out.push({
      start: dm.base,
      end: dm.base + dm.size,
      kind: 'device-window',
      label: 'device-memory window (maxmem)',
    });
  }
  for (const r of sys.board.mem.regions) {
    const start = BigInt(r.basePfn) << 12n;
    const end = start + (BigInt(r.pages) << 12n);
    if (start === bootStart && end === bootEnd) continue;
    out.push({ start, end, kind: 'device-backend', label: `memory backend ${r.name}` });
  }
  for (const c of k.iomem.children) {
    const start = c.start;
    const end = c.end + 1n;
    if (c.name.startsWith('System RAM')) {
      if (start >= bootStart && end <= bootEnd) continue;
      out.push({ start, end, kind: 'hotplugged-ram', label: `${c.name} (hot-added)` });
    } else if (!covered(out, start, end)) {
      out.push({ start, end, kind: 'mmio', label: c.name });
    }
  }
  return out.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : a.end > b.end ? -1 : 1));
}

function covered(rs: PhysRegion[], start: bigint, end: bigint): boolean {
  return rs.some((r) => r.kind !== 'mmio' && r.start <= start && r.end >= end);
}

export function regionText(r: PhysRegion): string {
  return `${r.label}: ${hex(r.start)}–${hex(r.end - 1n)} (${size(r.end - r.start)})`;
}

/**
 * The stretches of memory-block numbers worth drawing: each region that can hold memory
 * blocks (not MMIO), merged where they overlap, in address order. Holes between them are not drawn.
 */
export function blockSpans(
  regions: PhysRegion[],
  sectionBits = 27,
): Array<{ first: number; last: number; label: string }> {
  const spans: Array<{ first: number; last: number; label: string }> = [];
  const sb = BigInt(sectionBits);
  for (const r of regions) {
    if (r.kind === 'mmio' || r.kind === 'device-backend') continue;
    const first = Number(r.start >> sb);
    const last = Number((r.end - 1n) >> sb);
    const prev = spans[spans.length - 1];
    if (prev && first <= prev.last + 1) {
      prev.last = Math.max(prev.last, last);
      prev.label += ' + ' + r.label;
    } else {
      spans.push({ first, last, label: r.label });
    }
  }
  return spans;
}
