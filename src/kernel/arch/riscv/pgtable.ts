/**
 * The kernel's page tables (swapper_pg_dir and everything below it), read and
 * written only through simulated physical memory, the way the kernel does.
 *
 * Levels are the hardware's: 0 is the PTE level, `levels - 1` the root. The
 * kernel's five names map onto them per mode (Sv57: PGD P4D PUD PMD PTE; Sv48
 * folds P4D into the PGD; Sv39 folds P4D and PUD), see `levelName`.
 *
 * Virtual addresses are page numbers of the full 64-bit address (va >> 12),
 * which fit a JS number; physical frames are pfns.
 */
import type { Scheduler } from '../../sched/sched.js';
import type { PhysMem } from '../../../hw/physmem.js';
import { newPgtableStats, type PgtableStats } from '../../pgtable_stats.js';
import { PTES_PER_TABLE } from '../../../hw/paging.js';
import { pteLo, pteHi, ptePpn, PTE_R, PTE_W, PTE_X, PTE_V, PTE_G, PTE_A, PTE_D } from '../../../hw/pte.js';

export const _PAGE_TABLE = PTE_V;
export const _PAGE_LEAF = PTE_R | PTE_W | PTE_X;
/** _PAGE_PROT_NONE: riscv reuses the G bit to mark a present entry with no access. */
export const _PAGE_PROT_NONE = PTE_G;
/** PAGE_KERNEL: R W V A D G. */
export const PAGE_KERNEL = PTE_R | PTE_W | PTE_V | PTE_A | PTE_D | PTE_G;
export const PAGE_KERNEL_READ = PAGE_KERNEL & ~PTE_W;
export const PAGE_KERNEL_EXEC = PAGE_KERNEL | PTE_X;
export const PAGE_KERNEL_READ_EXEC = PAGE_KERNEL_READ | PTE_X;

/** Pages covered by one entry at each hardware level. */
export const LEVEL_PAGES = [1, 512, 512 ** 2, 512 ** 3, 512 ** 4, 512 ** 5] as const;

/** Who gives page-table pages: memblock at boot, the buddy allocator later. */
export interface PageTableAllocator {
  /** Returns the pfn of a page to use as a page table, or undefined when out of memory. */
  allocTable(level: number): number | undefined;
}

export function levelPages(level: number): number {
  return LEVEL_PAGES[level]!;
}

export function tableIndex(vpn: number, level: number): number {
  return Math.floor(vpn / LEVEL_PAGES[level]!) % PTES_PER_TABLE;
}

/** A visitor for `walk`: leaves and holes in address order. */
export interface PageTableVisitor {
  leaf(vpn: number, level: number, lo: number, hi: number): void;
  /** Empty entries at `level` from vpn up to endVpn (a run of them, each as the kernel's pte_hole). */
  hole(vpn: number, level: number, endVpn: number): void;
}

export class KernelPageTables {
  /** Every page the kernel has taken for a page table and not freed (for the leak checker). */
  readonly tablePages = new Set<number>();
  /** vmemmap backing blocks the kernel mapped and not freed: first pfn -> order. */
  readonly vmemmapBlocks = new Map<number, number>();
  /**
   * Non-zero entries per table page, kept up to date by write/clear, so that
   * "are all 512 entries empty" (asked after every section a teardown touches)
   * costs one lookup. A table not counted yet is counted on first use.
   */
  private readonly used = new Map<number, number>();
  /** The explorer's scheduler: each write and table free is a point where another actor may run. */
  sched: Scheduler | undefined = undefined;

  constructor(
    readonly mem: PhysMem,
    readonly levels: 3 | 4 | 5,
    readonly rootPfn: number,
    /** Where writes, table allocations and frees are counted (the kernel's, or a private set). */
    readonly stats: PgtableStats = newPgtableStats(),
  ) {}

  get rootLevel(): number {
    return this.levels - 1;
  }

  /**
   * The kernel's name for a hardware level in this mode (ptdump's column):
   * ptdump_init() names the folded levels "PGD", so sv39's root (walked as
   * the PUD level) prints as PGD.
   */
  levelName(level: number): string {
    const names5 = ['PTE', 'PMD', 'PUD', 'P4D', 'PGD'];
    if (this.levels === 5) return names5[level]!;
    if (this.levels === 4) return ['PTE', 'PMD', 'PUD', 'PGD'][level]!;
    return ['PTE', 'PMD', 'PGD'][level]!;
  }

  readLo(tablePfn: number, index: number): number {
    return this.mem.readLo(tablePfn, index);
  }

  readHi(tablePfn: number, index: number): number {
    return this.mem.readHi(tablePfn, index);
  }

  write(tablePfn: number, index: number, lo: number, hi: number): void {
    if (this.sched) this.announceWrite(tablePfn, index, lo, hi);
    this.stats.pteWrites++;
    const n = this.used.get(tablePfn);
    if (n !== undefined) {
      const was = this.readLo(tablePfn, index) !== 0 || this.readHi(tablePfn, index) !== 0;
      const is = lo !== 0 || hi !== 0;
      if (was !== is) this.used.set(tablePfn, n + (is ? 1 : -1));
    }
    this.mem.write64(tablePfn, index, lo, hi);
  }

  private announceWrite(tablePfn: number, index: number, lo: number, hi: number): void {
    const oldLo = this.readLo(tablePfn, index);
    const oldHi = this.readHi(tablePfn, index);
    this.sched!.point({
      kind: 'pte-write',
      text: `write entry ${index} of table pfn 0x${tablePfn.toString(16)}`,
      pte: { table: tablePfn, index, oldLo, oldHi, lo, hi },
    });
  }

  /** A walker about to read a table page (a scheduling point for the explorer, nothing otherwise). */
  readTable(tablePfn: number): void {
    this.sched?.point({ kind: 'pt-read', text: `read table pfn 0x${tablePfn.toString(16)}`, table: tablePfn });
  }

  clear(tablePfn: number, index: number): void {
    this.write(tablePfn, index, 0, 0);
  }

  /** The entry index of vpn in a table of `level` (pgd_index, pud_index, ...). */
  index(vpn: number, level: number): number {
    return tableIndex(vpn, level);
  }

  /** p?d_populate_kernel(): point an entry at a lower table. */
  setTable(tablePfn: number, index: number, childPfn: number): void {
    this.write(tablePfn, index, pteLo(childPfn, _PAGE_TABLE), pteHi(childPfn));
  }

  /** set_p?d(pfn_p?d(pfn, prot)): make an entry a leaf. */
  setLeaf(tablePfn: number, index: number, pfn: number, prot: number): void {
    this.write(tablePfn, index, pteLo(pfn, prot), pteHi(pfn));
  }

  /** p?d_leaf(): a valid entry with any of R, W, X. */
  isLeaf(tablePfn: number, index: number): boolean {
    const lo = this.readLo(tablePfn, index);
    return (lo & PTE_V) !== 0 && (lo & _PAGE_LEAF) !== 0;
  }

  /** A fresh page becomes a page table: zeroed, registered, counted. */
  adoptTable(pfn: number): void {
    this.stats.tablesAllocated++;
    this.mem.zero(pfn);
    this.tablePages.add(pfn);
    this.used.set(pfn, 0);
  }

  /** A page stops being a page table (it is being freed). */
  releaseTable(pfn: number): void {
    this.sched?.point({ kind: 'pt-free', text: `free page table pfn 0x${pfn.toString(16)}`, table: pfn });
    this.stats.tablesFreed++;
    this.tablePages.delete(pfn);
    this.used.delete(pfn);
  }

  isNone(tablePfn: number, index: number): boolean {
    return this.readLo(tablePfn, index) === 0 && this.readHi(tablePfn, index) === 0;
  }

  entryPfn(tablePfn: number, index: number): number {
    return ptePpn(this.readLo(tablePfn, index), this.readHi(tablePfn, index));
  }

  /** True when every one of the table's 512 entries is zero. */
  tableEmpty(tablePfn: number): boolean {
    let n = this.used.get(tablePfn);
    if (n === undefined) {
      n = 0;
      const words = this.mem.read(tablePfn);
      for (let i = 0; i < words.length; i += 2) if (words[i] !== 0 || words[i + 1] !== 0) n++;
      this.used.set(tablePfn, n);
    }
    return n === 0;
  }

  /**
   * create_pgd_mapping and its per-level helpers: map one leaf of `leafLevel`
   * at vpn -> pfn, allocating missing tables on the way down. Like the kernel,
   * an existing entry on the way is followed as a table whatever it holds, and
   * an existing leaf entry is left alone. Returns false when a table
   * allocation failed (the kernel would BUG; callers turn it into -ENOMEM).
   */
  createMapping(
    vpn: number,
    pfn: number,
    leafLevel: number,
    prot: number,
    alloc: PageTableAllocator,
  ): boolean {
    let table = this.rootPfn;
    for (let level = this.rootLevel; level > leafLevel; level--) {
      const idx = tableIndex(vpn, level);
      if (this.isNone(table, idx)) {
        const next = alloc.allocTable(level - 1);
        if (next === undefined) return false;
        this.adoptTable(next);
        this.write(table, idx, pteLo(next, _PAGE_TABLE), pteHi(next));
        table = next;
      } else {
        table = this.entryPfn(table, idx);
      }
    }
    const idx = tableIndex(vpn, leafLevel);
    if (this.isNone(table, idx)) this.write(table, idx, pteLo(pfn, prot), pteHi(pfn));
    return true;
  }

  /** Does a leaf map vpn? (lookup() without the allocation, for checks on hot paths.) */
  isMapped(vpn: number): boolean {
    let table = this.rootPfn;
    for (let level = this.rootLevel; ; level--) {
      const idx = tableIndex(vpn, level);
      const lo = this.readLo(table, idx);
      if ((lo & PTE_V) === 0) return false;
      if ((lo & _PAGE_LEAF) !== 0) return true;
      if (level === 0) return false;
      table = ptePpn(lo, this.readHi(table, idx));
    }
  }

  /** How many pages from vpn on the leaf mapping vpn still covers, or 0 when no leaf maps it. */
  mappedRun(vpn: number): number {
    const hit = this.lookup(vpn);
    if (!hit.leaf) return 0;
    const span = LEVEL_PAGES[hit.level]!;
    return span - (vpn % span);
  }

  /**
   * The table pfn and index of the entry that maps vpn at its leaf, or of the
   * first empty entry on the way; `level` says where the walk stopped.
   */
  lookup(vpn: number): { tablePfn: number; index: number; level: number; leaf: boolean } {
    let table = this.rootPfn;
    for (let level = this.rootLevel; ; level--) {
      const idx = tableIndex(vpn, level);
      const lo = this.readLo(table, idx);
      if ((lo & PTE_V) === 0 || (lo & _PAGE_LEAF) !== 0 || level === 0) {
        return { tablePfn: table, index: idx, level, leaf: (lo & PTE_V) !== 0 && (lo & _PAGE_LEAF) !== 0 };
      }
      table = ptePpn(lo, this.readHi(table, idx));
    }
  }

  /**
   * Visits [startVpn, endVpn) in address order as the generic page walker
   * does for ptdump: each present leaf once (at its first address), each
   * empty entry as a hole at its level. endVpn may be 2^52 (end of space).
   */
  walk(startVpn: number, endVpn: number, visitor: PageTableVisitor): void {
    this.walkTable(this.rootPfn, this.rootLevel, startVpn, endVpn, visitor);
  }

  private walkTable(table: number, level: number, start: number, end: number, v: PageTableVisitor): void {
    // A reader (ptdump) may be preempted before it reads each table page.
    if (this.sched && table !== this.rootPfn) this.readTable(table);
    const span = LEVEL_PAGES[level]!;
    let words = this.mem.read(table);
    let vpn = start;
    while (vpn < end) {
      const base = vpn - (vpn % span);
      const next = Math.min(base + span, end);
      const idx = tableIndex(vpn, level);
      const lo = words[2 * idx]!;
      const hi = words[2 * idx + 1]!;
      if (lo === 0 && hi === 0) {
        // Most of a kernel table is empty: one call for the run of empty entries.
        let runEnd = next;
        for (let i = idx + 1; runEnd < end && i < 512 && words[2 * i] === 0 && words[2 * i + 1] === 0; i++)
          runEnd = Math.min(runEnd + span, end);
        v.hole(vpn, level, runEnd);
        vpn = runEnd;
        continue;
      }
      if (level === 0 || (lo & _PAGE_LEAF) !== 0) {
        // The kernel's walker reports a leaf by its entry: a present leaf or, at
        // the PTE level, whatever non-zero value is there.
        v.leaf(vpn, level, lo, hi);
      } else {
        this.walkTable(ptePpn(lo, hi), level - 1, vpn, next, v);
        // The child walk may have been preempted: read this table afresh (it may be freed and cleared).
        words = this.mem.read(table);
      }
      vpn = next;
    }
  }
}
