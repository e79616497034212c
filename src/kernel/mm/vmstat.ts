/**
 * Counters behind /proc/meminfo, /proc/zoneinfo and /proc/buddyinfo, and the
 * zone watermarks (mm/page_alloc.c __setup_per_zone_wmarks, with the THP
 * recommendation of mm/khugepaged.c that dominates on small machines).
 */
import type { Kernel } from '../kernel.js';
import type { Zone } from './zone.js';
import { PAGEBLOCK_NR_PAGES } from './pageblock.js';
import { fls } from '../lib/log2.js';
import { nrFreePages } from './page_alloc.js';

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

// ---- the counters of /proc/vmstat, /proc/zoneinfo and node0/meminfo ------------------------------

/** enum zone_stat_item as vmstat_text names it (no ZSMALLOC, no UNACCEPTED_MEMORY in this build). */
export const ZONE_STAT_ITEMS = [
  'nr_free_pages',
  'nr_zone_inactive_anon',
  'nr_zone_active_anon',
  'nr_zone_inactive_file',
  'nr_zone_active_file',
  'nr_zone_unevictable',
  'nr_zone_write_pending',
  'nr_mlock',
  'nr_bounce',
  'nr_free_cma',
] as const;

/** enum numa_stat_item (CONFIG_NUMA). */
export const NUMA_STAT_ITEMS = [
  'numa_hit',
  'numa_miss',
  'numa_foreign',
  'numa_interleave',
  'numa_local',
  'numa_other',
] as const;

/** enum node_stat_item (no SHADOW_CALL_STACK, IOMMU_SUPPORT, SWAP or NUMA_BALANCING in this build). */
export const NODE_STAT_ITEMS = [
  'nr_inactive_anon',
  'nr_active_anon',
  'nr_inactive_file',
  'nr_active_file',
  'nr_unevictable',
  'nr_slab_reclaimable',
  'nr_slab_unreclaimable',
  'nr_isolated_anon',
  'nr_isolated_file',
  'workingset_nodes',
  'workingset_refault_anon',
  'workingset_refault_file',
  'workingset_activate_anon',
  'workingset_activate_file',
  'workingset_restore_anon',
  'workingset_restore_file',
  'workingset_nodereclaim',
  'nr_anon_pages',
  'nr_mapped',
  'nr_file_pages',
  'nr_dirty',
  'nr_writeback',
  'nr_writeback_temp',
  'nr_shmem',
  'nr_shmem_hugepages',
  'nr_shmem_pmdmapped',
  'nr_file_hugepages',
  'nr_file_pmdmapped',
  'nr_anon_transparent_hugepages',
  'nr_vmscan_write',
  'nr_vmscan_immediate_reclaim',
  'nr_dirtied',
  'nr_written',
  'nr_throttled_written',
  'nr_kernel_misc_reclaimable',
  'nr_foll_pin_acquired',
  'nr_foll_pin_released',
  'nr_kernel_stack',
  'nr_page_table_pages',
  'nr_sec_page_table_pages',
  'pgdemote_kswapd',
  'pgdemote_direct',
  'pgdemote_khugepaged',
] as const;

export type ZoneStatItem = (typeof ZONE_STAT_ITEMS)[number];
export type NodeStatItem = (typeof NODE_STAT_ITEMS)[number];

/**
 * The zone whose pages the boot footprint's user-visible pages (the initramfs
 * page cache) sit in: the zone of the kernel image.
 */
function bootZone(k: Kernel): Zone | undefined {
  return k.pgdat.zoneOf(Number(k.profile.loadPhys >> 12n));
}

/** zone_page_state(zone, item) for every zone_stat_item. */
export function zoneStats(k: Kernel, zone: Zone): Record<ZoneStatItem, number> {
  const unevictable = zone === bootZone(k) ? Math.floor(k.profile.meminfoRuntimeKb.Unevictable / 4) : 0;
  return {
    nr_free_pages: zone.free.freePages,
    nr_zone_inactive_anon: 0,
    nr_zone_active_anon: 0,
    nr_zone_inactive_file: 0,
    nr_zone_active_file: 0,
    nr_zone_unevictable: unevictable,
    nr_zone_write_pending: 0,
    nr_mlock: 0,
    nr_bounce: 0,
    nr_free_cma: 0,
  };
}

/** zone_numa_event_state(): every allocation the zone served, all local (one node). */
export function numaStats(zone: Zone): number[] {
  return [zone.numaHit, 0, 0, 0, zone.numaHit, 0];
}

/**
 * node_page_state() for every node_stat_item, in pages (nr_kernel_stack in kB,
 * as NR_KERNEL_STACK_KB is kept). Software the model does not run contributes
 * the kernel profile's figures; slab and kernel stacks add what the model allocated.
 */
export function nodeStats(k: Kernel): Record<NodeStatItem, number> {
  const rt = k.profile.meminfoRuntimeKb;
  const out = Object.fromEntries(NODE_STAT_ITEMS.map((n) => [n, 0])) as Record<NodeStatItem, number>;
  out.nr_unevictable = Math.floor(rt.Unevictable / 4);
  out.nr_slab_unreclaimable = Math.floor(rt.Slab / 4) + k.slub.unreclaimablePages;
  out.nr_mapped = Math.floor(rt.Mapped / 4);
  out.nr_file_pages = Math.floor(rt.Cached / 4);
  out.nr_kernel_stack = rt.KernelStack + k.extraKernelStackPages * 4;
  return out;
}

/** vm_dirty_ratio and dirty_background_ratio (percent). */
const VM_DIRTY_RATIO = 20;
const DIRTY_BACKGROUND_RATIO = 10;

/** global_dirty_limits(): [background, dirty] thresholds in pages, for a task that is not real-time. */
export function globalDirtyLimits(k: Kernel): [number, number] {
  const node = nodeStats(k);
  let x = nrFreePages(k);
  x -= Math.min(x, totalReservePages(k));
  x += node.nr_inactive_file + node.nr_active_file;
  const avail = x + 1;
  const ratio = Math.floor((VM_DIRTY_RATIO * 4096) / 100);
  const bgRatio = Math.floor((DIRTY_BACKGROUND_RATIO * 4096) / 100);
  const thresh = Math.min(Math.floor((ratio * avail) / 4096), 0xffffffff);
  let bg = Math.floor((bgRatio * avail) / 4096);
  if (bg >= thresh) bg = Math.floor(thresh / 2);
  return [bg, thresh];
}

/** calculate_normal_threshold(): the per-CPU counter drift a zone tolerates. */
export function statThreshold(k: Kernel, zone: Zone): number {
  const mem = Math.floor(zone.managedPages / 32768);
  return Math.min(125, 2 * fls(Math.min(k.machine.smp, k.profile.nrCpus)) * (1 + fls(mem)));
}
