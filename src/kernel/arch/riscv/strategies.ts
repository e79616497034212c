/**
 * Variants of the riscv memory code on the same machine: the series' first
 * posting, 6.12 without the PGD-level preallocation, and two candidate fixes
 * for the partial removal of a large linear-map leaf (finding F1). Each
 * changes only the parts it names; the walk, the builder and boot are 6.12's.
 */
import type { Kernel } from '../../kernel.js';
import { EBUSY, ENOMEM } from '../../errno.js';
import type { ArchOps } from '../arch_ops.js';
import { LEVEL_PAGES } from './pgtable.js';
import { allocPages } from '../../mm/page_alloc.js';
import { vmemmapPopulateBasepages } from '../../mm/sparse_vmemmap.js';
import { linearVpn } from './init.js';
import { riscv612Parts, riscvArch } from './index.js';
import { clearLeaf, entryPfn, riscv612Teardown, type TeardownPolicy } from './teardown.js';
import { memmapVpnRange } from '../../mm/sparse_vmemmap.js';
import { hexll } from '../../lib/vsprintf.js';
import type { MemoryAction, MemoryNotify } from '../../drivers/base/memory.js';

/**
 * The first posting (May 2023): the vmemmap in base pages (vmemmap_populate_basepages), so its
 * teardown frees PTE-mapped pages and PTE tables; the linear map and its one remove_pgd_mapping
 * as in 6.12 (including clearing a whole leaf on a partial removal).
 */
export const riscvV12023: ArchOps = riscvArch('riscv-v1-2023', {
  ...riscv612Parts,
  vmemmapPopulate: vmemmapPopulateBasepages,
});

/**
 * 6.12 without preallocate_pgd_pages_range() for the linear map and the vmemmap: their
 * PGD-level entries appear on demand, so page tables copied from swapper_pg_dir before a
 * hot-add lack them (the concurrency explorer's pgd-sync scenario).
 */
export const riscvNoPrealloc: ArchOps = riscvArch('riscv-no-prealloc', riscv612Parts, {
  preallocate: ['vmalloc', 'bpf/modules'],
});

/**
 * split_linear_mapping() for one leaf: a table of the next level down whose entries map the same
 * memory with the same protection. 0 or -ENOMEM.
 */
export function splitLeaf(k: Kernel, table: number, index: number, level: number): number {
  const lo = k.pt.readLo(table, index);
  const pfn = entryPfn(k, { table, index });
  const child = allocPages(k, 0, 'kernel');
  if (child === undefined) return -ENOMEM;
  k.pt.adoptTable(child);
  const prot = lo & 0x3ff;
  const step = LEVEL_PAGES[level - 1]!;
  for (let i = 0; i < 512; i++) k.pt.setLeaf(child, i, pfn + i * step, prot);
  k.pt.setTable(table, index, child);
  // The vmemmap's backing is now freed in pieces of the smaller size.
  const order = k.pt.vmemmapBlocks.get(pfn);
  if (order !== undefined) {
    k.pt.vmemmapBlocks.delete(pfn);
    for (let i = 0; i < 512; i++) k.pt.vmemmapBlocks.set(pfn + i * step, 9 * (level - 1));
  }
  return 0;
}

/** riscv-split: a leaf the range covers only partly is split and the walk goes on inside it. */
const splitTeardown: TeardownPolicy = {
  ...riscv612Teardown,
  leaf(w, e, level, addr, next) {
    const span = LEVEL_PAGES[level]!;
    const leafStart = addr - (addr % span);
    if (addr === leafStart && next === leafStart + span) {
      clearLeaf(w, e, level, addr);
      return 'done';
    }
    // No memory for the table: keep the leaf (removed memory stays mapped) rather than lose present memory.
    if (splitLeaf(w.k, e.table, e.index, level)) return 'done';
    return 'descend';
  },
};

export const riscvSplit: ArchOps = riscvArch('riscv-split', { ...riscv612Parts, teardown: splitTeardown });

/**
 * Does `vpn` lie strictly inside a leaf (not on its first page)? arm64 7.1's addr_splits_kernel_leaf()
 * on riscv page tables: a boundary inside a leaf of any size splits it.
 */
export function addrSplitsKernelLeaf(k: Kernel, vpn: number): boolean {
  const hit = k.pt.lookup(vpn);
  if (!hit.leaf) return false;
  return vpn % LEVEL_PAGES[hit.level]! !== 0;
}

/** can_unmap_without_split(): the linear-map and vmemmap edges of [pfn, pfn + nr) are leaf boundaries. */
export function canUnmapWithoutSplit(k: Kernel, pfn: number, nr: number, label: string): boolean {
  const pa0 = BigInt(pfn) << 12n;
  const pa1 = BigInt(pfn + nr) << 12n;
  if (addrSplitsKernelLeaf(k, linearVpn(k, pfn)) || addrSplitsKernelLeaf(k, linearVpn(k, pfn + nr))) {
    k.log.warn(`${label}[${hexll(pa0).slice(2)} ${hexll(pa1).slice(2)}] splits a leaf entry in linear map`);
    return false;
  }
  const [vs, ve] = memmapVpnRange(k, pfn, nr);
  if (addrSplitsKernelLeaf(k, vs) || addrSplitsKernelLeaf(k, ve)) {
    k.log.warn(`${label}[${hexll(pa0).slice(2)} ${hexll(pa1).slice(2)}] splits a leaf entry in vmemmap`);
    return false;
  }
  return true;
}

/** NOTIFY_BAD as memory_notify's caller sees it (notifier_to_errno): -EPERM. */
export const NOTIFY_BAD_ERRNO = -1;

/** The offline-time check as a memory notifier: going offline must not split a kernel leaf. */
export function rejectSplitNotifier(k: Kernel): (action: MemoryAction, arg: MemoryNotify) => number {
  return (action, arg) => {
    if (action !== 'going-offline' && action !== 'offline') return 0;
    return canUnmapWithoutSplit(k, arg.startPfn, arg.nrPages, '') ? 0 : NOTIFY_BAD_ERRNO;
  };
}

/**
 * riscv-reject: refuse, like arm64 7.1, any removal whose edges would split a leaf of the linear map
 * or the vmemmap: at offline time (memory notifier) and, since memory added but never onlined
 * meets no notifier, when remove_memory is asked for the range (-EBUSY).
 */
export const riscvReject: ArchOps = riscvArch('riscv-reject', riscv612Parts, {
  initcalls: (k) => k.memoryNotifiers.push(rejectSplitNotifier(k)),
  archPrepareRemoveMemory: (k, pfn, nr) => (canUnmapWithoutSplit(k, pfn, nr, 'remove_memory: ') ? 0 : -EBUSY),
});
