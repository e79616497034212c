/**
 * mm/sparse-vmemmap.c: populating the vmemmap (the struct page array) of a
 * pfn range with 2 MiB PMD leaves where possible, falling back to base pages,
 * taking backing memory from memblock (boot), the buddy allocator, or an
 * altmap carved from the hot-added range itself (memmap_on_memory). Generic
 * code: the page-table accessors and PAGE_KERNEL come from the arch.
 */
import type { Kernel } from '../kernel.js';
import { ENOMEM } from '../errno.js';
import { allocPages } from './page_alloc.js';
import { STRUCT_PAGE_SIZE } from './mm_types.js';
import type { EarlyVmemmapSource } from '../arch/arch_ops.js';

/** struct vmem_altmap: pages at the start of a range lent to its own memmap. */
export interface VmemAltmap {
  readonly basePfn: number;
  readonly endPfn: number;
  reserve: number;
  /** Pages available to the memmap. */
  free: number;
  /** Pages handed out so far, and alignment padding. */
  alloc: number;
  align: number;
}

export function newAltmap(basePfn: number, endPfn: number, free: number): VmemAltmap {
  return { basePfn, endPfn, reserve: 0, free, alloc: 0, align: 0 };
}

export function vmemAltmapNextPfn(a: VmemAltmap): number {
  return a.basePfn + a.reserve + a.alloc + a.align;
}

export function vmemAltmapNrFree(a: VmemAltmap): number {
  return a.free - a.alloc - a.align;
}

/** vmem_altmap_offset(): pages at the start of the range not part of the usable memory. */
export function vmemAltmapOffset(a: VmemAltmap | undefined): number {
  return a ? a.reserve + a.free : 0;
}

export function vmemAltmapFree(a: VmemAltmap, nrPfns: number): void {
  a.alloc -= nrPfns;
}

/** vmemmap_alloc_block_zero(PAGE_SIZE) for a page table: memblock at boot, the buddy allocator after. */
function allocTableZero(k: Kernel, early: EarlyVmemmapSource | undefined): number | undefined {
  const pfn = early ? early.memblockAlloc(4096, 4096) : allocPages(k, 0, 'kernel');
  if (pfn !== undefined) k.pt.adoptTable(pfn);
  return pfn;
}

/** vmemmap_alloc_block_buf(): altmap first, else sparse buffer, else the allocator. */
function allocBlockBuf(
  k: Kernel,
  bytes: number,
  early: EarlyVmemmapSource | undefined,
  altmap: VmemAltmap | undefined,
): number | undefined {
  const nrPfns = bytes / 4096;
  if (altmap) {
    const pfn = vmemAltmapNextPfn(altmap);
    const lowBit = nrPfns & -nrPfns;
    const nrAlign = Math.ceil(pfn / lowBit) * lowBit - pfn;
    if (nrPfns + nrAlign > vmemAltmapNrFree(altmap)) return undefined;
    altmap.alloc += nrPfns;
    altmap.align += nrAlign;
    return pfn + nrAlign;
  }
  if (early) {
    const b = early.bufferAlloc(bytes);
    if (b !== undefined) return b;
    return early.memblockAlloc(bytes, bytes);
  }
  return allocPages(k, Math.log2(nrPfns), 'kernel');
}

/** Walks down to the entry at `level` for vpn, populating missing tables (vmemmap_{pgd,p4d,pud,pmd}_populate). */
function populateTo(
  k: Kernel,
  vpn: number,
  level: number,
  early: EarlyVmemmapSource | undefined,
): { table: number; index: number } | undefined {
  const pt = k.pt;
  let table = pt.rootPfn;
  for (let l = pt.rootLevel; l > level; l--) {
    const idx = pt.index(vpn, l);
    if (pt.isNone(table, idx)) {
      const next = allocTableZero(k, early);
      if (next === undefined) return undefined;
      pt.setTable(table, idx, next);
      table = next;
    } else {
      table = pt.entryPfn(table, idx);
    }
  }
  return { table, index: pt.index(vpn, level) };
}

/** A way to populate the vmemmap pages [start, end): 0 or -ENOMEM. */
export type VmemmapPopulateFn = (
  k: Kernel,
  start: number,
  end: number,
  altmap: VmemAltmap | undefined,
  early: EarlyVmemmapSource | undefined,
) => number;

/** vmemmap_populate_basepages(): one 4 KiB page per PTE. */
export const vmemmapPopulateBasepages: VmemmapPopulateFn = (k, start, end, altmap, early) => {
  for (let vpn = start; vpn < end; vpn++) {
    const pte = populateTo(k, vpn, 0, early);
    if (!pte) return -ENOMEM;
    if (k.pt.isNone(pte.table, pte.index)) {
      const p = allocBlockBuf(k, 4096, early, altmap);
      if (p === undefined) return -ENOMEM;
      k.pt.setLeaf(pte.table, pte.index, p, k.arch.pageKernel);
      if (!altmap) k.pt.vmemmapBlocks.set(p, 0);
    }
  }
  return 0;
};

/** vmemmap_populate_hugepages(): 2 MiB PMD leaves, base pages where a 2 MiB block cannot be had. */
export const vmemmapPopulateHugepages: VmemmapPopulateFn = (k, start, end, altmap, early) => {
  const pt = k.pt;
  for (let addr = start, next = 0; addr < end; addr = next) {
    next = Math.min((Math.floor(addr / 512) + 1) * 512, end);
    const pmd = populateTo(k, addr, 1, early);
    if (!pmd) return -ENOMEM;
    if (pt.isNone(pmd.table, pmd.index)) {
      const p = allocBlockBuf(k, 2 << 20, early, altmap);
      if (p !== undefined) {
        pt.setLeaf(pmd.table, pmd.index, p, k.arch.pageKernel);
        if (!altmap) pt.vmemmapBlocks.set(p, 9);
        continue;
      } else if (altmap) {
        return -ENOMEM;
      }
    } else if (pt.isLeaf(pmd.table, pmd.index)) {
      // vmemmap_check_pmd(): an existing leaf already covers it.
      continue;
    }
    if (vmemmapPopulateBasepages(k, addr, next, altmap, early)) return -ENOMEM;
  }
  return 0;
};

/** The vmemmap vpns holding the struct pages of [pfn, pfn + nr). */
export function memmapVpnRange(k: Kernel, pfn: number, nr: number): [number, number] {
  const L = k.layout;
  const perPage = 4096 / STRUCT_PAGE_SIZE;
  const rel = pfn - L.vmemmapStartPfn;
  if (rel >= 0 && rel % perPage === 0 && nr % perPage === 0) {
    // The common case, in plain numbers: 64 struct pages per vmemmap page.
    const start = L.vmemmapStartVpn + rel / perPage;
    if (start + nr / perPage < 2 ** 52) return [start, start + nr / perPage];
  }
  const startVa = L.pfnToPage(BigInt(pfn));
  const bytes = BigInt(nr * STRUCT_PAGE_SIZE);
  return [Number(startVa >> 12n), Number((startVa + bytes + 4095n) >> 12n)];
}

/** __populate_section_memmap(): the vmemmap of [pfn, pfn + nr) through the arch's vmemmap_populate. */
export function populateSectionMemmap(
  k: Kernel,
  pfn: number,
  nr: number,
  nid: number,
  altmap: VmemAltmap | undefined,
  early: EarlyVmemmapSource | undefined,
): number {
  const [start, end] = memmapVpnRange(k, pfn, nr);
  return k.arch.vmemmapPopulate(k, start, end, nid, altmap, early);
}

/** depopulate_section_memmap() / free_map_bootmem(): both end in the arch's vmemmap_free(). */
export function depopulateSectionMemmap(
  k: Kernel,
  pfn: number,
  nr: number,
  altmap: VmemAltmap | undefined,
): void {
  const [start, end] = memmapVpnRange(k, pfn, nr);
  k.arch.vmemmapFree(k, start, end, altmap);
}
