/**
 * arch/riscv/mm/pageattr.c: changing permissions of kernel mappings
 * (set_memory_ro/rw_nx/nx). A change to the kernel image also applies to its
 * linear-map alias, splitting any large leaf that the range only partly
 * covers; new tables come from the page allocator.
 */
import type { Kernel } from '../../kernel.js';
import { KernelBug } from '../../errno.js';
import { PTE_R, PTE_W, PTE_X, PTE_V, pteHi, pteLo, ptePpn } from '../../../hw/pte.js';
import { LEVEL_PAGES, _PAGE_LEAF, _PAGE_TABLE, tableIndex } from './pgtable.js';
import { allocPages } from '../../mm/page_alloc.js';
import { withLock } from '../../locking/hotplug_locks.js';

export interface ProtChange {
  setW?: boolean;
  setX?: boolean;
  clearW?: boolean;
  clearX?: boolean;
}

function masks(c: ProtChange): { set: number; clear: number } {
  let set = 0;
  let clear = 0;
  if (c.setW) set |= PTE_R | PTE_W;
  if (c.setX) set |= PTE_X;
  if (c.clearW) {
    set |= PTE_R;
    clear |= PTE_W;
  }
  if (c.clearX) clear |= PTE_X;
  return { set, clear };
}

/**
 * Visits the present entries covering [start, end) top-down. `onEntry` gets
 * the entry and the part of the range it covers; returning a table pfn
 * descends into it (with the same range part), returning undefined does not.
 */
function walkPresent(
  k: Kernel,
  start: number,
  end: number,
  onEntry: (
    table: number,
    idx: number,
    level: number,
    vpn: number,
    next: number,
    lo: number,
    hi: number,
  ) => number | undefined,
): void {
  const pt = k.pt;
  const visit = (table: number, level: number, s: number, e: number): void => {
    const span = LEVEL_PAGES[level]!;
    for (let vpn = s; vpn < e;) {
      const next = Math.min(vpn - (vpn % span) + span, e);
      const idx = tableIndex(vpn, level);
      const lo = pt.readLo(table, idx);
      if ((lo & PTE_V) !== 0) {
        const child = onEntry(table, idx, level, vpn, next, lo, pt.readHi(table, idx));
        if (child !== undefined && level > 0) visit(child, level - 1, vpn, next);
      }
      vpn = next;
    }
  };
  visit(pt.rootPfn, pt.rootLevel, start, end);
}

/** split_linear_mapping(): split every leaf in [start, end) that the range does not cover whole. */
function splitLinearMapping(k: Kernel, start: number, end: number): void {
  const pt = k.pt;
  walkPresent(k, start, end, (table, idx, level, vpn, next, lo, hi) => {
    if (level === 0) return undefined;
    if ((lo & _PAGE_LEAF) === 0) return ptePpn(lo, hi);
    const span = LEVEL_PAGES[level]!;
    if (vpn % span === 0 && next - vpn >= span) return undefined;
    // Split the leaf into 512 entries of the level below, same protection.
    const child = allocPages(k, 0);
    if (child === undefined)
      throw new KernelBug('arch/riscv/mm/pageattr.c: split_linear_mapping out of memory');
    pt.adoptTable(child);
    const pfn = ptePpn(lo, hi);
    const sub = LEVEL_PAGES[level - 1]!;
    for (let i = 0; i < 512; i++) pt.write(child, i, pteLo(pfn + i * sub, lo & 0x3ff), pteHi(pfn + i * sub));
    pt.write(table, idx, pteLo(child, _PAGE_TABLE), pteHi(child));
    return child;
  });
}

/** The pageattr walk: apply the masks to every leaf touching [start, end) (a large leaf as a whole). */
function applyMasks(k: Kernel, start: number, end: number, m: { set: number; clear: number }): void {
  walkPresent(k, start, end, (table, idx, level, _vpn, _next, lo, hi) => {
    if ((lo & _PAGE_LEAF) === 0 && level > 0) return ptePpn(lo, hi);
    k.pt.write(table, idx, ((lo & ~m.clear) | m.set) >>> 0, hi);
    return undefined;
  });
}

/** __set_memory() over [startVa, startVa + PAGE_ALIGN(endVa - startVa)). */
export function setMemoryProt(k: Kernel, startVa: bigint, endVa: bigint, change: ProtChange): void {
  const pages = Number((endVa - startVa + 4095n) >> 12n);
  if (pages <= 0) return;
  const start = Number(startVa >> 12n);
  const end = start + pages;
  const m = masks(change);
  // __set_memory() holds init_mm's mmap lock for the whole split-and-change; hot-remove does not take it.
  withLock(k, k.locks.initMmMmap, 'write', () => setMemoryProtLocked(k, start, end, startVa, pages, m));
}

function setMemoryProtLocked(
  k: Kernel,
  start: number,
  end: number,
  startVa: bigint,
  pages: number,
  m: { set: number; clear: number },
): void {
  const L = k.layout;
  if (L.isKernelMapping(startVa) || L.isLinearMapping(startVa)) {
    const lmStart = L.isKernelMapping(startVa) ? Number(L.lmAlias(startVa) >> 12n) : start;
    const lmEnd = lmStart + pages;
    splitLinearMapping(k, lmStart, lmEnd);
    applyMasks(k, lmStart, lmEnd, m);
  }
  applyMasks(k, start, end, m);
  k.flushTlbAll();
}
