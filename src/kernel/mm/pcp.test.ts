import { describe, expect, test } from 'vitest';
import { GuestSystem } from '../system.js';
import { pcpLimits, zoneBatchsize } from './pcp.js';
import { Zone } from './zone.js';
import { zoneWatermarks } from './vmstat.js';
import { nrFreePages } from './page_alloc.js';

const boot = (smp: number, append = 'mem=2G no5lvl'): GuestSystem =>
  new GuestSystem({ ramBytes: 8n << 30n, smp, append, initrdSize: 0x7f000 });

function zoneWith(managed: number): Zone {
  const z = new Zone(1, 'Normal');
  z.managedPages = managed;
  return z;
}

describe('zone_batchsize()', () => {
  test('a quarter of min(managed / 1024, 256), as 2^n - 1', () => {
    // The recordings' 2 GiB DMA32 zone (508520 managed pages) and 1 GiB Movable zone: batch 63.
    expect(zoneBatchsize(zoneWith(508520))).toBe(63);
    expect(zoneBatchsize(zoneWith(262081))).toBe(63);
    // 128 MiB: 32 / 4 = 8 -> rounddown_pow_of_two(12) - 1 = 7.
    expect(zoneBatchsize(zoneWith(32768))).toBe(7);
    // An empty zone still has batch 1 (zone_set_pageset_high_and_batch: max(1, ...)).
    expect(zoneBatchsize(zoneWith(0))).toBe(1);
  });
});

describe('pcp high limits depend on -smp', () => {
  test('high_min is the low watermark split over the CPUs (the recordings: 7040 / 2 = 3520)', () => {
    for (const smp of [1, 2, 4]) {
      const k = boot(smp).kernel;
      const z = k.pgdat.zones[0]!;
      const lim = pcpLimits(k, z);
      expect(zoneWatermarks(k, z).low).toBe(7040);
      expect(lim.highMin).toBe(Math.floor(7040 / smp));
      expect(lim.highMax).toBe(Math.floor(Math.floor((z.managedPages * 10) / 8) / smp));
    }
  });
});

describe('the boot footprint per CPU', () => {
  test('each CPU beyond the measured two holds its threads stacks and its pcp pages, unmovable', () => {
    const two = boot(2).kernel;
    const four = boot(4).kernel;
    const z2 = two.pgdat.zones[0]!;
    const z4 = four.pgdat.zones[0]!;
    const per = four.profile.bootRuntimeFootprint.pcpPagesPerCpu;
    expect(per).toBeGreaterThan(0);
    for (let cpu = 0; cpu < 4; cpu++) expect(four.pcp.count(z4, cpu)).toBe(per);
    // Six 16 KiB stacks per extra CPU, and its pcp pages, are no longer free.
    // (Less what boot memblock allocations per CPU, the percpu chunk and the device tree, took from managed memory.)
    const managedLess = two.totalramPages - four.totalramPages;
    expect(nrFreePages(two) - nrFreePages(four) - managedLess).toBe(2 * (6 * 4 + per));
    expect(four.extraKernelStackPages).toBe(2 * 6 * 4);
    // Fewer CPUs than measured give nothing back: the footprint does not say which pages they held.
    const one = boot(1).kernel;
    expect(nrFreePages(one) - (one.totalramPages - two.totalramPages)).toBe(nrFreePages(two));
    expect(two.pcp.total(z2)).toBe(2 * per);
  });

  test('draining a zone gives the pages the model placed on pcp lists back to the buddy allocator', () => {
    const k = boot(4).kernel;
    const z = k.pgdat.zones[0]!;
    const free = nrFreePages(k);
    const per = k.profile.bootRuntimeFootprint.pcpPagesPerCpu;
    expect(k.pcp.drainZone(z)).toBe(2 * per);
    expect(nrFreePages(k)).toBe(free + 2 * per);
    // The measured CPUs' share is inside the footprint and stays counted.
    expect(k.pcp.total(z)).toBe(2 * per);
  });
});
