/**
 * arch/riscv/mm/init.c: the linear map (best_map_size, create_linear_mapping_range)
 * and the hotplug callbacks (arch_add_memory, arch_remove_memory, vmemmap_populate,
 * vmemmap_free, arch_get_mappable_range). The teardown walk they share is in
 * teardown.ts; what a strategy changes (leaf sizes, teardown policy, vmemmap
 * population) comes in as `RiscvMmParts`.
 */
import type { Kernel } from '../../kernel.js';
import { KernelBug } from '../../errno.js';
import {
  LEVEL_PAGES,
  PAGE_KERNEL_READ,
  PAGE_KERNEL_READ_EXEC,
  PAGE_KERNEL,
  type PageTableAllocator,
} from './pgtable.js';
import { allocPages } from '../../mm/page_alloc.js';
import { __addPages, __removePages } from '../../mm/memory_hotplug.js';
import type { VmemAltmap, VmemmapPopulateFn } from '../../mm/sparse_vmemmap.js';
import type { MhpParams } from '../arch_ops.js';
import { removePgdMapping, type TeardownPolicy } from './teardown.js';

const PMD_PAGES = 512;
const PUD_PAGES = 512 * 512;
const P4D_PAGES = 512 * 512 * 512;

/** The parts of the riscv memory code a strategy may replace. */
export interface RiscvMmParts {
  /** The leaf level for the next piece of a linear mapping (best_map_size). */
  linearMapSize(k: Kernel, pfn: number, vpn: number, pages: number): number;
  /** How remove_pgd_mapping treats leaves and tables, and when it flushes. */
  readonly teardown: TeardownPolicy;
  /** vmemmap_populate(): hugepages (6.12) or base pages. */
  readonly vmemmapPopulate: VmemmapPopulateFn;
}

/** A vpn of the linear map for a pfn: __va with 64-bit wrap-around, as a page number. */
export function linearVpn(k: Kernel, pfn: number): number {
  return k.layout.linearVpn(pfn);
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
 * leaves `mapSize` picks. A failed table allocation is a BUG in the kernel
 * (BUG_ON in the late allocators); the model reports it as such.
 */
export function createLinearMappingRange(
  k: Kernel,
  startPfn: number,
  endPfn: number,
  prot: number | undefined,
  alloc: PageTableAllocator,
  mapSize: RiscvMmParts['linearMapSize'] = bestMapSize,
): void {
  let pages = 0;
  for (let pfn = startPfn; pfn < endPfn; pfn += pages) {
    const vpn = linearVpn(k, pfn);
    const level = mapSize(k, pfn, vpn, endPfn - pfn);
    pages = LEVEL_PAGES[level]!;
    if (!k.pt.createMapping(vpn, pfn, level, prot ?? pgprotFromVa(k, vpn), alloc)) {
      throw new KernelBug(
        'arch/riscv/mm/init.c (page-table allocation failed in create_linear_mapping_range)',
      );
    }
  }
}

/** arch_add_memory(): map, then __add_pages; on failure the mapping goes again. Returns 0 or -errno. */
export function archAddMemory(
  k: Kernel,
  parts: RiscvMmParts,
  nid: number,
  startPfn: number,
  nrPages: number,
  params: MhpParams,
): number {
  createLinearMappingRange(
    k,
    startPfn,
    startPfn + nrPages,
    params.pgprot,
    lateTableAllocator(k),
    parts.linearMapSize,
  );
  const ret = __addPages(k, nid, startPfn, nrPages, params.altmap);
  if (ret) {
    removeLinearMapping(k, parts, startPfn, nrPages);
  } else {
    k.maxPfn = startPfn + nrPages;
    k.maxLowPfn = k.maxPfn;
  }
  k.flushTlbAll();
  return ret;
}

/** arch_remove_memory(): __remove_pages (memmap), then the linear map. */
export function archRemoveMemory(
  k: Kernel,
  parts: RiscvMmParts,
  startPfn: number,
  nrPages: number,
  altmap: VmemAltmap | undefined,
): void {
  __removePages(k, startPfn, nrPages, altmap);
  removeLinearMapping(k, parts, startPfn, nrPages);
  k.flushTlbAll();
}

/** vmemmap_free(): tear down the vmemmap of [startVpn, endVpn) and free its backing. */
export function vmemmapFree(
  k: Kernel,
  parts: RiscvMmParts,
  startVpn: number,
  endVpn: number,
  altmap: VmemAltmap | undefined,
): void {
  removePgdMapping(k, parts.teardown, startVpn, endVpn, true, altmap);
}

/** remove_linear_mapping(). */
export function removeLinearMapping(k: Kernel, parts: RiscvMmParts, startPfn: number, nrPages: number): void {
  const va = linearVpn(k, startPfn);
  const end = linearVpn(k, startPfn + nrPages);
  removePgdMapping(k, parts.teardown, va, end, false, undefined);
}
