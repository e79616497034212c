/**
 * Counters behind /proc/meminfo, /proc/zoneinfo and /proc/buddyinfo, and the
 * zone watermarks (mm/page_alloc.c __setup_per_zone_wmarks, with the THP
 * recommendation of mm/khugepaged.c that dominates on small machines).
 */
import type { Kernel } from '../kernel.js';
import type { Zone } from './zone.js';
import { PAGEBLOCK_NR_PAGES } from './pageblock.js';

const MIGRATE_PCPTYPES = 3;
const WATERMARK_SCALE_FACTOR = 10;

export interface Watermarks {
  min: number;
  low: number;
  high: number;
  promo: number;
}

function intSqrt(n: number): number {
  return Math.floor(Math.sqrt(n));
}

/** min_free_kbytes as the kernel settles it after khugepaged's recommendation. */
export function minFreeKbytes(k: Kernel): number {
  const lowmemKb = k.pgdat.zones.reduce((s, z) => s + z.managedPages, 0) * 4;
  let minFree = Math.min(Math.max(intSqrt(lowmemKb * 16), 128), 262144);
  const populated = k.pgdat.zones.filter((z) => z.isPopulated()).length;
  let recommended =
    PAGEBLOCK_NR_PAGES * populated * 2 + PAGEBLOCK_NR_PAGES * populated * MIGRATE_PCPTYPES * MIGRATE_PCPTYPES;
  recommended = Math.min(recommended, Math.floor(lowmemKb / 4 / 20));
  if (recommended * 4 > minFree) minFree = recommended * 4;
  return minFree;
}

export function zoneWatermarks(k: Kernel, zone: Zone): Watermarks {
  const pagesMin = minFreeKbytes(k) / 4;
  const lowmemPages = k.pgdat.zones.filter((z) => z.idx !== 2).reduce((s, z) => s + z.managedPages, 0);
  const share = lowmemPages ? Math.floor((pagesMin * zone.managedPages) / lowmemPages) : 0;
  // ZONE_MOVABLE is treated like highmem: a small fixed minimum, but the gaps still scale with its share.
  const min = zone.idx === 2 ? Math.min(Math.max(Math.floor(zone.managedPages / 1024), 32), 128) : share;
  const tmp = Math.max(
    Math.floor(share / 4),
    Math.floor((zone.managedPages * WATERMARK_SCALE_FACTOR) / 10000),
  );
  return { min, low: min + tmp, high: min + 2 * tmp, promo: min + 3 * tmp };
}

/** totalreserve_pages: high watermarks (lowmem_reserve is 0 with one node and these ratios). */
export function totalReservePages(k: Kernel): number {
  let total = 0;
  for (const z of k.pgdat.zones) {
    if (!z.managedPages) continue;
    total += Math.min(zoneWatermarks(k, z).high, z.managedPages);
  }
  return total;
}
