/**
 * The page allocator's entry points (mm/page_alloc.c) over the zones' free
 * extents: alloc_pages with the zonelist fallback, __free_pages,
 * free_reserved_page and the managed-page accounting behind MemTotal.
 */
import type { Kernel } from '../kernel.js';
import { KernelOops } from '../errno.js';
import { ZONE_DMA32, ZONE_MOVABLE, ZONE_NORMAL, type Zone } from './zone.js';
import type { MigrateType } from './free_area.js';
import { PAGES_PER_SECTION, pfnToSectionNr } from './mmzone.js';

export type Gfp = 'kernel' | 'movable';

/** The zone a pfn's struct page says it belongs to. */
export function pageZone(k: Kernel, pfn: number): Zone | undefined {
  const s = k.sparse.get(pfnToSectionNr(pfn));
  if (s && s.zoneIdx >= 0) return k.pgdat.zone(s.zoneIdx);
  return k.pgdat.zoneOf(pfn);
}

/** The node's zonelists, built once: every allocation walks one. */
const zonelists = new WeakMap<Kernel, Record<Gfp, Zone[]>>();

export function zonelist(k: Kernel, gfp: Gfp): Zone[] {
  let lists = zonelists.get(k);
  if (!lists) {
    const z = k.pgdat.zones;
    lists = {
      movable: [z[ZONE_MOVABLE]!, z[ZONE_NORMAL]!, z[ZONE_DMA32]!],
      kernel: [z[ZONE_NORMAL]!, z[ZONE_DMA32]!],
    };
    zonelists.set(k, lists);
  }
  return lists[gfp];
}

/** alloc_pages(gfp, order): the first zone in the zonelist with a fitting block. */
export function allocPages(k: Kernel, order: number, gfp: Gfp = 'kernel'): number | undefined {
  return allocPagesFrom(k, order, zonelist(k, gfp), gfp === 'movable' ? 'movable' : 'unmovable');
}

/**
 * __alloc_pages() over an explicit zonelist and migratetype (a workload's choice of zone, or a
 * long-term pin that keeps out of ZONE_MOVABLE): the first zone with a fitting block.
 */
export function allocPagesFrom(k: Kernel, order: number, zones: Zone[], mt: MigrateType): number | undefined {
  if (k.faults?.shouldFailAlloc('page', order)) return undefined;
  k.sched?.point({ kind: 'page-alloc', text: `alloc_pages(order ${order}, ${mt})` });
  for (const zone of zones) {
    const pfn = zone.free.alloc(order, mt);
    if (pfn !== undefined) {
      zone.numaHit++;
      // Whoever takes the page writes it (clear_page, a new page table, a slab) through the linear map.
      kernelAccess(k, pfn, 'clear_page');
      return pfn;
    }
  }
  return undefined;
}

/**
 * alloc_pages_bulk(): up to `count` order-0 pages from the zonelist, appended to `out`; stops at
 * the first page that cannot be had. The pages are exactly those `count` successive
 * allocPagesFrom(order 0) calls give, taken a run at a time from the free lists (what makes a
 * workload of a million pages affordable); with fault injection or the explorer's scheduler on,
 * it is those calls, one per page.
 */
export function allocPagesBulk(k: Kernel, count: number, zones: Zone[], mt: MigrateType, out: number[]): number {
  let got = 0;
  while (got < count) {
    if (k.faults !== undefined || k.sched !== undefined) {
      const pfn = allocPagesFrom(k, 0, zones, mt);
      if (pfn === undefined) break;
      out.push(pfn);
      got++;
      continue;
    }
    let run: [number, number] | undefined;
    let from: Zone | undefined;
    for (const zone of zones) {
      run = zone.free.allocRun(mt, count - got);
      if (run === undefined) continue;
      from = zone;
      break;
    }
    if (run === undefined || from === undefined) break;
    const [first, n] = run;
    // clear_page of each page through the linear map: an oops at the first page it does not cover.
    const hole = linearMapHole(k, first, n);
    const upto = hole < 0 ? first + n : hole;
    for (let pfn = first; pfn < upto; pfn++) out.push(pfn);
    from.numaHit += upto - first;
    if (hole >= 0) {
      // That page was taken (and counted); the run's later pages never were.
      from.numaHit++;
      from.free.add(hole + 1, first + n);
      kernelAccess(k, hole, 'clear_page');
    }
    got += n;
  }
  return got;
}

/**
 * A kernel access to a page through its linear-map address: a page fault in kernel mode (an oops)
 * where the linear map no longer covers it, as after a partial removal of a large leaf.
 */
export function kernelAccess(k: Kernel, pfn: number, what: string): void {
  if (!k.pt.isMapped(k.layout.linearVpn(pfn))) throw new KernelOops(k.layout.va(BigInt(pfn) << 12n), what);
}

/**
 * The first pfn of [pfn, pfn + nr) whose linear-map address no leaf maps, or -1: one page-table
 * walk per leaf, not per page.
 */
function linearMapHole(k: Kernel, pfn: number, nr: number): number {
  for (let p = pfn; p < pfn + nr; ) {
    const run = k.pt.mappedRun(k.layout.linearVpn(p));
    if (run === 0) return p;
    p += run;
  }
  return -1;
}

/** A kernel access to a pfn's struct page through the vmemmap: an oops where it is not mapped. */
export function structPageAccess(k: Kernel, pfn: number, what: string): void {
  const L = k.layout;
  // The common case in plain numbers: 64 struct pages per vmemmap page.
  const vpn = L.vmemmapStartVpn + Math.floor((pfn - L.vmemmapStartPfn) / 64);
  if (pfn >= L.vmemmapStartPfn && k.pt.isMapped(vpn)) return;
  const va = L.pfnToPage(BigInt(pfn));
  if (!k.pt.isMapped(Number(va >> 12n))) throw new KernelOops(va, what);
}

/** __free_pages(page, order): back to the buddy lists of the page's zone. */
export function freePages(k: Kernel, pfn: number, order: number): void {
  freeContigRange(k, pfn, 2 ** order);
}

/**
 * free_contig_range(): every page of [pfn, pfn + nr) back to the buddy lists of its zone, as
 * freeing them one by one would leave them (free extents merge however they are given back).
 */
export function freeContigRange(k: Kernel, pfn: number, nr: number): void {
  const end = pfn + nr;
  for (let s = pfn; s < end; ) {
    // A run may cross a section boundary into another zone: one zone's part at a time.
    const zone = pageZone(k, s);
    if (!zone) throw new Error(`freeing pfn 0x${s.toString(16)} outside every zone`);
    let e = Math.min(end, (pfnToSectionNr(s) + 1) * PAGES_PER_SECTION);
    while (e < end && pageZone(k, e) === zone) e = Math.min(end, e + PAGES_PER_SECTION);
    zone.free.add(s, e);
    s = e;
  }
}

/** adjust_managed_page_count(). */
export function adjustManagedPageCount(k: Kernel, zone: Zone, count: number): void {
  zone.managedPages += count;
  k.totalramPages += count;
}

/** PageReserved() for pages the model tracks: boot allocations not yet freed. */
export function pageReserved(k: Kernel, pfn: number): boolean {
  return k.bootReserved.isFree(pfn);
}

/** free_reserved_page(): a boot page (page table, vmemmap) joins the buddy allocator and MemTotal. */
export function freeReservedPage(k: Kernel, pfn: number): void {
  k.bootReserved.remove(pfn, pfn + 1);
  const zone = pageZone(k, pfn);
  if (!zone) throw new Error(`freeing reserved pfn 0x${pfn.toString(16)} outside every zone`);
  zone.free.add(pfn, pfn + 1);
  adjustManagedPageCount(k, zone, 1);
}

/** Free pages of all zones. */
export function nrFreePages(k: Kernel): number {
  return k.pgdat.zones.reduce((s, z) => s + z.free.freePages, 0);
}
