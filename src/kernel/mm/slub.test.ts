import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { bootOracleMachine } from '../../../test/support/guest.js';
import { calculateOrder, getOrder, type KObject, Slub } from './slub.js';
import { nrFreePages } from './page_alloc.js';

describe('calculate_order() with SLUB_TINY (slub_max_order 1)', () => {
  test('objects of a page or more take order-1 slabs', () => {
    expect(calculateOrder(4096, 2)).toBe(1);
    expect(calculateOrder(8192, 2)).toBe(1);
    expect(calculateOrder(2048, 2)).toBe(1);
    expect(calculateOrder(1024, 2)).toBe(1);
  });

  test('min_objects = 4 * (fls(cpus) + 1) makes the order grow with the CPU count', () => {
    // 512-byte objects: 8 per page. One CPU wants 8 (order 0); two want 12 (order 1).
    expect(calculateOrder(512, 1)).toBe(0);
    expect(calculateOrder(512, 2)).toBe(1);
    // 256-byte objects: 16 per page. Four CPUs want 16 (order 0); eight want 20 (order 1).
    expect(calculateOrder(256, 4)).toBe(0);
    expect(calculateOrder(256, 8)).toBe(1);
    // kernfs nodes (136 bytes, 30 per page) stay in order-0 slabs on every machine.
    expect(calculateOrder(136, 8)).toBe(0);
  });

  test('the orders never exceed slub_max_order for sizes a kmalloc cache holds', () => {
    for (let size = 8; size <= 8192; size += 8)
      for (const cpus of [1, 2, 4, 8]) expect(calculateOrder(size, cpus)).toBeLessThanOrEqual(1);
  });

  test('get_order()', () => {
    expect([1, 4096, 4097, 8192, 16384, 16385].map(getOrder)).toEqual([0, 0, 1, 1, 2, 3]);
  });
});

describe('slab lists (SLUB_TINY: no per-CPU slabs, min_partial 0)', () => {
  test('a new slab goes to the head of the partial list; allocation fills it before taking a page', () => {
    const k = bootOracleMachine().kernel;
    const c = k.slub.cache('kernfs_node_cache');
    expect(c.order).toBe(0);
    expect(c.objects).toBe(30);
    const free0 = nrFreePages(k);
    const objs: KObject[] = [];
    for (let i = 0; i < 30; i++) objs.push(k.slub.alloc(k, c)!);
    expect(nrFreePages(k)).toBe(free0 - 1);
    expect(c.partial.length).toBe(0); // full
    objs.push(k.slub.alloc(k, c)!);
    expect(nrFreePages(k)).toBe(free0 - 2);
    expect(c.nrSlabs).toBe(2);
    expect(k.slub.unreclaimablePages).toBe(2);
    // Freeing from the full slab puts it on the partial list's tail.
    k.slub.free(k, objs[0]!);
    expect(c.partial.length).toBe(2);
    expect(c.partial[1]).toBe(objs[0]);
  });

  test('a slab that becomes empty goes back to the page allocator at once', () => {
    const k = bootOracleMachine().kernel;
    const before = [...k.pgdat.zones[0]!.free.extents()];
    const o = k.slub.kmalloc(k, 4096)!;
    const slab = 'cache' in o ? o : undefined;
    expect(slab?.order).toBe(1);
    expect(k.slub.slabOf(slab!.pfn + 1)).toBe(slab);
    k.slub.free(k, o);
    expect(k.slub.slabOf(slab!.pfn)).toBeUndefined();
    expect(k.slub.unreclaimablePages).toBe(0);
    expect([...k.pgdat.zones[0]!.free.extents()]).toEqual(before);
  });

  test('kmalloc above 8 KiB takes pages directly, not a slab', () => {
    const k = bootOracleMachine().kernel;
    const o = k.slub.kmalloc(k, 20000)!;
    expect('largePfn' in o && o.order).toBe(3);
    expect(k.slub.unreclaimablePages).toBe(0);
    if ('largePfn' in o) expect(k.slub.largeOrder(o.largePfn)).toBe(3);
    k.slub.free(k, o);
  });

  test('a slab needing a page when none can be had fails as ENOMEM would (undefined), leaving nothing', () => {
    const k = bootOracleMachine().kernel;
    k.faults = { shouldFailAlloc: () => true };
    expect(k.slub.alloc(k, k.slub.cache('dentry'))).toBeUndefined();
    expect(k.slub.cache('dentry').nrSlabs).toBe(0);
  });

  test('property: any sequence of allocations and frees keeps the page count and gives every page back', () => {
    const sizes = [16, 136, 192, 600, 1024, 4096, 8192, 12000];
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: sizes.length - 1 }), fc.nat()), {
          maxLength: 300,
        }),
        (ops) => {
          const k = bootOracleMachine().kernel;
          const slub: Slub = k.slub;
          const free0 = nrFreePages(k);
          const before = JSON.stringify([...k.pgdat.zones[0]!.free.extents()]);
          const live: KObject[] = [];
          let large = 0;
          for (const [alloc, si, pick] of ops) {
            if (alloc || live.length === 0) {
              const o = slub.kmalloc(k, sizes[si]!)!;
              if ('largePfn' in o) large += 2 ** o.order;
              live.push(o);
            } else {
              const [o] = live.splice(pick % live.length, 1);
              if ('largePfn' in o!) large -= 2 ** o.order;
              slub.free(k, o!);
            }
            let slabPages = 0;
            for (const c of slub.caches.values()) {
              slabPages += c.nrSlabs * 2 ** c.order;
              expect(c.partial.every((s) => s.inuse > 0 && s.inuse < c.objects)).toBe(true);
            }
            expect(slub.unreclaimablePages).toBe(slabPages);
            expect(nrFreePages(k)).toBe(free0 - slabPages - large);
          }
          for (const o of live.splice(0)) slub.free(k, o);
          expect(JSON.stringify([...k.pgdat.zones[0]!.free.extents()])).toBe(before);
        },
      ),
      { numRuns: 25 },
    );
  });
});
