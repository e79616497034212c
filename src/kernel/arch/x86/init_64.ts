/**
 * x86-64's memory hot-remove (arch/x86/mm/init_64.c of Linux 6.12,
 * remove_pagetable -> remove_p4d_table -> remove_pud_table -> remove_pmd_table
 * -> remove_pte_table) applied to RISC-V page tables, exactly as written:
 *
 * - a PUD or PMD leaf is cleared only when the range covers it entirely; a
 *   partly covered PUD leaf is then taken for a pointer to a PMD table, so the
 *   data page the leaf maps is walked as PMD entries and, being "empty", freed
 *   as a page table (finding F5);
 * - a vmemmap PMD leaf partly covered is freed only once all of it is unused
 *   (x86 marks unused struct pages with PAGE_UNUSED; the model asks whether any
 *   section it describes still has a memmap);
 * - flush_tlb_all() after every PTE table and at the end; PUD tables are freed
 *   only with five levels. Linear maps use 1 GiB and 2 MiB pages (gbpages).
 */
import type { ArchOps } from '../arch_ops.js';
import { LEVEL_PAGES } from '../riscv/pgtable.js';
import { riscv612Parts, riscvArch } from '../riscv/index.js';
import {
  clearLeaf,
  freeTablePage,
  type EntryRef,
  type TeardownPolicy,
  type TeardownWalk,
} from '../riscv/teardown.js';
import type { Kernel } from '../../kernel.js';
import { pageZone, structPageAccess } from '../../mm/page_alloc.js';
import { pfnToSectionNr } from '../../mm/mmzone.js';
import { STRUCT_PAGE_SIZE } from '../../mm/mm_types.js';

/** x86 maps with 1 GiB pages (gbpages) and 2 MiB pages, never 512 GiB ones. */
export function x86LinearMapSize(k: Kernel, pfn: number, vpn: number, pages: number): number {
  const aligned = (n: number): boolean => pfn % n === 0 && vpn % n === 0 && pages >= n;
  if (k.layout.l4 && aligned(LEVEL_PAGES[2]!)) return 2;
  if (aligned(LEVEL_PAGES[1]!)) return 1;
  return 0;
}

/** vmemmap_pmd_is_unused(): no struct page of the 2 MiB vmemmap leaf at vpn describes memory with a memmap. */
function vmemmapPmdIsUnused(k: Kernel, leafVpn: number): boolean {
  const L = k.layout;
  const perPage = 4096 / STRUCT_PAGE_SIZE;
  const firstPfn = (leafVpn - L.vmemmapStartVpn) * perPage + L.vmemmapStartPfn;
  const lastPfn = firstPfn + 512 * perPage - 1;
  for (let s = pfnToSectionNr(firstPfn); s <= pfnToSectionNr(lastPfn); s++) {
    if (k.sparse.get(s)?.hasMemMap) return false;
  }
  return true;
}

/**
 * free_pagetable(): the struct page is read first (PageReserved), then the page goes to the buddy
 * allocator. A page that never was a page table is recorded (the checker reports it); if its struct
 * page is already unmapped the read oopses, as on the real machine.
 */
function freePagetable(w: TeardownWalk, pfn: number): void {
  const k = w.k;
  if (k.pt.tablePages.has(pfn)) {
    freeTablePage(k, pfn);
    return;
  }
  k.bogusTableFrees.push(pfn);
  structPageAccess(k, pfn, 'free_pagetable');
  // The "table" was a page of memory: it joins the free lists of whatever zone its struct page names.
  const zone = pageZone(k, pfn);
  if (zone && !zone.free.isFree(pfn)) zone.free.add(pfn, pfn + 1);
}

/** free_{pte,pmd,pud}_table(): all 512 entries none, then free and clear the pointer. */
function freeTableIfNone(w: TeardownWalk, tablePfn: number, parent: EntryRef): void {
  if (!w.k.pt.tableEmpty(tablePfn)) return;
  freePagetable(w, tablePfn);
  w.k.pt.clear(parent.table, parent.index);
}

const x86RemovePagetable: TeardownPolicy = {
  leaf(w, e, level, addr, next) {
    const span = LEVEL_PAGES[level]!;
    const covered = addr % span === 0 && next % span === 0;
    // remove_p4d_table(): BUILD_BUG_ON(p4d_leaf()): there is no such leaf on x86; its pointer is followed.
    if (level >= 3) return 'descend';
    if (level === 2) {
      if (covered) {
        clearLeaf(w, e, level, addr);
        return 'done';
      }
      // remove_pud_table(): not covered, so pmd_offset(pud, 0) -- the leaf's page read as a PMD table.
      return 'descend';
    }
    // remove_pmd_table().
    if (covered) clearLeaf(w, e, level, addr);
    else if (w.isVmemmap && vmemmapPmdIsUnused(w.k, addr - (addr % span))) clearLeaf(w, e, level, addr);
    return 'done';
  },
  pte(w, e, addr) {
    clearLeaf(w, e, 0, addr);
  },
  afterTable(w, tablePfn, level, parent) {
    // remove_pte_table() ends with flush_tlb_all(), before free_pte_table().
    if (level === 0) w.k.flushTlbAll();
    // remove_p4d_table(): PUD tables are freed only with five levels.
    if (level === 2 && !w.k.layout.l5) return;
    freeTableIfNone(w, tablePfn, parent);
  },
  finish(w) {
    w.k.flushTlbAll();
  },
};

export const x86612: ArchOps = riscvArch('x86-6.12', {
  ...riscv612Parts,
  linearMapSize: x86LinearMapSize,
  teardown: x86RemovePagetable,
});
