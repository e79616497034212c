/**
 * mm/page_isolation.c and the migration step of offlining: which pages of a
 * range can leave it. Free pages can; pages the workload marked movable
 * (user memory) are migrated elsewhere with their content; anything else the
 * kernel holds (page tables, memmap, slab, boot allocations) is unmovable.
 */
import type { Kernel } from '../kernel.js';
import { EBUSY, ENOMEM } from '../errno.js';
import { pageZone } from './page_alloc.js';
import type { Zone } from './zone.js';
import { PAGEBLOCK_NR_PAGES } from './pageblock.js';

/**
 * start_isolate_page_range() with MEMORY_OFFLINE: the first pfn that is
 * neither free nor movable, or undefined when the range can be isolated.
 */
export function startIsolatePageRange(k: Kernel, startPfn: number, endPfn: number): number | undefined {
  // start_isolate_page_range() isolates the first pageblock, then the last, then those between:
  // the page it reports is the first unmovable one in that order.
  const pb = PAGEBLOCK_NR_PAGES;
  // The common case, a wholly free range, isolates in any order.
  const zone = pageZone(k, startPfn);
  if (zone && k.fakeOffline.extentCount === 0 && zone.free.freeIn(startPfn, endPfn) === endPfn - startPfn)
    return undefined;
  const head = firstUnisolatable(k, startPfn, Math.min(endPfn, startPfn + pb));
  if (head !== undefined || endPfn - startPfn <= pb) return head;
  const tail = firstUnisolatable(k, Math.max(startPfn + pb, endPfn - pb), endPfn);
  if (tail !== undefined) return tail;
  return firstUnisolatable(k, startPfn + pb, endPfn - pb);
}

/**
 * The parts of [startPfn, endPfn) that are neither free in the buddy allocator nor held
 * fake-offline by a driver: what isolation has to look at page by page.
 */
export function busyPieces(
  k: Kernel,
  zone: Zone | undefined,
  startPfn: number,
  endPfn: number,
): Array<[number, number]> {
  const free = zone ? zone.free.piecesIn(startPfn, endPfn) : [];
  const gone =
    k.fakeOffline.extentCount === 0
      ? free
      : free.concat(k.fakeOffline.piecesIn(startPfn, endPfn)).sort((a, b) => a[0] - b[0]);
  const busy: Array<[number, number]> = [];
  let pfn = startPfn;
  for (const [s, e] of gone) {
    if (s > pfn) busy.push([pfn, Math.min(s, endPfn)]);
    pfn = Math.max(pfn, e);
  }
  if (pfn < endPfn) busy.push([pfn, endPfn]);
  return busy;
}

function firstUnisolatable(k: Kernel, startPfn: number, endPfn: number): number | undefined {
  if (startPfn >= endPfn) return undefined;
  const zone = pageZone(k, startPfn);
  if (!zone) return startPfn;
  // Free pages and pages a driver holds "fake offline" (virtio-mem) may leave; anything else must be movable.
  for (const [s, e] of busyPieces(k, zone, startPfn, endPfn)) {
    const bad = k.workload.firstUnmovable(s, e);
    if (bad !== undefined) return bad;
  }
  return undefined;
}

/** do_migrate_range(): move every movable page of the range to a free page outside it. -1 when out of memory. */
export function migrateMovablePages(k: Kernel, startPfn: number, endPfn: number, freed: number[]): number {
  return k.workload.migrateOut(k, startPfn, endPfn, freed);
}

/** Isolation takes the range's free pages off the buddy lists, so nobody else can have them. */
export function isolateFreePages(zone: Zone, startPfn: number, endPfn: number): Array<[number, number]> {
  const isolated = zone.free.piecesIn(startPfn, endPfn);
  for (const [s, e] of isolated) zone.free.remove(s, e);
  return isolated;
}

/** undo_isolate_page_range(): the isolated pages (and pages freed by migration) are buddy pages again. */
export function undoIsolatePageRange(zone: Zone, isolated: Array<[number, number]>): void {
  for (const [s, e] of isolated) zone.free.add(s, e);
}

/**
 * alloc_contig_range() (MIGRATE_MOVABLE): isolate [startPfn, endPfn), migrate
 * what is movable out of it, and own the whole range; 0 or -errno, with the
 * range as it was on failure.
 */
export function allocContigRange(k: Kernel, startPfn: number, endPfn: number): number {
  const zone = pageZone(k, startPfn);
  // drain_all_pages(zone): pages on pcp lists are free pages again before the range is isolated.
  if (zone) k.pcp.drainZone(zone);
  if (!zone || startIsolatePageRange(k, startPfn, endPfn) !== undefined) return -EBUSY;
  const isolated = isolateFreePages(zone, startPfn, endPfn);
  const freed: number[] = [];
  if (migrateMovablePages(k, startPfn, endPfn, freed) < 0) {
    for (const pfn of freed) isolated.push([pfn, pfn + 1]);
    undoIsolatePageRange(zone, isolated);
    return -ENOMEM;
  }
  return 0;
}
