/**
 * The buddy allocator's free pages (mm/page_alloc.c of Linux 6.12) as
 * extents: merging and splitting, the canonical buddy decomposition that
 * /proc/buddyinfo shows, allocation order, and the migratetype fallback.
 */
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { BuddyLists } from './free_area.js';
import {
  PfnExtents,
  MAX_PAGE_ORDER,
  NR_ORDERS,
  blockOrderAt,
  largestBlock,
} from './pfn_extents.js';
import { PAGEBLOCK_NR_PAGES } from './pageblock.js';

const MAX_BLOCK = 1 << MAX_PAGE_ORDER;

function extents(a: PfnExtents | BuddyLists): Array<[number, number]> {
  return [...a.extents()];
}

/** Free blocks per order of a set of free pages, computed the slow way: maximal aligned blocks. */
function naiveCounts(free: Set<number>): number[] {
  const c = new Array<number>(NR_ORDERS).fill(0);
  const covered = new Set<number>();
  for (const p of [...free].sort((a, b) => a - b)) {
    if (covered.has(p)) continue;
    let order = 0;
    for (let o = MAX_PAGE_ORDER; o >= 0; o--) {
      const n = 2 ** o;
      if (p % n !== 0) continue;
      let all = true;
      for (let q = p; q < p + n && all; q++) all = free.has(q);
      if (all) {
        order = o;
        break;
      }
    }
    for (let q = p; q < p + 2 ** order; q++) covered.add(q);
    c[order]!++;
  }
  return c;
}

/**
 * A textbook buddy allocator: per-order sets of block starts, frees merge with
 * their buddy, allocations take the lowest block of the smallest fitting
 * order and put the upper halves back.
 */
class NaiveBuddy {
  readonly lists: Array<Set<number>> = Array.from({ length: NR_ORDERS }, () => new Set<number>());

  freePage(pfn: number): void {
    let p = pfn;
    let o = 0;
    while (o < MAX_PAGE_ORDER) {
      // p ^ (1 << o) without 32-bit bitwise operators (pfns may exceed 2^32).
      const size = 2 ** o;
      const buddy = Math.floor(p / size) % 2 === 0 ? p + size : p - size;
      if (!this.lists[o]!.has(buddy)) break;
      this.lists[o]!.delete(buddy);
      p = Math.min(p, buddy);
      o++;
    }
    this.lists[o]!.add(p);
  }

  alloc(order: number): number | undefined {
    for (let o = order; o < NR_ORDERS; o++) {
      const l = this.lists[o]!;
      if (l.size === 0) continue;
      const p = Math.min(...l);
      l.delete(p);
      for (let h = o - 1; h >= order; h--) this.lists[h]!.add(p + (1 << h));
      return p;
    }
    return undefined;
  }

  counts(): number[] {
    return this.lists.map((l) => l.size);
  }

  pages(): Set<number> {
    const s = new Set<number>();
    this.lists.forEach((l, o) => {
      for (const p of l) for (let q = p; q < p + (1 << o); q++) s.add(q);
    });
    return s;
  }
}

describe('blockOrderAt', () => {
  test('the order is limited by the alignment of the pfn', () => {
    expect(blockOrderAt(0, 1 << 20)).toBe(MAX_PAGE_ORDER);
    expect(blockOrderAt(512, 1 << 20)).toBe(9);
    expect(blockOrderAt(768, 1 << 20)).toBe(8);
    expect(blockOrderAt(3, 1 << 20)).toBe(0);
    expect(blockOrderAt(6, 1 << 20)).toBe(1);
  });

  test('the order is limited by the room left before the end', () => {
    expect(blockOrderAt(0, 1)).toBe(0);
    expect(blockOrderAt(0, 7)).toBe(2);
    expect(blockOrderAt(1024, 1024 + 1023)).toBe(9);
    expect(blockOrderAt(1024, 2048)).toBe(10);
  });

  test('pfns above 2^32 (memory above 16 TiB) are aligned by their low bits, not truncated', () => {
    const base = 2 ** 32;
    expect(blockOrderAt(base, base + MAX_BLOCK)).toBe(MAX_PAGE_ORDER);
    expect(blockOrderAt(base + 512, base + MAX_BLOCK)).toBe(9);
    expect(blockOrderAt(base + 2, base + 100)).toBe(1);
    expect(blockOrderAt(2 ** 40 + 16, 2 ** 40 + 4096)).toBe(4);
    expect(blockOrderAt(2 ** 44 + 1, 2 ** 44 + 4096)).toBe(0);
  });
});

describe('PfnExtents extents', () => {
  test('freeing adjacent ranges merges them into one extent, in either order', () => {
    const a = new PfnExtents();
    a.add(10, 20);
    a.add(30, 40);
    expect(extents(a)).toEqual([
      [10, 20],
      [30, 40],
    ]);
    a.add(20, 30);
    expect(extents(a)).toEqual([[10, 40]]);
    a.add(0, 10);
    a.add(40, 41);
    expect(extents(a)).toEqual([[0, 41]]);
    expect(a.freePages).toBe(41);
    expect(a.extentCount).toBe(1);
  });

  test('taking pages out of the middle of an extent splits it', () => {
    const a = new PfnExtents();
    a.add(0, 100);
    a.remove(40, 60);
    expect(extents(a)).toEqual([
      [0, 40],
      [60, 100],
    ]);
    a.remove(0, 10);
    a.remove(90, 100);
    expect(extents(a)).toEqual([
      [10, 40],
      [60, 90],
    ]);
    a.remove(60, 90);
    expect(extents(a)).toEqual([[10, 40]]);
    expect(a.freePages).toBe(30);
  });

  test('a double free throws and changes nothing', () => {
    const a = new PfnExtents();
    a.add(0, 100);
    expect(() => a.add(50, 51)).toThrow(/double free/);
    expect(() => a.add(99, 120)).toThrow(/double free/);
    a.add(200, 300);
    expect(() => a.add(150, 201)).toThrow(/double free/);
    expect(a.freePages).toBe(200);
    expect(extents(a)).toEqual([
      [0, 100],
      [200, 300],
    ]);
  });

  test('taking out pages that are not all free throws', () => {
    const a = new PfnExtents();
    a.add(0, 100);
    a.add(200, 300);
    expect(() => a.remove(90, 110)).toThrow(/not free/);
    expect(() => a.remove(100, 101)).toThrow(/not free/);
    expect(() => a.remove(150, 250)).toThrow(/not free/);
    expect(a.freePages).toBe(200);
  });

  test('empty ranges are ignored', () => {
    const a = new PfnExtents();
    a.add(5, 5);
    a.remove(5, 5);
    expect(a.freePages).toBe(0);
  });

  test('isFree, freeIn and piecesIn see exactly the free pages', () => {
    const a = new PfnExtents();
    a.add(10, 20);
    a.add(30, 40);
    expect(a.isFree(9)).toBe(false);
    expect(a.isFree(10)).toBe(true);
    expect(a.isFree(19)).toBe(true);
    expect(a.isFree(20)).toBe(false);
    expect(a.freeIn(15, 35)).toBe(10);
    expect(a.piecesIn(15, 35)).toEqual([
      [15, 20],
      [30, 35],
    ]);
    expect(a.piecesIn(20, 30)).toEqual([]);
    expect(a.piecesIn(0, 100)).toEqual([
      [10, 20],
      [30, 40],
    ]);
  });

  test('removeAllIn takes every free page of the range and returns how many', () => {
    const a = new PfnExtents();
    a.add(10, 20);
    a.add(30, 40);
    a.add(50, 60);
    expect(a.removeAllIn(15, 55)).toBe(5 + 10 + 5);
    expect(extents(a)).toEqual([
      [10, 15],
      [55, 60],
    ]);
    expect(a.removeAllIn(20, 50)).toBe(0);
    expect(a.freePages).toBe(10);
  });
});

describe('PfnExtents buddy view', () => {
  test('counts() is the canonical decomposition into maximal aligned blocks', () => {
    const a = new PfnExtents();
    // [1, 2048 + 7): 1 (o0), 2 (o1), 4 (o2) ... 512 (o9), 1024 (o10), then 2048..2054: 4 + 2 + 1.
    a.add(1, 2048 + 7);
    const c = a.counts();
    expect(c).toEqual([2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1]);
    expect(c.reduce((s, n, o) => s + n * 2 ** o, 0)).toBe(a.freePages);
  });

  test('blocks never exceed MAX_PAGE_ORDER: 8 MiB free is two order-10 blocks', () => {
    const a = new PfnExtents();
    a.add(0x80000, 0x80000 + 2 * MAX_BLOCK);
    expect(a.counts()).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
  });

  test('two buddies freed separately merge into the block of the next order', () => {
    const a = new PfnExtents();
    a.add(4, 6);
    expect(a.counts().slice(0, 3)).toEqual([0, 1, 0]);
    a.add(6, 8);
    expect(a.counts().slice(0, 3)).toEqual([0, 0, 1]);
  });

  test('adjacent pages that are not buddies do not merge', () => {
    const a = new PfnExtents();
    a.add(2, 4); // order-1 block at 2; its buddy is 0
    a.add(4, 6); // order-1 block at 4; its buddy is 6
    expect(a.counts().slice(0, 3)).toEqual([0, 2, 0]);
  });

  test('alloc takes the smallest order that fits before a lower address of a bigger order', () => {
    const a = new PfnExtents();
    a.add(0, 1024); // order 10 at 0
    a.add(2050, 2052); // order 1 at 2050
    a.add(4097, 4098); // order 0 at 4097
    expect(a.alloc(1)).toBe(2050);
    expect(a.alloc(0)).toBe(4097);
    // Only the big block is left: split, lowest pages first.
    expect(a.alloc(0)).toBe(0);
    expect(a.alloc(0)).toBe(1);
    expect(a.alloc(2)).toBe(4);
    expect(a.freePages).toBe(1024 - 6);
  });

  test('among blocks of the same order, alloc takes the lowest address', () => {
    const a = new PfnExtents();
    a.add(96, 112);
    a.add(16, 32);
    a.add(48, 64);
    expect(a.alloc(4)).toBe(16);
    expect(a.alloc(4)).toBe(48);
    expect(a.alloc(4)).toBe(96);
    expect(a.alloc(0)).toBeUndefined();
  });

  test('an order no block reaches cannot be allocated', () => {
    const a = new PfnExtents();
    a.add(1, 1024); // plenty of pages, largest block order 9
    expect(a.alloc(10)).toBeUndefined();
    expect(a.freePages).toBe(1023);
    expect(a.alloc(9)).toBe(512);
  });

  test('lowestBlockOfOrder and largestBlock look at canonical blocks', () => {
    const a = new PfnExtents();
    a.add(3, 8); // 3 (o0), 4 (o2)
    a.add(2048 + 512, 2048 + 1024); // order 9
    a.add(8192 + 512, 8192 + 1024); // order 9
    expect(a.lowestBlockOfOrder(0)).toBe(3);
    expect(a.lowestBlockOfOrder(2)).toBe(4);
    expect(a.lowestBlockOfOrder(1)).toBeUndefined();
    expect(a.lowestBlockOfOrder(9)).toBe(2048 + 512);
    expect(largestBlock(a)).toEqual([2048 + 512, 9]);
    a.add(1 << 20, (1 << 20) + 1024);
    expect(largestBlock(a)).toEqual([1 << 20, 10]);
    expect(largestBlock(new PfnExtents())).toBeUndefined();
  });

  test('random alloc/free sequences match a textbook buddy allocator page for page', () => {
    // Universe: four max-order blocks, either at a low base or above 2^32.
    const op = fc.oneof(
      fc.record({ kind: fc.constant<'alloc'>('alloc'), order: fc.integer({ min: 0, max: MAX_PAGE_ORDER }) }),
      fc.record({
        kind: fc.constant<'free'>('free'),
        at: fc.integer({ min: 0, max: 4 * MAX_BLOCK - 1 }),
        len: fc.integer({ min: 1, max: 700 }),
      }),
    );
    fc.assert(
      fc.property(
        fc.constantFrom(0x80000, 2 ** 32 + 3 * MAX_BLOCK),
        fc.array(op, { maxLength: 60 }),
        (base, ops) => {
          const area = new PfnExtents();
          const naive = new NaiveBuddy();
          const used = new Set<number>();
          for (let p = base; p < base + 4 * MAX_BLOCK; p++) used.add(p);
          // Everything starts free.
          area.add(base, base + 4 * MAX_BLOCK);
          for (let p = base; p < base + 4 * MAX_BLOCK; p++) naive.freePage(p);
          used.clear();
          for (const o of ops) {
            if (o.kind === 'alloc') {
              const got = area.alloc(o.order);
              const want = naive.alloc(o.order);
              expect(got).toBe(want);
              if (got !== undefined) for (let p = got; p < got + 2 ** o.order; p++) used.add(p);
            } else {
              // Free the run of used pages starting at the first used page at or after `at`.
              const sorted = [...used].sort((x, y) => x - y);
              const first = sorted.find((p) => p >= base + o.at) ?? sorted[0];
              if (first === undefined) continue;
              let end = first;
              while (end < first + o.len && used.has(end)) end++;
              area.add(first, end);
              for (let p = first; p < end; p++) {
                naive.freePage(p);
                used.delete(p);
              }
            }
            const counts = area.counts();
            expect(counts).toEqual(naive.counts());
            expect(counts).toEqual(naiveCounts(naive.pages()));
            expect(area.freePages).toBe(4 * MAX_BLOCK - used.size);
            expect(counts.reduce((s, n, order) => s + n * 2 ** order, 0)).toBe(area.freePages);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('runs of order-0 allocations (alloc_pages_bulk)', () => {
  // A random free set: four max-order blocks with random holes taken out.
  const holes = fc.array(
    fc.record({ at: fc.integer({ min: 0, max: 4 * MAX_BLOCK - 1 }), len: fc.integer({ min: 1, max: 300 }) }),
    { maxLength: 25 },
  );

  test('allocRun(max) hands out exactly what max successive alloc(0) calls do', () => {
    fc.assert(
      fc.property(holes, fc.array(fc.integer({ min: 1, max: 2000 }), { minLength: 1, maxLength: 8 }), (hs, runs) => {
        const make = (): PfnExtents => {
          const a = new PfnExtents();
          a.add(0x80000, 0x80000 + 4 * MAX_BLOCK);
          for (const h of hs) a.removeAllIn(0x80000 + h.at, Math.min(0x80000 + 4 * MAX_BLOCK, 0x80000 + h.at + h.len));
          return a;
        };
        const bulk = make();
        const single = make();
        for (const max of runs) {
          const got: number[] = [];
          while (got.length < max) {
            const r = bulk.allocRun(max - got.length);
            if (!r) break;
            for (let p = r[0]; p < r[0] + r[1]; p++) got.push(p);
          }
          const want: number[] = [];
          for (let i = 0; i < max; i++) {
            const p = single.alloc(0);
            if (p === undefined) break;
            want.push(p);
          }
          expect(got).toEqual(want);
          expect(extents(bulk)).toEqual(extents(single));
        }
      }),
      { numRuns: 100 },
    );
  });

  test('BuddyLists.allocRun follows alloc(0, mt) through claims and steals', () => {
    const blockTypes = fc.array(fc.boolean(), { minLength: 8, maxLength: 8 });
    fc.assert(
      fc.property(
        holes,
        blockTypes,
        fc.array(fc.tuple(fc.integer({ min: 1, max: 1500 }), fc.boolean()), { minLength: 1, maxLength: 8 }),
        (hs, types, runs) => {
          const make = (): BuddyLists => {
            const b = new BuddyLists();
            const base = 0x80000;
            b.add(base, base + 4 * MAX_BLOCK);
            types.forEach((u, i) => {
              if (u) b.setPageblockType(base + i * PAGEBLOCK_NR_PAGES, base + (i + 1) * PAGEBLOCK_NR_PAGES, 'unmovable');
            });
            for (const h of hs) b.removeAllIn(base + h.at, Math.min(base + 4 * MAX_BLOCK, base + h.at + h.len));
            return b;
          };
          const bulk = make();
          const single = make();
          for (const [max, movable] of runs) {
            const mt = movable ? 'movable' : 'unmovable';
            const got: number[] = [];
            while (got.length < max) {
              const r = bulk.allocRun(mt, max - got.length);
              if (!r) break;
              for (let p = r[0]; p < r[0] + r[1]; p++) got.push(p);
            }
            const want: number[] = [];
            for (let i = 0; i < max; i++) {
              const p = single.alloc(0, mt);
              if (p === undefined) break;
              want.push(p);
            }
            expect(got).toEqual(want);
            expect(extents(bulk)).toEqual(extents(single));
            expect(bulk.counts()).toEqual(single.counts());
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('BuddyLists (free lists per migratetype)', () => {
  test("freed pages go to the list of their pageblock's migratetype", () => {
    const b = new BuddyLists();
    b.add(0, 2048);
    expect(b.pageblockType(0)).toBe('movable');
    b.setPageblockType(512, 1024, 'unmovable');
    expect(b.pageblockType(511)).toBe('movable');
    expect(b.pageblockType(512)).toBe('unmovable');
    expect(b.pageblockType(1023)).toBe('unmovable');
    expect(b.pageblockType(1024)).toBe('movable');
    // The unmovable pageblock's pages serve unmovable requests first; movable ones stay below and above.
    expect(b.alloc(0, 'unmovable')).toBe(512);
    expect(b.alloc(0, 'movable')).toBe(0);
    expect(b.freePages).toBe(2046);
    // Both lists together are still one free range per gap.
    expect(extents(b)).toEqual([
      [1, 512],
      [513, 2048],
    ]);
  });

  test('counts() adds up both lists, and the pageblock split shows in the blocks', () => {
    const b = new BuddyLists();
    b.add(0, 1024);
    expect(b.counts()[10]).toBe(1);
    b.setPageblockType(0, 512, 'unmovable');
    // The order-10 block is now two order-9 blocks on different lists: they cannot merge.
    const c = b.counts();
    expect(c[10]).toBe(0);
    expect(c[9]).toBe(2);
  });

  test('pages freed into an unmovable pageblock land on the unmovable list', () => {
    const b = new BuddyLists();
    b.setPageblockType(0, 512, 'unmovable');
    b.add(100, 101);
    b.add(600, 601);
    // Own list first: the unmovable request takes 100 although 600 has the same order.
    expect(b.alloc(0, 'unmovable')).toBe(100);
    expect(b.alloc(0, 'unmovable')).toBe(600); // then a steal from the movable list
    expect(b.freePages).toBe(0);
  });

  test('remove, removeAllIn, isFree, freeIn and piecesIn span both lists', () => {
    const b = new BuddyLists();
    b.add(0, 1536);
    b.setPageblockType(512, 1024, 'unmovable');
    expect(b.piecesIn(500, 600)).toEqual([[500, 600]]);
    b.remove(510, 520);
    expect(b.isFree(515)).toBe(false);
    expect(b.freeIn(500, 600)).toBe(90);
    expect(b.removeAllIn(0, 1536)).toBe(1526);
    expect(b.freePages).toBe(0);
  });

  test('a steal of a block of at least pageblock order claims every pageblock it covers', () => {
    const b = new BuddyLists();
    b.add(0, 2048);
    b.remove(0, 1); // 1 (o0) ... 512 (o9), 1024 (o10)
    expect(b.alloc(0, 'unmovable')).toBe(1024);
    expect(b.pageblockType(1024)).toBe('unmovable');
    expect(b.pageblockType(1536)).toBe('unmovable');
    expect(b.pageblockType(512)).toBe('movable');
    // The rest of the claimed block serves the next unmovable requests.
    expect(b.alloc(0, 'unmovable')).toBe(1025);
    expect(b.alloc(3, 'unmovable')).toBe(1032);
  });

  test('the largest block of the other type is stolen first, not the lowest one', () => {
    const b = new BuddyLists();
    b.add(0, 4); // order 2 at 0
    b.add(4096, 4096 + 1024); // order 10 at 4096
    expect(b.alloc(0, 'unmovable')).toBe(4096);
    expect(b.pageblockType(4096)).toBe('unmovable');
    expect(b.pageblockType(0)).toBe('movable');
  });

  test('a steal of a block of order 8 claims its pageblock (half of it is free)', () => {
    const b = new BuddyLists();
    b.add(256, 512); // order 8 at 256, in pageblock 0
    expect(b.alloc(0, 'unmovable')).toBe(256);
    expect(b.pageblockType(0)).toBe('unmovable');
    expect(b.alloc(1, 'unmovable')).toBe(258);
  });

  test('an unmovable request that finds nothing of either type fails', () => {
    const b = new BuddyLists();
    b.add(0, 8);
    expect(b.alloc(4, 'unmovable')).toBeUndefined();
    expect(b.freePages).toBe(8);
  });

  // mm/page_alloc.c can_steal_fallback(): order >= pageblock_order / 2 is C integer division, 9 / 2 = 4;
  // try_to_steal_block() then claims the pageblock when free + compatible pages >= 256. Here the
  // pageblock has 256 free pages in order-4 blocks, so the kernel claims it.
  test('a steal of an order-4 block from a half-free pageblock claims the pageblock (pageblock_order / 2 == 4)', () => {
    const b = new BuddyLists();
    for (let p = 0; p < PAGEBLOCK_NR_PAGES; p += 32) b.add(p, p + 16);
    expect(b.counts()[4]).toBe(16);
    b.alloc(0, 'unmovable');
    expect(b.pageblockType(0)).toBe('unmovable');
  });

  test('a movable request claims an unmovable pageblock from an order-4 block, not from order 3', () => {
    const b = new BuddyLists();
    b.setPageblockType(0, 2 * PAGEBLOCK_NR_PAGES, 'unmovable');
    for (let p = 0; p < PAGEBLOCK_NR_PAGES; p += 32) b.add(p, p + 16);
    expect(b.alloc(0, 'movable')).toBe(0);
    expect(b.pageblockType(0)).toBe('movable');
    const c = new BuddyLists();
    c.setPageblockType(0, 2 * PAGEBLOCK_NR_PAGES, 'unmovable');
    for (let p = 0; p < PAGEBLOCK_NR_PAGES; p += 16) c.add(p, p + 8);
    expect(c.alloc(0, 'movable')).toBe(0);
    expect(c.pageblockType(0)).toBe('unmovable');
  });

  test('a kernel request does not claim a pageblock that is mostly movable pages in use', () => {
    const b = new BuddyLists();
    b.add(0, 16);
    b.movableInUse = (s, e) => Math.min(e, PAGEBLOCK_NR_PAGES) - Math.max(s, 16);
    expect(b.alloc(0, 'unmovable')).toBe(0);
    expect(b.pageblockType(0)).toBe('movable');
  });

  // mm/page_alloc.c __rmqueue(): when __rmqueue_claim() cannot claim (a movable request and only
  // blocks below order 4), __rmqueue_steal() takes the *smallest* fallback block that fits.
  test('a movable request that cannot claim steals the smallest unmovable block (__rmqueue_steal)', () => {
    const b = new BuddyLists();
    b.setPageblockType(0, 2 * PAGEBLOCK_NR_PAGES, 'unmovable');
    b.add(8, 16); // order 3 at 8
    b.add(600, 601); // order 0 at 600
    expect(b.alloc(0, 'movable')).toBe(600);
  });
});

test('BuddyLists.extents merges both migratetypes’ free extents where they touch', () => {
  fc.assert(
    fc.property(
      fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
      fc.array(
        fc.record({ at: fc.integer({ min: 0, max: 4 * MAX_BLOCK - 1 }), len: fc.integer({ min: 1, max: 300 }) }),
        { maxLength: 20 },
      ),
      (types, holes) => {
        const base = 0x80000;
        const b = new BuddyLists();
        b.add(base, base + 4 * MAX_BLOCK);
        types.forEach((u, i) => {
          if (u) b.setPageblockType(base + i * PAGEBLOCK_NR_PAGES, base + (i + 1) * PAGEBLOCK_NR_PAGES, 'unmovable');
        });
        for (const h of holes) b.removeAllIn(base + h.at, Math.min(base + 4 * MAX_BLOCK, base + h.at + h.len));
        // The slow way: every pfn asked whether it is free.
        const want: Array<[number, number]> = [];
        for (let p = base; p < base + 4 * MAX_BLOCK; p++) {
          if (!b.isFree(p)) continue;
          const last = want[want.length - 1];
          if (last && last[1] === p) last[1] = p + 1;
          else want.push([p, p + 1]);
        }
        expect([...b.extents()]).toEqual(want);
        expect(b.extentsFlat()).toEqual(want.flat());
      },
    ),
    { numRuns: 60 },
  );
});
