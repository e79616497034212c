/**
 * vmalloc() and vfree() as far as page tables go: a virtual range in the
 * vmalloc area (lowest fit above VMALLOC_START, one guard page after each
 * area), one page per virtual page, and the kernel page tables populated the
 * way vmap_pages_range() does it: a missing table is allocated and then
 * installed under init_mm.page_table_lock if the entry is still empty
 * (__pte_alloc_kernel and friends). vfree() clears the PTEs but keeps the
 * tables, then flushes the range.
 */
import type { Kernel } from '../kernel.js';
import { ENOMEM } from '../errno.js';
import { PTE_V, ptePpn } from '../../hw/pte.js';
import { allocPages, freePages } from './page_alloc.js';
import { withLock } from '../locking/hotplug_locks.js';

export interface VmArea {
  /** First virtual page (the kernel's vpn, va >> 12). */
  startVpn: number;
  pages: number;
  /** The page behind each virtual page. */
  pfns: number[];
}

/** The kernel's vmap_area tree, as a sorted list. */
export class VmapAreas {
  readonly areas: VmArea[] = [];
  /**
   * Where the search for a free range starts: VMALLOC_START, unless a scenario moves it (the
   * explorer's shared-table layout).
   */
  startVpn: number | undefined = undefined;
}

/** The first free range of `pages` (+1 guard page) at or above the area's start. */
function findVmapLowest(k: Kernel, pages: number): number | undefined {
  const start = k.vmap.startVpn ?? Number(k.layout.vmallocStart >> 12n);
  const end = Number(k.layout.vmallocEnd >> 12n);
  let vpn = start;
  for (const a of k.vmap.areas) {
    if (a.startVpn + a.pages + 1 <= vpn) continue;
    if (a.startVpn >= vpn + pages + 1) break;
    vpn = a.startVpn + a.pages + 1;
  }
  return vpn + pages + 1 <= end ? vpn : undefined;
}

/**
 * The table below entry `index` of `table` (a table of `level`), allocated and installed if the
 * entry is empty: pmd_alloc()/pte_alloc_kernel() with the check repeated under the lock.
 */
function tableAllocKernel(k: Kernel, table: number, index: number): number | undefined {
  const lo = k.pt.readLo(table, index);
  if ((lo & PTE_V) !== 0) return ptePpn(lo, k.pt.readHi(table, index));
  const fresh = allocPages(k, 0, 'kernel');
  if (fresh === undefined) return undefined;
  k.mem.zero(fresh);
  return withLock(k, k.locks.initMmPageTable, 'write', () => {
    const now = k.pt.readLo(table, index);
    if ((now & PTE_V) !== 0) {
      // Someone populated it meanwhile: use theirs, give ours back.
      freePages(k, fresh, 0);
      return ptePpn(now, k.pt.readHi(table, index));
    }
    k.pt.adoptTable(fresh);
    k.pt.setTable(table, index, fresh);
    return fresh;
  });
}

/** vmap_pages_range() for one page: walk down, allocating tables, then set the PTE. */
function vmapPage(k: Kernel, vpn: number, pfn: number): number {
  let table = k.pt.rootPfn;
  for (let level = k.pt.rootLevel; level > 0; level--) {
    const idx = k.pt.index(vpn, level);
    if (k.pt.isLeaf(table, idx)) return -ENOMEM; // a huge mapping where vmalloc wants tables
    const next = tableAllocKernel(k, table, idx);
    if (next === undefined) return -ENOMEM;
    k.pt.readTable(next);
    table = next;
  }
  k.pt.setLeaf(table, k.pt.index(vpn, 0), pfn, k.arch.pageKernel);
  return 0;
}

/** __vmalloc_node_range() for `pages` pages: the area, or -ENOMEM. */
export function vmalloc(k: Kernel, pages: number): VmArea | number {
  if (!Number.isInteger(pages) || pages <= 0) return -ENOMEM;
  const startVpn = findVmapLowest(k, pages);
  if (startVpn === undefined) return -ENOMEM;
  const area: VmArea = { startVpn, pages, pfns: [] };
  // The range is reserved first (alloc_vmap_area), then filled.
  const at = k.vmap.areas.findIndex((a) => a.startVpn > startVpn);
  k.vmap.areas.splice(at < 0 ? k.vmap.areas.length : at, 0, area);
  for (let i = 0; i < pages; i++) {
    const pfn = allocPages(k, 0, 'kernel');
    if (pfn === undefined) {
      vfree(k, area);
      return -ENOMEM;
    }
    area.pfns.push(pfn);
    if (vmapPage(k, startVpn + i, pfn) < 0) {
      vfree(k, area);
      return -ENOMEM;
    }
  }
  return area;
}

/** vfree(): unmap (tables stay), flush the range, free the pages, release the range. */
export function vfree(k: Kernel, area: VmArea): void {
  for (let i = 0; i < area.pfns.length; i++) {
    const hit = k.pt.lookup(area.startVpn + i);
    if (hit.level === 0 && (k.pt.readLo(hit.tablePfn, hit.index) & PTE_V) !== 0) k.pt.clear(hit.tablePfn, hit.index);
  }
  k.flushTlbKernelRange(area.startVpn, area.startVpn + area.pages);
  for (const pfn of area.pfns) freePages(k, pfn, 0);
  const i = k.vmap.areas.indexOf(area);
  if (i >= 0) k.vmap.areas.splice(i, 1);
}

/** The page a vmalloc address maps now, or undefined (for the explorer's "mapping lost" check). */
export function vmallocToPfn(k: Kernel, vpn: number): number | undefined {
  const hit = k.pt.lookup(vpn);
  if (!hit.leaf) return undefined;
  const pfn = ptePpn(k.pt.readLo(hit.tablePfn, hit.index), k.pt.readHi(hit.tablePfn, hit.index));
  return pfn + (vpn % 512 ** hit.level);
}
