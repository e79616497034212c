/**
 * arch/riscv/mm/init.c: the linear map (best_map_size, create_linear_mapping_range),
 * the hotplug callbacks (arch_add_memory, arch_remove_memory, vmemmap_free,
 * arch_get_mappable_range) and the one teardown walk that serves both the
 * linear map and the vmemmap (remove_pgd_mapping -> p4d -> pud -> pmd -> pte).
 *
 * The walk is written level by level as the kernel's is, including its
 * folded-level behaviour in Sv48/Sv39 and its habit of clearing a whole
 * leaf that the removed range only partly covers.
 */
import type { Kernel } from '../../kernel.js';
import { KernelBug } from '../../errno.js';
import {
  _PAGE_LEAF,
  LEVEL_PAGES,
  PAGE_KERNEL,
  PAGE_KERNEL_READ,
  PAGE_KERNEL_READ_EXEC,
  tableIndex,
  type PageTableAllocator,
} from './pgtable.js';
import { PTE_V, ptePpn } from '../../../hw/pte.js';
import { allocPages, freePages, freeReservedPage, pageReserved } from '../../mm/page_alloc.js';
import { __addPages, __removePages } from '../../mm/memory_hotplug.js';
import { type VmemAltmap, vmemAltmapFree } from '../../mm/sparse_vmemmap.js';

const PMD_PAGES = 512;
const PUD_PAGES = 512 * 512;
const P4D_PAGES = 512 * 512 * 512;

/** A vpn of the linear map for a pfn: __va with 64-bit wrap-around, as a page number. */
export function linearVpn(k: Kernel, pfn: number): number {
  return Number(k.layout.va(BigInt(pfn) << 12n) >> 12n);
}

/**
 * best_map_size(): the largest leaf whose size divides both addresses and
 * fits what is left. P4D leaves only with 5 levels, PUD only with 4 or more.
 */
export function bestMapSize(k: Kernel, pfn: number, vpn: number, pages: number): number {
  const aligned = (n: number): boolean => pfn % n === 0 && vpn % n === 0 && pages >= n;
  if (k.layout.l5 && aligned(P4D_PAGES)) return 3;
  if (k.layout.l4 && aligned(PUD_PAGES)) return 2;
  if (aligned(PMD_PAGES)) return 1;
  return 0;
}

/** pgprot_from_va() with STRICT_KERNEL_RWX: the linear alias of kernel text is read-only. */
export function pgprotFromVa(k: Kernel, vpn: number): number {
  const L = k.layout;
  const sym = k.profile.symbols;
  const va = BigInt(vpn) << 12n;
  if (va >= sym._start && va < sym.__init_data_begin) return PAGE_KERNEL_READ_EXEC;
  if (va >= L.lmAlias(sym._start) && va < L.lmAlias(sym.__init_data_begin)) return PAGE_KERNEL_READ;
  return PAGE_KERNEL;
}

/** The allocator for page-table pages after boot: __get_free_page / pagetable_alloc. */
export function lateTableAllocator(k: Kernel): PageTableAllocator {
  return { allocTable: () => allocPages(k, 0, 'kernel') };
}

/**
 * create_linear_mapping_range(): map [startPfn, endPfn) at __va with the
 * largest leaves that fit. A failed table allocation is a BUG in the kernel
 * (BUG_ON in the late allocators); the model reports it as such.
 */
export function createLinearMappingRange(
  k: Kernel,
  startPfn: number,
  endPfn: number,
  prot: number | undefined,
  alloc: PageTableAllocator,
): void {
  let pages = 0;
  for (let pfn = startPfn; pfn < endPfn; pfn += pages) {
    const vpn = linearVpn(k, pfn);
    const level = bestMapSize(k, pfn, vpn, endPfn - pfn);
    pages = LEVEL_PAGES[level]!;
    if (!k.pt.createMapping(vpn, pfn, level, prot ?? pgprotFromVa(k, vpn), alloc)) {
      throw new KernelBug(
        'arch/riscv/mm/init.c (page-table allocation failed in create_linear_mapping_range)',
      );
    }
  }
}

/** arch_get_mappable_range(). */
export function archGetMappableRange(k: Kernel): { start: bigint; end: bigint } {
  return k.layout.mappableRange();
}

/** arch_add_memory(). Returns 0 or -errno. */
export function archAddMemory(
  k: Kernel,
  nid: number,
  startPfn: number,
  nrPages: number,
  altmap: VmemAltmap | undefined,
): number {
  createLinearMappingRange(k, startPfn, startPfn + nrPages, PAGE_KERNEL, lateTableAllocator(k));
  const ret = __addPages(k, nid, startPfn, nrPages, altmap);
  if (ret) {
    removeLinearMapping(k, startPfn, nrPages);
  } else {
    k.maxPfn = startPfn + nrPages;
    k.maxLowPfn = k.maxPfn;
  }
  k.flushTlbAll();
  return ret;
}

/** arch_remove_memory(). */
export function archRemoveMemory(
  k: Kernel,
  startPfn: number,
  nrPages: number,
  altmap: VmemAltmap | undefined,
): void {
  __removePages(k, startPfn, nrPages, altmap);
  removeLinearMapping(k, startPfn, nrPages);
  k.flushTlbAll();
}

/** vmemmap_free(): tear down the vmemmap of [startVpn, endVpn) and free its backing. */
export function vmemmapFree(
  k: Kernel,
  startVpn: number,
  endVpn: number,
  altmap: VmemAltmap | undefined,
): void {
  removePgdMapping(k, startVpn, endVpn, true, altmap);
}

export function removeLinearMapping(k: Kernel, startPfn: number, nrPages: number): void {
  const va = linearVpn(k, startPfn);
  const end = linearVpn(k, startPfn + nrPages);
  removePgdMapping(k, va, end, false, undefined);
}

// ---- the teardown walk -------------------------------------------------------------

/** A pointer to one entry: the table page it sits in and its index. */
interface EntryRef {
  table: number;
  index: number;
}

function addrEnd(addr: number, end: number, span: number): number {
  const boundary = (Math.floor(addr / span) + 1) * span;
  return boundary - 1 < end - 1 ? boundary : end;
}

function lo(k: Kernel, e: EntryRef): number {
  return k.pt.readLo(e.table, e.index);
}

function hi(k: Kernel, e: EntryRef): number {
  return k.pt.readHi(e.table, e.index);
}

function pfnOf(k: Kernel, e: EntryRef): number {
  return ptePpn(lo(k, e), hi(k, e));
}

function isLeafVal(l: number): boolean {
  return (l & PTE_V) !== 0 && (l & _PAGE_LEAF) !== 0;
}

/** free_vmemmap_storage(): altmap pages go back to the altmap, boot pages are freed as reserved pages. */
function freeVmemmapStorage(k: Kernel, pfn: number, order: number, altmap: VmemAltmap | undefined): void {
  k.pt.vmemmapBlocks.delete(pfn);
  if (altmap) {
    vmemAltmapFree(altmap, 2 ** order);
    return;
  }
  if (pageReserved(k, pfn)) {
    for (let i = 0; i < 2 ** order; i++) freeReservedPage(k, pfn + i);
    return;
  }
  freePages(k, pfn, order);
}

/** Frees a page-table page the way free_{pte,pmd,pud}_table do: reserved (boot) pages as reserved pages. */
function freeTablePage(k: Kernel, pfn: number): void {
  k.pt.releaseTable(pfn);
  if (pageReserved(k, pfn)) freeReservedPage(k, pfn);
  else freePages(k, pfn, 0);
}

function removePteMapping(
  k: Kernel,
  table: number,
  addr: number,
  end: number,
  isVmemmap: boolean,
  altmap: VmemAltmap | undefined,
): void {
  for (let a = addr; a < end; a++) {
    const e = { table, index: tableIndex(a, 0) };
    const l = lo(k, e);
    // pte_present: V or PROT_NONE (G).
    if ((l & (PTE_V | 0x20)) === 0) continue;
    const pfn = pfnOf(k, e);
    k.pt.clear(e.table, e.index);
    if (isVmemmap) freeVmemmapStorage(k, pfn, 0, altmap);
  }
}

function freePteTable(k: Kernel, ptePfn: number, pmd: EntryRef): void {
  if (!k.pt.tableEmpty(ptePfn)) return;
  freeTablePage(k, ptePfn);
  k.pt.clear(pmd.table, pmd.index);
}

function removePmdMapping(
  k: Kernel,
  table: number,
  addr: number,
  end: number,
  isVmemmap: boolean,
  altmap: VmemAltmap | undefined,
): void {
  for (let a = addr, next = 0; a < end; a = next) {
    next = addrEnd(a, end, PMD_PAGES);
    const pmd = { table, index: tableIndex(a, 1) };
    const l = lo(k, pmd);
    // pmd_present with THP: V, PROT_NONE or any leaf bit.
    if ((l & (PTE_V | 0x20 | _PAGE_LEAF)) === 0) continue;
    if (isLeafVal(l)) {
      const pfn = pfnOf(k, pmd);
      k.pt.clear(pmd.table, pmd.index);
      if (isVmemmap) freeVmemmapStorage(k, pfn, 9, altmap);
      continue;
    }
    const pteBase = pfnOf(k, pmd);
    removePteMapping(k, pteBase, a, next, isVmemmap, altmap);
    freePteTable(k, pteBase, pmd);
  }
}

function freePmdTable(k: Kernel, pmdPfn: number, pud: EntryRef): void {
  if (!k.pt.tableEmpty(pmdPfn)) return;
  freeTablePage(k, pmdPfn);
  k.pt.clear(pud.table, pud.index);
}

/**
 * remove_pud_mapping(). With 4+ levels pud_base is a real table; with Sv39 the
 * PUD is folded into the entry above and `pudBase` is that entry itself.
 */
function removePudMapping(
  k: Kernel,
  pudBase: EntryRef,
  addr: number,
  end: number,
  isVmemmap: boolean,
  altmap: VmemAltmap | undefined,
): void {
  const l4 = k.layout.l4;
  for (let a = addr, next = 0; a < end; a = next) {
    next = addrEnd(a, end, PUD_PAGES);
    const pud = l4 ? { table: pudBase.table, index: tableIndex(a, 2) } : pudBase;
    const l = lo(k, pud);
    if ((l & PTE_V) === 0) continue;
    if (isLeafVal(l)) {
      if (l4) {
        // The whole 1 GiB leaf goes, whatever part of it was asked for.
        const pfn = pfnOf(k, pud);
        k.pt.clear(pud.table, pud.index);
        if (isVmemmap) freeVmemmapStorage(k, pfn, 18, altmap);
      }
      continue;
    }
    const pmdBase = pfnOf(k, pud);
    removePmdMapping(k, pmdBase, a, next, isVmemmap, altmap);
    if (l4) freePmdTable(k, pmdBase, pud);
  }
}

function freePudTable(k: Kernel, pudPfn: number, p4d: EntryRef): void {
  if (!k.pt.tableEmpty(pudPfn)) return;
  freeTablePage(k, pudPfn);
  k.pt.clear(p4d.table, p4d.index);
}

function removeP4dMapping(
  k: Kernel,
  p4dBase: EntryRef,
  addr: number,
  end: number,
  isVmemmap: boolean,
  altmap: VmemAltmap | undefined,
): void {
  const l5 = k.layout.l5;
  const l4 = k.layout.l4;
  for (let a = addr, next = 0; a < end; a = next) {
    next = addrEnd(a, end, P4D_PAGES);
    const p4d = l5 ? { table: p4dBase.table, index: tableIndex(a, 3) } : p4dBase;
    const l = lo(k, p4d);
    // p4d_present is always true when the level is folded away (Sv39).
    if (l4 && (l & PTE_V) === 0) continue;
    if ((l4 ? (l & PTE_V) !== 0 : true) && (l & _PAGE_LEAF) !== 0) {
      if (l5) {
        const pfn = pfnOf(k, p4d);
        k.pt.clear(p4d.table, p4d.index);
        if (isVmemmap) freeVmemmapStorage(k, pfn, 27, altmap);
      }
      continue;
    }
    // pud_offset(p4d, 0): a table with 4+ levels, the same entry when folded.
    const pudBase: EntryRef = l4 ? { table: pfnOf(k, p4d), index: 0 } : p4d;
    removePudMapping(k, pudBase, a, next, isVmemmap, altmap);
    if (l5) freePudTable(k, pudBase.table, p4d);
  }
}

/** remove_pgd_mapping(): the walk over [va, end), then one flush of every TLB. */
export function removePgdMapping(
  k: Kernel,
  va: number,
  end: number,
  isVmemmap: boolean,
  altmap: VmemAltmap | undefined,
): void {
  const l5 = k.layout.l5;
  const top = k.pt.rootLevel;
  const pgdSpan = LEVEL_PAGES[top]!;
  for (let a = va, next = 0; a < end; a = next) {
    next = addrEnd(a, end, pgdSpan);
    const pgd = { table: k.pt.rootPfn, index: tableIndex(a, top) };
    // pgd_present is always true unless the PGD is a real level above a P4D.
    if (l5 && (lo(k, pgd) & PTE_V) === 0) continue;
    // pgd_leaf() is always false on riscv.
    const p4dBase: EntryRef = l5 ? { table: pfnOf(k, pgd), index: 0 } : pgd;
    removeP4dMapping(k, p4dBase, a, next, isVmemmap, altmap);
  }
  k.flushTlbAll();
}
