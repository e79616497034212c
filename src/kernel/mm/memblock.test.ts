/**
 * memblock (mm/memblock.c of Linux 6.12): region merging, isolation,
 * removal, node and flag changes, mem= and top-down allocation.
 */
import { describe, expect, test } from 'vitest';
import {
  MAX_NUMNODES,
  MEMBLOCK_NOMAP,
  MEMBLOCK_NONE,
  Memblock,
  MemblockType,
  type MemblockRegion,
} from './memblock.js';

const MiB = 1 << 20;

function regions(t: MemblockType): Array<[number, number, number, number]> {
  return t.regions.map((r: MemblockRegion) => [r.base, r.size, r.nid, r.flags]);
}

describe('memblock_add_range', () => {
  test('adjacent regions with equal nid and flags merge into one', () => {
    const t = new MemblockType('memory');
    t.addRange(0x1000, 0x1000, 0, MEMBLOCK_NONE);
    t.addRange(0x2000, 0x1000, 0, MEMBLOCK_NONE);
    t.addRange(0x0, 0x1000, 0, MEMBLOCK_NONE);
    expect(regions(t)).toEqual([[0x0, 0x3000, 0, 0]]);
    expect(t.totalSize).toBe(0x3000);
  });

  test('adjacent regions of different nodes stay separate', () => {
    const t = new MemblockType('memory');
    t.addRange(0x1000, 0x1000, 0, MEMBLOCK_NONE);
    t.addRange(0x2000, 0x1000, 1, MEMBLOCK_NONE);
    expect(regions(t)).toEqual([
      [0x1000, 0x1000, 0, 0],
      [0x2000, 0x1000, 1, 0],
    ]);
  });

  test('adjacent regions with different flags stay separate', () => {
    const t = new MemblockType('memory');
    t.addRange(0x1000, 0x1000, 0, MEMBLOCK_NONE);
    t.addRange(0x2000, 0x1000, 0, MEMBLOCK_NOMAP);
    expect(regions(t)).toEqual([
      [0x1000, 0x1000, 0, 0],
      [0x2000, 0x1000, 0, MEMBLOCK_NOMAP],
    ]);
  });

  test('a region separated by a gap is not merged', () => {
    const t = new MemblockType('memory');
    t.addRange(0x1000, 0x1000, 0, MEMBLOCK_NONE);
    t.addRange(0x3000, 0x1000, 0, MEMBLOCK_NONE);
    expect(t.regions).toHaveLength(2);
  });

  test('an overlapping add only fills the holes and keeps existing regions as they are', () => {
    const t = new MemblockType('memory');
    t.addRange(0x1000, 0x1000, 0, MEMBLOCK_NONE);
    t.addRange(0x3000, 0x1000, 0, MEMBLOCK_NONE);
    // The kernel inserts [base, rbase) pieces with the new nid; the old regions keep theirs.
    t.addRange(0x0, 0x5000, 1, MEMBLOCK_NONE);
    expect(regions(t)).toEqual([
      [0x0, 0x1000, 1, 0],
      [0x1000, 0x1000, 0, 0],
      [0x2000, 0x1000, 1, 0],
      [0x3000, 0x1000, 0, 0],
      [0x4000, 0x1000, 1, 0],
    ]);
    expect(t.totalSize).toBe(0x5000);
  });

  test('an overlapping add with equal nid and flags ends as one region', () => {
    const t = new MemblockType('memory');
    t.addRange(0x1000, 0x1000, 0, MEMBLOCK_NONE);
    t.addRange(0x3000, 0x1000, 0, MEMBLOCK_NONE);
    t.addRange(0x1800, 0x2000, 0, MEMBLOCK_NONE);
    expect(regions(t)).toEqual([[0x1000, 0x3000, 0, 0]]);
  });

  test('adding a range already covered changes nothing', () => {
    const t = new MemblockType('memory');
    t.addRange(0x1000, 0x4000, 0, MEMBLOCK_NONE);
    t.addRange(0x2000, 0x1000, 3, MEMBLOCK_NOMAP);
    expect(regions(t)).toEqual([[0x1000, 0x4000, 0, 0]]);
  });

  test('a zero-size add is ignored', () => {
    const t = new MemblockType('memory');
    t.addRange(0x1000, 0, 0, MEMBLOCK_NONE);
    expect(t.regions).toEqual([]);
  });
});

describe('memblock_isolate_range and removal', () => {
  test('isolate splits regions so the range ends fall on region boundaries', () => {
    const t = new MemblockType('memory');
    t.addRange(0x0, 0x10000, 0, MEMBLOCK_NONE);
    t.isolate(0x4000, 0x2000);
    expect(regions(t)).toEqual([
      [0x0, 0x4000, 0, 0],
      [0x4000, 0x2000, 0, 0],
      [0x6000, 0xa000, 0, 0],
    ]);
  });

  test('isolating at existing boundaries splits nothing', () => {
    const t = new MemblockType('memory');
    t.addRange(0x0, 0x10000, 0, MEMBLOCK_NONE);
    t.isolate(0x0, 0x10000);
    expect(t.regions).toHaveLength(1);
  });

  test('removing the middle of a region leaves two regions', () => {
    const t = new MemblockType('memory');
    t.addRange(0x0, 0x10000, 0, MEMBLOCK_NONE);
    t.removeRange(0x4000, 0x2000);
    expect(regions(t)).toEqual([
      [0x0, 0x4000, 0, 0],
      [0x6000, 0xa000, 0, 0],
    ]);
  });

  test('removing a range across several regions trims the edges and drops those inside', () => {
    const t = new MemblockType('reserved');
    t.addRange(0x1000, 0x1000, 0, MEMBLOCK_NONE);
    t.addRange(0x3000, 0x1000, 0, MEMBLOCK_NONE);
    t.addRange(0x5000, 0x1000, 0, MEMBLOCK_NONE);
    t.removeRange(0x1800, 0x4000);
    expect(regions(t)).toEqual([
      [0x1000, 0x800, 0, 0],
      [0x5800, 0x800, 0, 0],
    ]);
  });

  test('memblock_free gives a reservation back', () => {
    const mb = new Memblock();
    mb.add(0x80000000, 64 * MiB);
    mb.reserve(0x80000000, 0x2000);
    mb.free(0x80001000, 0x1000);
    expect(regions(mb.reserved)).toEqual([[0x80000000, 0x1000, MAX_NUMNODES, 0]]);
  });
});

describe('memblock_set_node and nomap flags', () => {
  test('setting the node of part of a region splits it; setting it back merges again', () => {
    const t = new MemblockType('memory');
    t.addRange(0x0, 0x10000, MAX_NUMNODES, MEMBLOCK_NONE);
    t.setNode(0x4000, 0x4000, 1);
    expect(regions(t)).toEqual([
      [0x0, 0x4000, MAX_NUMNODES, 0],
      [0x4000, 0x4000, 1, 0],
      [0x8000, 0x8000, MAX_NUMNODES, 0],
    ]);
    t.setNode(0x0, 0x10000, 0);
    expect(regions(t)).toEqual([[0x0, 0x10000, 0, 0]]);
  });

  test('memblock_mark_nomap flags only the range; clearing it merges the regions back', () => {
    const mb = new Memblock();
    mb.add(0x80000000, 16 * MiB);
    mb.markNomap(0x80200000, 0x200000);
    expect(regions(mb.memory)).toEqual([
      [0x80000000, 0x200000, MAX_NUMNODES, 0],
      [0x80200000, 0x200000, MAX_NUMNODES, MEMBLOCK_NOMAP],
      [0x80400000, 0xc00000, MAX_NUMNODES, 0],
    ]);
    mb.clearNomap(0x80200000, 0x200000);
    expect(regions(mb.memory)).toEqual([[0x80000000, 16 * MiB, MAX_NUMNODES, 0]]);
  });

  test('start and end of DRAM are those of the first and last memory region', () => {
    const mb = new Memblock();
    expect(mb.startOfDram()).toBe(0);
    expect(mb.endOfDram()).toBe(0);
    mb.add(0x90000000, MiB);
    mb.add(0x80000000, MiB);
    expect(mb.startOfDram()).toBe(0x80000000);
    expect(mb.endOfDram()).toBe(0x90100000);
    expect(mb.memory.isCovered(0x800fffff)).toBe(true);
    expect(mb.memory.isCovered(0x80100000)).toBe(false);
  });
});

describe('memblock_enforce_memory_limit (mem=)', () => {
  test('keeps the first `limit` bytes of memory, counted across holes, and truncates reserved too', () => {
    const mb = new Memblock();
    mb.add(0x80000000, 256 * MiB);
    mb.add(0xa0000000, 256 * MiB);
    mb.reserve(0xa7000000, 32 * MiB); // straddles the new end
    mb.reserve(0xb0000000, MiB); // wholly above it
    mb.enforceMemoryLimit(384 * MiB);
    // 256 MiB of the first region, 128 MiB of the second: max_addr = 0xa8000000.
    expect(regions(mb.memory)).toEqual([
      [0x80000000, 256 * MiB, MAX_NUMNODES, 0],
      [0xa0000000, 128 * MiB, MAX_NUMNODES, 0],
    ]);
    expect(regions(mb.reserved)).toEqual([[0xa7000000, 16 * MiB, MAX_NUMNODES, 0]]);
    expect(mb.endOfDram()).toBe(0xa8000000);
  });

  test('a limit ending inside a reserved region truncates that region', () => {
    const mb = new Memblock();
    mb.add(0x80000000, 256 * MiB);
    mb.reserve(0x87000000, 2 * MiB * 8);
    mb.enforceMemoryLimit(128 * MiB);
    expect(regions(mb.reserved)).toEqual([[0x87000000, 16 * MiB, MAX_NUMNODES, 0]]);
    expect(mb.endOfDram()).toBe(0x88000000);
    mb.enforceMemoryLimit(120 * MiB);
    expect(regions(mb.reserved)).toEqual([[0x87000000, 8 * MiB, MAX_NUMNODES, 0]]);
  });

  test('nomap memory counts toward the limit (__find_max_addr walks every memory region)', () => {
    const mb = new Memblock();
    mb.add(0x80000000, 256 * MiB);
    mb.markNomap(0x80000000, 64 * MiB);
    mb.enforceMemoryLimit(128 * MiB);
    expect(mb.endOfDram()).toBe(0x88000000);
  });

  test('a limit equal to the total size, above it, or 0 changes nothing', () => {
    for (const limit of [512 * MiB, 4096 * MiB, 0]) {
      const mb = new Memblock();
      mb.add(0x80000000, 256 * MiB);
      mb.add(0xa0000000, 256 * MiB);
      mb.reserve(0xa8000000, MiB);
      mb.enforceMemoryLimit(limit);
      expect(mb.memory.totalSize).toBe(512 * MiB);
      expect(mb.reserved.totalSize).toBe(MiB);
    }
  });

  test('a limit equal to the total size still drops reservations above the end of memory', () => {
    const mb = new Memblock();
    mb.add(0x80000000, 256 * MiB);
    mb.reserve(0x90000000, MiB);
    mb.enforceMemoryLimit(256 * MiB);
    expect(mb.reserved.regions).toEqual([]);
    expect(mb.memory.totalSize).toBe(256 * MiB);
  });

  test('memblock_cap_memory_range drops memory outside [base, base + size)', () => {
    const mb = new Memblock();
    mb.add(0x40000000, 0x80000000);
    mb.capMemoryRange(0x80000000, 0x20000000);
    expect(regions(mb.memory)).toEqual([[0x80000000, 0x20000000, MAX_NUMNODES, 0]]);
  });
});

describe('free ranges', () => {
  test('free ranges are memory minus reserved, highest first', () => {
    const mb = new Memblock();
    mb.add(0x80000000, 16 * MiB);
    mb.add(0x90000000, MiB);
    mb.reserve(0x80000000, MiB);
    mb.reserve(0x80400000, MiB);
    mb.reserve(0x80f00000, 2 * MiB); // runs past the end of the first region
    expect(mb.freeRangesReverse()).toEqual([
      [0x90000000, 0x90100000],
      [0x80500000, 0x80f00000],
      [0x80100000, 0x80400000],
    ]);
  });

  test('nomap memory is never free', () => {
    const mb = new Memblock();
    mb.add(0x80000000, 16 * MiB);
    mb.markNomap(0x80800000, 8 * MiB);
    expect(mb.freeRangesReverse()).toEqual([[0x80000000, 0x80800000]]);
  });
});

describe('top-down allocation (memblock_find_in_range_node)', () => {
  test('allocates at the top of the highest free range, rounded down to the alignment, and reserves it', () => {
    const mb = new Memblock();
    mb.add(0x80000000, 16 * MiB);
    // (0x81000000 - 0x1800) rounded down to 4 KiB.
    expect(mb.alloc(0x1800, 0x1000)).toBe(0x80ffe000);
    expect(mb.reserved.isCovered(0x80ffe000)).toBe(true);
    // The 0x800 bytes left above it are still free and are used first.
    expect(mb.alloc(100, 64)).toBe(0x80ffff80);
    // The holes above are too small for 0x800 bytes aligned to 0x800: below the first allocation.
    expect(mb.alloc(0x800, 0x800)).toBe(0x80ffd800);
    expect(regions(mb.reserved)).toEqual([
      [0x80ffd800, 0x2000, MAX_NUMNODES, 0], // adjacent reservations merge
      [0x80ffff80, 100, MAX_NUMNODES, 0],
    ]);
  });

  test('large alignments skip to the aligned address below', () => {
    const mb = new Memblock();
    mb.add(0x80000000, 16 * MiB);
    mb.reserve(0x80f00000, MiB);
    expect(mb.alloc(0x1000, 2 * MiB)).toBe(0x80e00000);
  });

  test('a range too small for the request is skipped for a lower one', () => {
    const mb = new Memblock();
    mb.add(0x80000000, 16 * MiB);
    mb.reserve(0x80100000, 0xf00000 - 0x1000); // leaves one page at the top
    expect(mb.alloc(0x2000, 0x1000)).toBe(0x800fe000);
    expect(mb.alloc(0x1000, 0x1000)).toBe(0x80fff000);
  });

  test('the end limit keeps the allocation below it', () => {
    const mb = new Memblock();
    mb.add(0x80000000, 0x100000000);
    expect(mb.alloc(64 * MiB, 0x1000, 0, 0xffffffff)).toBe(0xfbfff000);
    expect(mb.alloc(0x1000, 0x1000, 0, 0x90000000)).toBe(0x8ffff000);
  });

  test('the start limit makes an allocation fail (0) when nothing fits above it', () => {
    const mb = new Memblock();
    mb.add(0x80000000, 16 * MiB);
    mb.reserve(0x80800000, 8 * MiB);
    expect(mb.alloc(0x1000, 0x1000, 0x80800000)).toBe(0);
    expect(mb.reserved.totalSize).toBe(8 * MiB);
    expect(mb.alloc(0x1000, 0x1000, 0x807ff000)).toBe(0x807ff000);
  });

  test('the first page of physical memory is never handed out', () => {
    const mb = new Memblock();
    mb.add(0, 0x3000);
    mb.reserve(0x1000, 0x2000);
    expect(mb.alloc(0x1000, 0x1000)).toBe(0);
  });

  test('nomap memory is never allocated', () => {
    const mb = new Memblock();
    mb.add(0x80000000, 16 * MiB);
    mb.markNomap(0x80800000, 8 * MiB);
    expect(mb.alloc(0x1000, 0x1000)).toBe(0x807ff000);
  });

  test('memblock.current_limit bounds the default (MEMBLOCK_ALLOC_ACCESSIBLE) allocation', () => {
    const mb = new Memblock();
    mb.add(0x80000000, 16 * MiB);
    mb.currentLimit = 0x80800000;
    expect(mb.alloc(0x1000, 0x1000)).toBe(0x807ff000);
  });

  // mm/memblock.c:296 memblock_find_in_range_node() replaces `end` by current_limit only for
  // MEMBLOCK_ALLOC_ACCESSIBLE/NOLEAKTRACE; an explicit end (memblock_phys_alloc_range) is not clamped.
  test('an explicit end above memblock.current_limit is not clamped to it', () => {
    const mb = new Memblock();
    mb.add(0x80000000, 16 * MiB);
    mb.currentLimit = 0x80800000;
    expect(mb.alloc(0x1000, 0x1000, 0, 0x80c00000)).toBe(0x80bff000);
  });

  // mm/memblock.c memblock_alloc_internal(): memblock_alloc_try_nid() and friends clamp max_addr to
  // current_limit, then retry without the lower bound when nothing fits above it.
  test('allocTryNid clamps an explicit end to current_limit', () => {
    const mb = new Memblock();
    mb.add(0x80000000, 16 * MiB);
    mb.currentLimit = 0x80800000;
    expect(mb.allocTryNid(0x1000, 0x1000, 0, 0x80c00000)).toBe(0x807ff000);
    expect(mb.allocTryNid(0x1000, 0x1000)).toBe(0x807fe000);
  });

  test('allocTryNid retries from 0 when nothing fits between min and max', () => {
    const mb = new Memblock();
    mb.add(0x80000000, 16 * MiB);
    mb.reserve(0x80800000, 8 * MiB);
    expect(mb.allocTryNid(0x1000, 0x1000, 0x80800000, 0x81000000)).toBe(0x807ff000);
    expect(mb.alloc(0x1000, 0x1000, 0x80800000, 0x81000000)).toBe(0);
  });
});
