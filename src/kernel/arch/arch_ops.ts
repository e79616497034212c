/**
 * What generic mm gets from `arch/*\/mm/`: the hotplug callbacks, the vmemmap,
 * the page-table accessors generic code uses, and the arch's parts of boot.
 * The kernel is built with one of these (a strategy); generic code calls
 * through `k.arch` and never imports an architecture's files.
 */
import type { Kernel } from '../kernel.js';
import type { KernelLayout } from './riscv/layout.js';
import type { KernelProfile } from '../profile.js';
import type { PagingMode } from '../../hw/paging.js';
import type { VmemAltmap } from '../mm/sparse_vmemmap.js';

/** struct mhp_params: how arch_add_memory maps a range. */
export interface MhpParams {
  altmap: VmemAltmap | undefined;
  /** The leaf protection of the new linear mapping (pgprot_mhp(PAGE_KERNEL) for RAM). */
  pgprot: number;
}

/** Where the boot-time vmemmap takes its backing (sparse_buffer, then memblock). */
export interface EarlyVmemmapSource {
  /** sparse_buffer_alloc(): a piece of the pre-allocated buffer (pfn), or undefined. */
  bufferAlloc(bytes: number): number | undefined;
  /** __earlyonly_bootmem_alloc(): a memblock allocation (pfn), or undefined. */
  memblockAlloc(bytes: number, align: number): number | undefined;
}

export interface BootOptions {
  /** The initrd's size in bytes (QEMU places it; only its size matters). */
  initrdSize: number;
  /** fdt_totalsize() of the device tree QEMU built. */
  fdtSize: number;
}

/** What setup_arch hands back to start_kernel about where the firmware put things. */
export interface ArchBootInfo {
  /** Physical address the initrd was loaded at. */
  initrdStart: number;
  /** End of the kernel's own reservation (the image rounded up), where boot-time software's pages start. */
  reservationEnd: number;
}

export interface ArchOps {
  /** The strategy's name (`--strategy`). */
  readonly name: string;
  /** The page-table geometry and virtual memory map for a paging mode. */
  createLayout(mode: PagingMode, profile: KernelProfile): KernelLayout;

  // ---- memory hotplug (include/linux/memory_hotplug.h) ----
  /** arch_add_memory(): 0 or -errno; on failure nothing stays mapped. */
  archAddMemory(k: Kernel, nid: number, startPfn: number, nrPages: number, params: MhpParams): number;
  /** arch_remove_memory(). */
  archRemoveMemory(k: Kernel, startPfn: number, nrPages: number, altmap: VmemAltmap | undefined): void;
  /**
   * A strategy's veto before try_remove_memory tears anything down (not in 6.12: a candidate fix's
   * hook, since arch_remove_memory cannot fail). 0 or -errno.
   */
  archPrepareRemoveMemory?(k: Kernel, startPfn: number, nrPages: number): number;
  /** arch_get_mappable_range(). */
  archGetMappableRange(k: Kernel): { start: bigint; end: bigint };
  /** PAGE_KERNEL: what add_memory asks the linear map of new RAM to be. */
  readonly pageKernel: number;

  // ---- the vmemmap (mm/sparse-vmemmap.c calls these) ----
  /** vmemmap_populate() over vmemmap page numbers [startVpn, endVpn): 0 or -errno. */
  vmemmapPopulate(
    k: Kernel,
    startVpn: number,
    endVpn: number,
    nid: number,
    altmap: VmemAltmap | undefined,
    early: EarlyVmemmapSource | undefined,
  ): number;
  /** vmemmap_free(). */
  vmemmapFree(k: Kernel, startVpn: number, endVpn: number, altmap: VmemAltmap | undefined): void;

  // ---- boot (init/main.c calls these in start_kernel's order) ----
  /** setup_arch(): memblock, the final page tables, the device tree, sparse and zones, resources. */
  setupArch(k: Kernel, opts: BootOptions): ArchBootInfo;
  /** mem_init()'s arch part (riscv: swiotlb_init). */
  memInit(k: Kernel): void;
  /** pgtable_cache_init(). */
  pgtableCacheInit(k: Kernel): void;
  /** The arch's initcalls that touch memory (riscv: reserve_memblock_reserved_regions). */
  archInitcalls(k: Kernel): void;
  /** free_initmem(). */
  freeInitmem(k: Kernel): void;
  /** mark_rodata_ro(). */
  markRodataRo(k: Kernel): void;
}
