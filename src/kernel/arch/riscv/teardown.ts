/**
 * The teardown walk of arch/riscv/mm/init.c (remove_pgd_mapping -> p4d -> pud
 * -> pmd -> pte), which serves both the linear map and the vmemmap, with its
 * decisions taken by a policy: what to do with a leaf, whether to free a
 * table, when to flush. riscv 6.12's policy is below; other strategies
 * (arm64's, x86's, a fixed riscv) supply theirs and share this walk.
 *
 * Levels are hardware levels (0 = PTE). The kernel folds levels away per
 * mode: Sv48's PGD entry doubles as the P4D, Sv39's as the P4D and the PUD.
 * The walk keeps the kernel's consequences of that: a leaf in the root is
 * never cleared, and the table hanging under the root is never freed.
 */
import type { Kernel } from '../../kernel.js';
import { KernelOops } from '../../errno.js';
import { PTE_V, ptePpn } from '../../../hw/pte.js';
import { _PAGE_LEAF, _PAGE_PROT_NONE, LEVEL_PAGES, tableIndex } from './pgtable.js';
import { freePages, freeReservedPage, pageReserved } from '../../mm/page_alloc.js';
import { vmemAltmapFree, type VmemAltmap } from '../../mm/sparse_vmemmap.js';

/** One entry of a page table: the table page it sits in and its index. */
export interface EntryRef {
  table: number;
  index: number;
}

/** One run of the walk: what it removes and for which map. */
export interface TeardownWalk {
  readonly k: Kernel;
  readonly isVmemmap: boolean;
  readonly altmap: VmemAltmap | undefined;
  /** The range asked for, [start, end) in page numbers. */
  readonly start: number;
  readonly end: number;
}

/** What a policy did with a leaf: dealt with it, or wants it walked as a table (x86's reading, or after a split). */
export type LeafAction = 'done' | 'descend';

export interface TeardownPolicy {
  /**
   * A present leaf at `level` while [addr, next) of it is being removed
   * (riscv 6.12: the whole leaf goes, whatever part was asked for).
   */
  leaf(w: TeardownWalk, e: EntryRef, level: number, addr: number, next: number): LeafAction;
  /** A present PTE in the range. */
  pte(w: TeardownWalk, e: EntryRef, addr: number): void;
  /**
   * After walking the table below `parent` (entries of `level`) for [addr, next): free it if
   * this strategy frees such tables.
   */
  afterTable(
    w: TeardownWalk,
    tablePfn: number,
    level: number,
    parent: EntryRef,
    addr: number,
    next: number,
  ): void;
  /** After the whole range (riscv: one flush of every TLB). */
  finish(w: TeardownWalk, va: number, end: number): void;
}

export function addrEnd(addr: number, end: number, span: number): number {
  const boundary = (Math.floor(addr / span) + 1) * span;
  return boundary - 1 < end - 1 ? boundary : end;
}

export function entryPfn(k: Kernel, e: EntryRef): number {
  return ptePpn(k.pt.readLo(e.table, e.index), k.pt.readHi(e.table, e.index));
}

/** pte_present / pmd_present (with THP) / pud_present and above, on the entry's low word. */
function present(level: number, lo: number): boolean {
  if (level === 0) return (lo & (PTE_V | _PAGE_PROT_NONE)) !== 0;
  if (level === 1) return (lo & (PTE_V | _PAGE_PROT_NONE | _PAGE_LEAF)) !== 0;
  return (lo & PTE_V) !== 0;
}

function isLeaf(lo: number): boolean {
  return (lo & PTE_V) !== 0 && (lo & _PAGE_LEAF) !== 0;
}

function walkTable(
  w: TeardownWalk,
  policy: TeardownPolicy,
  table: number,
  level: number,
  addr: number,
  end: number,
): void {
  const pt = w.k.pt;
  if (level === 0) {
    for (let a = addr; a < end; a++) {
      const e = { table, index: tableIndex(a, 0) };
      if (present(0, pt.readLo(table, e.index))) policy.pte(w, e, a);
    }
    return;
  }
  const span = LEVEL_PAGES[level]!;
  for (let a = addr, next = 0; a < end; a = next) {
    next = addrEnd(a, end, span);
    const e = { table, index: tableIndex(a, level) };
    const lo = pt.readLo(table, e.index);
    if (!present(level, lo)) continue;
    const leaf = isLeaf(lo);
    if (leaf && policy.leaf(w, e, level, a, next) === 'done') continue;
    const child = entryPfn(w.k, e);
    // A leaf taken for a pointer may point where the machine has no memory: the kernel's read faults.
    if (leaf && !w.k.mem.isBacked(child))
      throw new KernelOops(w.k.layout.va(BigInt(child) << 12n), 'remove_pagetable');
    walkTable(w, policy, child, level - 1, a, next);
    policy.afterTable(w, child, level - 1, e, a, next);
  }
}

/** remove_pgd_mapping() over vmemmap or linear-map page numbers [va, end). */
export function removePgdMapping(
  k: Kernel,
  policy: TeardownPolicy,
  va: number,
  end: number,
  isVmemmap: boolean,
  altmap: VmemAltmap | undefined,
): void {
  const w: TeardownWalk = { k, isVmemmap, altmap, start: va, end };
  const top = k.pt.rootLevel;
  const l5 = k.layout.l5;
  for (let a = va, next = 0; a < end; a = next) {
    next = addrEnd(a, end, LEVEL_PAGES[top]!);
    const e = { table: k.pt.rootPfn, index: tableIndex(a, top) };
    const lo = k.pt.readLo(e.table, e.index);
    if ((lo & PTE_V) === 0) continue;
    // pgd_leaf() is always false; with folded levels the entry is also the p4d (and pud),
    // whose leaf the kernel skips without clearing.
    if (!l5 && isLeaf(lo)) continue;
    walkTable(w, policy, entryPfn(k, e), top - 1, a, next);
  }
  policy.finish(w, va, end);
}

// ---- the pieces every policy uses ------------------------------------------------------

/** free_vmemmap_storage(): altmap pages go back to the altmap, boot pages are freed as reserved pages. */
export function freeVmemmapStorage(w: TeardownWalk, pfn: number, order: number): void {
  const k = w.k;
  k.pt.vmemmapBlocks.delete(pfn);
  if (w.altmap) {
    vmemAltmapFree(w.altmap, 2 ** order);
    return;
  }
  if (pageReserved(k, pfn)) {
    for (let i = 0; i < 2 ** order; i++) freeReservedPage(k, pfn + i);
    return;
  }
  freePages(k, pfn, order);
}

/** free_{pte,pmd,pud}_table(): a reserved (boot) table page is freed as a reserved page. */
export function freeTablePage(k: Kernel, pfn: number): void {
  k.pt.releaseTable(pfn);
  if (pageReserved(k, pfn)) freeReservedPage(k, pfn);
  else freePages(k, pfn, 0);
}

/**
 * Clears the leaf at `level` holding addr (journaled for the checker); for the vmemmap, frees what
 * it mapped, after `beforeFree` (arm64 flushes the leaf's TLB entries there).
 */
export function clearLeaf(
  w: TeardownWalk,
  e: EntryRef,
  level: number,
  addr: number,
  beforeFree?: () => void,
): void {
  const pfn = entryPfn(w.k, e);
  w.k.pt.clear(e.table, e.index);
  if (level > 0) {
    // The journal keeps what explains a lost mapping: linear-map leaves, and vmemmap leaves cleared beyond the range.
    const span = LEVEL_PAGES[level]!;
    const vpn = addr - (addr % span);
    if (!w.isVmemmap || vpn < w.start || vpn + span > w.end)
      w.k.clearedLeaves.push({ vpn, level, pfn, askedStart: w.start, askedEnd: w.end });
  }
  beforeFree?.();
  if (w.isVmemmap) freeVmemmapStorage(w, pfn, 9 * level);
}

/** Frees the table below `parent` when all 512 entries are empty, and clears the pointer to it. */
export function freeTableIfEmpty(w: TeardownWalk, tablePfn: number, parent: EntryRef): void {
  if (!w.k.pt.tableEmpty(tablePfn)) return;
  freeTablePage(w.k, tablePfn);
  w.k.pt.clear(parent.table, parent.index);
}

/**
 * Linux 6.12 riscv: a leaf goes whole whatever part of it the range covers
 * (finding F1), tables are freed when empty, and one flush_tlb_all ends the
 * walk, after the table pages were already freed.
 */
export const riscv612Teardown: TeardownPolicy = {
  leaf(w, e, level, addr) {
    clearLeaf(w, e, level, addr);
    return 'done';
  },
  pte(w, e, addr) {
    clearLeaf(w, e, 0, addr);
  },
  afterTable(w, tablePfn, _level, parent) {
    freeTableIfEmpty(w, tablePfn, parent);
  },
  finish(w) {
    w.k.flushTlbAll();
  },
};
