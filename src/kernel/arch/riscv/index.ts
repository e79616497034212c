/**
 * The riscv architecture as the kernel is built with it: Linux 6.12's
 * arch/riscv/mm code behind the `ArchOps` seam, with the parts a strategy may
 * replace (leaf sizes, teardown policy, vmemmap population) given as
 * `RiscvMmParts`. `riscv612Parts` is the recorded kernel.
 */
import type { ArchOps } from '../arch_ops.js';
import type { Kernel } from '../../kernel.js';
import { KernelLayout } from './layout.js';
import { PAGE_KERNEL } from './pgtable.js';
import { archAddMemory, archRemoveMemory, bestMapSize, vmemmapFree, type RiscvMmParts } from './init.js';
import { riscv612Teardown } from './teardown.js';
import { vmemmapPopulateHugepages } from '../../mm/sparse_vmemmap.js';
import {
  freeInitmem,
  markRodataRo,
  pgtableCacheInit,
  reserveMemblockReservedRegions,
  setupArch,
  swiotlbInit,
} from './setup.js';

/** Linux 6.12 as recorded: best_map_size leaves, the 6.12 teardown, vmemmap_populate_hugepages. */
export const riscv612Parts: RiscvMmParts = {
  linearMapSize: bestMapSize,
  teardown: riscv612Teardown,
  vmemmapPopulate: vmemmapPopulateHugepages,
};

/** What a strategy changes outside the mm parts: boot-time preallocation, initcalls, a removal veto. */
export interface RiscvArchExtras {
  /** The areas preallocate_pgd_pages_range() covers (6.12: all four). */
  preallocate?: readonly string[];
  /** More initcalls (registering memory notifiers). */
  initcalls?: (k: Kernel) => void;
  archPrepareRemoveMemory?: ArchOps['archPrepareRemoveMemory'];
}

/** The riscv ArchOps around a set of parts; `name` is the strategy's. */
export function riscvArch(name: string, parts: RiscvMmParts, extras: RiscvArchExtras = {}): ArchOps {
  return {
    name,
    createLayout: (mode, profile) => new KernelLayout(mode, profile),
    archAddMemory: (k, nid, startPfn, nrPages, params) =>
      archAddMemory(k, parts, nid, startPfn, nrPages, params),
    archRemoveMemory: (k, startPfn, nrPages, altmap) => archRemoveMemory(k, parts, startPfn, nrPages, altmap),
    archGetMappableRange: (k) => k.layout.mappableRange(),
    pageKernel: PAGE_KERNEL,
    vmemmapPopulate: (k, start, end, _nid, altmap, early) =>
      parts.vmemmapPopulate(k, start, end, altmap, early),
    vmemmapFree: (k, start, end, altmap) => vmemmapFree(k, parts, start, end, altmap),
    setupArch,
    memInit: swiotlbInit,
    pgtableCacheInit: (k) => pgtableCacheInit(k, extras.preallocate),
    archInitcalls: (k) => {
      reserveMemblockReservedRegions(k);
      extras.initcalls?.(k);
    },
    ...(extras.archPrepareRemoveMemory ? { archPrepareRemoveMemory: extras.archPrepareRemoveMemory } : {}),
    freeInitmem,
    markRodataRo,
  };
}

export const riscv612 = riscvArch('riscv-6.12', riscv612Parts);
