/**
 * The per-CPU page lists of mm/page_alloc.c (zone->per_cpu_pageset): each
 * CPU keeps free pages of each zone on its own lists, taken from the buddy
 * allocator `batch` at a time and given back above `high`. Pages on a pcp
 * list are allocated as far as the buddy lists and NR_FREE_PAGES go.
 *
 * What the model keeps (docs/kernel-allocations.md): batch and the high
 * limits of every CPU and zone, computed as zone_set_pageset_high_and_batch()
 * does; and the pages each CPU's lists held when /init started (boot-time
 * software filled them), which drain back to the buddy allocator when a
 * zone's pcp lists are drained (offline_pages(), alloc_contig_range()).
 * Run-time allocations go to the buddy lists directly: their order of
 * allocation is the one rmqueue_bulk() would hand out.
 */
import type { Kernel } from '../kernel.js';
import type { Zone } from './zone.js';
import { zoneWatermarks } from './vmstat.js';

/** SZ_1M / PAGE_SIZE. */
const BATCH_CAP = 256;
/** MIN_PERCPU_PAGELIST_HIGH_FRACTION: high_max is managed / 8 spread over the CPUs. */
const MIN_PERCPU_PAGELIST_HIGH_FRACTION = 8;

export interface PerCpuPages {
  /** Pages on this CPU's lists of the zone, as pfn extents [start, end). */
  readonly pages: Array<[number, number]>;
  /** Pages the measured boot footprint holds for this CPU's lists without saying which (never drained). */
  inFootprint: number;
  /** pcp->high as shown: 0 until the CPU has used the list (per_cpu_pages_init). */
  used: boolean;
}

function roundDownPowOfTwo(n: number): number {
  return n < 1 ? 0 : 2 ** Math.floor(Math.log2(n));
}

/** zone_batchsize(): about 0.1% of the zone, at most 1 MiB, as 2^n - 1; at least 1 (zone_set_pageset_high_and_batch). */
export function zoneBatchsize(zone: Zone): number {
  let batch = Math.min(Math.floor(zone.managedPages / 1024), BATCH_CAP);
  batch = Math.floor(batch / 4);
  if (batch < 1) batch = 1;
  return Math.max(1, roundDownPowOfTwo(batch + Math.floor(batch / 2)) - 1);
}

/**
 * zone_highsize() with cpu_online 0, as setup_per_zone_wmarks() leaves it:
 * the low watermark (or managed * 10 / fraction) split over the node's CPUs,
 * at least 4 batches.
 */
export function zoneHighsize(k: Kernel, zone: Zone, batch: number, highFraction: number): number {
  const total = highFraction
    ? Math.floor((zone.managedPages * 10) / highFraction)
    : zoneWatermarks(k, zone).low;
  const cpus = Math.max(1, k.machine.smp);
  return Math.max(Math.floor(total / cpus), batch * 4);
}

export interface PcpLimits {
  batch: number;
  highMin: number;
  highMax: number;
}

/** zone_set_pageset_high_and_batch(zone, 0). */
export function pcpLimits(k: Kernel, zone: Zone): PcpLimits {
  const batch = zoneBatchsize(zone);
  return {
    batch,
    highMin: zoneHighsize(k, zone, batch, 0),
    highMax: zoneHighsize(k, zone, batch, MIN_PERCPU_PAGELIST_HIGH_FRACTION),
  };
}

/** The pcp lists of every CPU for every zone. */
export class PerCpuPagesets {
  private readonly lists = new Map<number, PerCpuPages[]>();

  constructor(private readonly nrCpus: number) {}

  of(zone: Zone): PerCpuPages[] {
    let l = this.lists.get(zone.idx);
    if (!l) {
      l = Array.from({ length: this.nrCpus }, () => ({ pages: [], inFootprint: 0, used: false }));
      this.lists.set(zone.idx, l);
    }
    return l;
  }

  /** Whether the CPU has used its list of the zone (pcp->high is set then). */
  used(zone: Zone, cpu: number): boolean {
    return this.lists.get(zone.idx)?.[cpu]?.used ?? false;
  }

  count(zone: Zone, cpu: number): number {
    const p = this.lists.get(zone.idx)?.[cpu];
    return p ? p.pages.reduce((n, [s, e]) => n + e - s, p.inFootprint) : 0;
  }

  /** Pages on all CPUs' lists of a zone. */
  total(zone: Zone): number {
    let n = 0;
    for (let c = 0; c < this.nrCpus; c++) n += this.count(zone, c);
    return n;
  }

  /** Whether pfn sits on some CPU's list of the zone. */
  holds(zone: Zone, pfn: number): boolean {
    const l = this.lists.get(zone.idx);
    return !!l && l.some((p) => p.pages.some(([s, e]) => pfn >= s && pfn < e));
  }

  /** Puts pages on a CPU's list (they must already be off the buddy lists). */
  hold(zone: Zone, cpu: number, start: number, end: number): void {
    const p = this.of(zone)[cpu]!;
    const last = p.pages[p.pages.length - 1];
    if (last && last[1] === start) last[1] = end;
    else p.pages.push([start, end]);
    p.used = true;
  }

  /** Counts pages of the measured footprint as a CPU's list. */
  holdInFootprint(zone: Zone, cpu: number, count: number): void {
    const p = this.of(zone)[cpu]!;
    p.inFootprint += count;
    p.used = true;
  }

  /** __drain_all_pages(zone): every CPU's pages of the zone go back to the buddy allocator. */
  drainZone(zone: Zone): number {
    const l = this.lists.get(zone.idx);
    if (!l) return 0;
    let n = 0;
    for (const p of l) {
      for (const [s, e] of p.pages) {
        zone.free.add(s, e);
        n += e - s;
      }
      p.pages.length = 0;
    }
    return n;
  }
}
