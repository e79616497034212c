/**
 * mm/sparse-vmemmap.c: populating the vmemmap (the struct page array) of a
 * pfn range with 2 MiB PMD leaves where possible, falling back to base pages,
 * taking backing memory from memblock (boot), the buddy allocator, or an
 * altmap carved from the hot-added range itself (memmap_on_memory).
 */
import type { Kernel } from '../kernel.js';
import { PAGE_KERNEL, tableIndex, _PAGE_TABLE, _PAGE_LEAF } from '../arch/riscv/pgtable.js';
import { pteHi, pteLo, ptePpn, PTE_V } from '../../hw/pte.js';
import { allocPages } from './page_alloc.js';
import { STRUCT_PAGE_SIZE } from '../arch/riscv/layout.js';

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

/** Boot-time allocation source for the vmemmap: the sparse buffer, then memblock. */
export interface EarlyVmemmapSource {
  /** sparse_buffer_alloc(): a piece of the pre-allocated buffer, or undefined. */
  bufferAlloc(bytes: number): number | undefined;
  /** __earlyonly_bootmem_alloc(): a memblock allocation (pfn), or undefined. */
  memblockAlloc(bytes: number, align: number): number | undefined;
}

export interface VmemmapContext {
  early: EarlyVmemmapSource | undefined;
}

function allocBlockZero(k: Kernel, ctx: VmemmapContext): number | undefined {
  // vmemmap_alloc_block_zero(PAGE_SIZE): memblock at boot, the buddy allocator after.
  const pfn = ctx.early ? ctx.early.memblockAlloc(4096, 4096) : allocPages(k, 0, 'kernel');
  if (pfn !== undefined) k.pt.adoptTable(pfn);
  return pfn;
}

/** vmemmap_alloc_block_buf(): altmap first, else sparse buffer, else the allocator. */
function allocBlockBuf(
  k: Kernel,
  bytes: number,
  ctx: VmemmapContext,
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
  if (ctx.early) {
    const b = ctx.early.bufferAlloc(bytes);
    if (b !== undefined) return b;
    return ctx.early.memblockAlloc(bytes, bytes);
  }
  return allocPages(k, Math.log2(nrPfns), 'kernel');
}

/** Walks down to the entry at `level` for vpn, populating missing tables (vmemmap_{pgd,p4d,pud,pmd}_populate). */
function populateTo(
  k: Kernel,
  vpn: number,
  level: number,
  ctx: VmemmapContext,
): { table: number; index: number } | undefined {
  let table = k.pt.rootPfn;
  for (let l = k.pt.rootLevel; l > level; l--) {
    const idx = tableIndex(vpn, l);
    const lo = k.pt.readLo(table, idx);
    const hi = k.pt.readHi(table, idx);
    if (lo === 0 && hi === 0) {
      const next = allocBlockZero(k, ctx);
      if (next === undefined) return undefined;
      k.pt.write(table, idx, pteLo(next, _PAGE_TABLE), pteHi(next));
      table = next;
    } else {
      table = ptePpn(lo, hi);
    }
  }
  return { table, index: tableIndex(vpn, level) };
}

/** vmemmap_populate_basepages(): one 4 KiB page per PTE. */
function populateBasepages(
  k: Kernel,
  start: number,
  end: number,
  ctx: VmemmapContext,
  altmap: VmemAltmap | undefined,
): number {
  for (let vpn = start; vpn < end; vpn++) {
    const pte = populateTo(k, vpn, 0, ctx);
    if (!pte) return -12;
    if (k.pt.isNone(pte.table, pte.index)) {
      const p = allocBlockBuf(k, 4096, ctx, altmap);
      if (p === undefined) return -12;
      k.pt.write(pte.table, pte.index, pteLo(p, PAGE_KERNEL), pteHi(p));
      if (!altmap) k.pt.vmemmapBlocks.set(p, 0);
    }
  }
  return 0;
}

/** vmemmap_populate_hugepages() (riscv's vmemmap_populate). start/end are vpns of the vmemmap. */
export function vmemmapPopulate(
  k: Kernel,
  start: number,
  end: number,
  ctx: VmemmapContext,
  altmap: VmemAltmap | undefined,
): number {
  for (let addr = start, next = 0; addr < end; addr = next) {
    next = Math.min((Math.floor(addr / 512) + 1) * 512, end);
    const pmd = populateTo(k, addr, 1, ctx);
    if (!pmd) return -12;
    const lo = k.pt.readLo(pmd.table, pmd.index);
    const hi = k.pt.readHi(pmd.table, pmd.index);
    if (lo === 0 && hi === 0) {
      const p = allocBlockBuf(k, 2 << 20, ctx, altmap);
      if (p !== undefined) {
        k.pt.write(pmd.table, pmd.index, pteLo(p, PAGE_KERNEL), pteHi(p));
        if (!altmap) k.pt.vmemmapBlocks.set(p, 9);
        continue;
      } else if (altmap) {
        return -12;
      }
    } else if ((lo & PTE_V) !== 0 && (lo & _PAGE_LEAF) !== 0) {
      // vmemmap_check_pmd(): an existing leaf already covers it.
      continue;
    }
    if (populateBasepages(k, addr, next, ctx, altmap)) return -12;
  }
  return 0;
}

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
