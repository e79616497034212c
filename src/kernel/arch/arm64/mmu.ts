/**
 * arm64's memory hot(un)plug code (arch/arm64/mm/mmu.c of Linux 6.12, and the
 * 2026 changes that went into 7.1) applied to RISC-V page tables: what the
 * other architecture's algorithm does with the same operations.
 *
 * - The linear map of hot-added memory has no block mappings while the direct
 *   map must stay changeable (`rodata=full`, arm64's default): 4 KiB leaves.
 *   With `rodata=on` it uses PUD and PMD blocks like riscv.
 * - unmap_hotplug_range() clears leaves, a block whole whatever part of it is
 *   asked for, with a TLB flush of the leaf before its page is freed; then
 *   free_empty_tables() frees tables that are empty and lie wholly inside
 *   [floor, ceiling) (the linear map's or the vmemmap's area).
 * - A memory notifier refuses to offline boot memory; 7.1 also refuses an
 *   offline whose edges would split a linear-map or vmemmap leaf, and batches
 *   the linear map's flush into one at the end of unmap_hotplug_range().
 */
import type { Kernel } from '../../kernel.js';
import type { ArchOps } from '../arch_ops.js';
import { LEVEL_PAGES } from '../riscv/pgtable.js';
import { riscv612Parts, riscvArch } from '../riscv/index.js';
import {
  clearLeaf,
  freeTablePage,
  removePgdMapping,
  type TeardownPolicy,
  type TeardownWalk,
} from '../riscv/teardown.js';
import { NOTIFY_BAD_ERRNO, rejectSplitNotifier } from '../riscv/strategies.js';
import { pfnToSectionNr, PAGES_PER_SECTION } from '../../mm/mmzone.js';
import type { MemoryAction, MemoryNotify } from '../../drivers/base/memory.js';
import {
  vmemmapPopulateBasepages,
  vmemmapPopulateHugepages,
  type VmemmapPopulateFn,
} from '../../mm/sparse_vmemmap.js';
import { STRUCT_PAGE_SIZE } from '../../mm/mm_types.js';

/** Pages of vmemmap that hold one section's struct pages (PAGES_PER_SECTION * sizeof(struct page)). */
const SECTION_MEMMAP_PAGES = (PAGES_PER_SECTION * STRUCT_PAGE_SIZE) / 4096;

/** rodata= on the command line: full (default), on, or off. */
export function rodataMode(k: Kernel): 'full' | 'on' | 'off' {
  const m = /(?:^|\s)rodata=(\S+)/.exec(k.cmdline.raw);
  return m?.[1] === 'on' ? 'on' : m?.[1] === 'off' ? 'off' : 'full';
}

/**
 * __create_pgd_mapping() flags for hot-added memory: NO_BLOCK_MAPPINGS when the direct map must be
 * changeable page by page (can_set_direct_map(): rodata=full); otherwise PUD and PMD blocks (arm64
 * has no P4D blocks).
 */
export function arm64LinearMapSize(k: Kernel, pfn: number, vpn: number, pages: number): number {
  if (rodataMode(k) === 'full') return 0;
  const aligned = (n: number): boolean => pfn % n === 0 && vpn % n === 0 && pages >= n;
  if (k.layout.l4 && aligned(LEVEL_PAGES[2]!)) return 2;
  if (aligned(LEVEL_PAGES[1]!)) return 1;
  return 0;
}

/** The area a teardown may free tables in: PAGE_OFFSET..PAGE_END or VMEMMAP_START..VMEMMAP_END. */
function floorCeiling(w: TeardownWalk): [number, number] {
  const L = w.k.layout;
  return w.isVmemmap
    ? [Number(L.vmemmapStart >> 12n), Number(L.vmemmapEnd >> 12n)]
    : [Number(L.pageOffset >> 12n), Number(L.pageEnd >> 12n)];
}

/** free_empty_tables(): a second walk that frees empty tables wholly inside [floor, ceiling). */
const freeEmptyTables: TeardownPolicy = {
  leaf: () => 'done',
  pte: () => undefined,
  afterTable(w, tablePfn, level, parent, addr) {
    const span = LEVEL_PAGES[level + 1]!;
    const start = addr - (addr % span);
    const [floor, ceiling] = floorCeiling(w);
    if (start < floor || start + span > ceiling) return;
    if (!w.k.pt.tableEmpty(tablePfn)) return;
    w.k.pt.clear(parent.table, parent.index);
    // __flush_tlb_kernel_pgtable(): the walk caches may hold the table.
    w.k.flushTlbKernelRange(start, start + 1);
    freeTablePage(w.k, tablePfn);
  },
  finish: () => undefined,
};

/** unmap_hotplug_range() with a flush per cleared leaf (6.12) or one for the linear map at the end (7.1). */
function unmapHotplugRange(batchedLinearFlush: boolean): TeardownPolicy {
  const flushLeaf = (w: TeardownWalk, addr: number, level: number): void => {
    if (batchedLinearFlush && !w.isVmemmap) return;
    const start = addr - (addr % LEVEL_PAGES[level]!);
    w.k.flushTlbKernelRange(start, start + 1);
  };
  return {
    leaf(w, e, level, addr) {
      // pud_sect()/pmd_sect(): the block goes whole; the flush precedes freeing its page.
      clearLeaf(w, e, level, addr, () => flushLeaf(w, addr, level));
      return 'done';
    },
    pte(w, e, addr) {
      clearLeaf(w, e, 0, addr, () => flushLeaf(w, addr, 0));
    },
    afterTable: () => undefined,
    finish(w, va, end) {
      if (batchedLinearFlush && !w.isVmemmap) w.k.flushTlbKernelRange(va, end);
      removePgdMapping(w.k, freeEmptyTables, va, end, w.isVmemmap, w.altmap);
    },
  };
}

/** prevent_bootmem_remove_notifier(): boot memory is never offlined (so never removed). */
function preventBootmemRemove(k: Kernel): (action: MemoryAction, arg: MemoryNotify) => number {
  return (action, arg) => {
    if (action !== 'going-offline' && action !== 'offline') return 0;
    for (let pfn = arg.startPfn; pfn < arg.startPfn + arg.nrPages; pfn += PAGES_PER_SECTION) {
      const ms = k.sparse.get(pfnToSectionNr(pfn));
      if (ms?.early) {
        const end = arg.startPfn + arg.nrPages;
        k.log.warn(
          `Boot memory [${(pfn * 4096).toString(16)} ${(end * 4096).toString(16)}] offlining attempted`,
        );
        return NOTIFY_BAD_ERRNO;
      }
    }
    return 0;
  };
}

export const arm64612: ArchOps = riscvArch(
  'arm64-6.12',
  { ...riscv612Parts, linearMapSize: arm64LinearMapSize, teardown: unmapHotplugRange(false) },
  { initcalls: (k) => k.memoryNotifiers.push(preventBootmemRemove(k)) },
);

/**
 * vmemmap_populate() since 2025: a range smaller than a section's memmap (a ZONE_DEVICE sub-section)
 * gets base pages, so a neighbour's teardown cannot take a 2 MiB leaf it shares (finding F4).
 */
export const arm64VmemmapPopulate: VmemmapPopulateFn = (k, start, end, altmap, early) =>
  end - start < SECTION_MEMMAP_PAGES
    ? vmemmapPopulateBasepages(k, start, end, altmap, early)
    : vmemmapPopulateHugepages(k, start, end, altmap, early);

export const arm6471: ArchOps = riscvArch(
  'arm64-7.1',
  {
    ...riscv612Parts,
    linearMapSize: arm64LinearMapSize,
    teardown: unmapHotplugRange(true),
    vmemmapPopulate: arm64VmemmapPopulate,
  },
  {
    initcalls: (k) => {
      const boot = preventBootmemRemove(k);
      const split = rejectSplitNotifier(k);
      // prevent_memory_remove_notifier(): boot memory first, then the split check.
      k.memoryNotifiers.push((action, arg) => boot(action, arg) || split(action, arg));
    },
  },
);
