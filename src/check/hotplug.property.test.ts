/**
 * Property: thousands of random sequences of add / online / offline / remove
 * (valid and invalid arguments, plus a workload that holds movable and
 * unmovable pages) keep every invariant after every step, and every failed
 * operation leaves the model exactly as it was.
 *
 * The one kernel behaviour that breaks an invariant on purpose is allowed
 * and checked: removing part of a range the linear map covers with a 1 GiB
 * (or 512 GiB) leaf clears the whole leaf, so memory still present loses its
 * linear mapping. The checker must report exactly that, and the sequence
 * stops there (a real kernel would crash on the next access).
 *
 * On the ZONE_DEVICE build, device ranges (2 MiB sub-sections, some with an
 * altmap) are mapped and unmapped among the RAM. Four more kernel behaviours
 * end a sequence the same way: F4 (unmapping a sub-section frees the vmemmap
 * leaf its neighbours still use; the checker must name it), add_memory or
 * memremap over device memory (__add_pages fails with -EEXIST and the
 * rollback unmaps the device's linear map), an altmap whose memmap takes the whole range
 * (memunmap_pages() reads the struct page past the range and oopses), and an altmap too short for a
 * range straddling two sections (the sections added before the failure stay).
 */
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { GuestSystem } from '../kernel/system.js';
import { KernelBug } from '../kernel/errno.js';
import {
  addMemory,
  MHP_MEMMAP_ON_MEMORY,
  MHP_NONE,
  offlineAndRemoveMemory,
  removeMemory,
} from '../kernel/mm/memory_hotplug.js';
import { stateStore, onlineStore } from '../kernel/drivers/base/memory.js';
import { checkInvariants, formatViolation } from './invariants.js';
import { snapshot } from './faults.js';
import { LEVEL_PAGES } from '../kernel/arch/riscv/pgtable.js';
import { AccessFault } from '../hw/physmem.js';
import { linearVpn } from '../kernel/arch/riscv/init.js';
import { zdevKernelProfile } from '../kernel/profile.js';
import {
  devPagemaps,
  memremapPages,
  memunmapPages,
  newDevPagemap,
  type DevPagemap,
} from '../kernel/mm/memremap.js';
import { newAltmap, vmemAltmapOffset } from '../kernel/mm/sparse_vmemmap.js';

const BLOCK = 0x8000000n;
const FIRST = 32; // the first block above mem=2G

type Op =
  | { t: 'add'; block: number; n: number; memmap: boolean }
  | { t: 'addBad'; start: bigint; size: bigint }
  | { t: 'online'; pick: number; type: 'online' | 'online_kernel' | 'online_movable' | '1' }
  | { t: 'offline'; pick: number; how: 'state' | 'online0' }
  | { t: 'removeAdded'; pick: number; andOffline: boolean }
  | { t: 'remove'; block: number; n: number; andOffline: boolean }
  | { t: 'alloc'; pages: number; movable: boolean }
  | { t: 'free'; pick: number }
  | { t: 'memremap'; block: number; sub: number; n: number; altmap: boolean }
  | { t: 'memunmap'; pick: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant('add' as const),
      block: fc.integer({ min: FIRST - 2, max: FIRST + 40 }),
      n: fc.integer({ min: 1, max: 12 }),
      memmap: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('addBad' as const),
      start: fc.constantFrom(0x108100000n, 0x40000000n, 1n << 56n, 0x100000000n),
      size: fc.constantFrom(0n, 0x100000n, 0xc000000n, 0x8000000n),
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      t: fc.constant('online' as const),
      pick: fc.nat(),
      type: fc.constantFrom(
        'online' as const,
        'online_kernel' as const,
        'online_movable' as const,
        '1' as const,
      ),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant('offline' as const),
      pick: fc.nat(),
      how: fc.constantFrom('state' as const, 'online0' as const),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant('removeAdded' as const),
      pick: fc.nat(),
      andOffline: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('remove' as const),
      block: fc.integer({ min: FIRST - 1, max: FIRST + 40 }),
      n: fc.integer({ min: 1, max: 10 }),
      andOffline: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('alloc' as const),
      pages: fc.integer({ min: 1, max: 64 }),
      movable: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('free' as const), pick: fc.nat() }) },
);

/** ZONE_DEVICE ranges (2 MiB sub-sections) among the RAM blocks, and their removal. */
const zdevOpArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: opArb },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('memremap' as const),
      block: fc.integer({ min: FIRST - 1, max: FIRST + 40 }),
      sub: fc.integer({ min: 0, max: 63 }),
      n: fc.constantFrom(1, 1, 2, 5, 64, 100),
      altmap: fc.boolean(),
    }),
  },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('memunmap' as const), pick: fc.nat() }) },
);

const SUBSECTION = 0x200000n;

/** Sections [first, last] the byte range touches. */
function sectionsOf(start: bigint, size: bigint): [number, number] {
  return [Number(start / BLOCK), Number((start + size - 1n) / BLOCK)];
}

/**
 * F4: would unmapping [start, start + size) leave active sub-sections of a hot-added section it
 * touches (their struct pages share the section's vmemmap leaf, which the teardown frees whole)?
 */
function leavesNeighbours(sys: GuestSystem, start: bigint, size: bigint): boolean {
  const [first, last] = sectionsOf(start, size);
  for (let nr = first; nr <= last; nr++) {
    const ms = sys.kernel.sparse.get(nr);
    if (!ms || ms.early) continue;
    const base = BigInt(nr) * BLOCK;
    let mask = 0n;
    for (let a = start > base ? start : base; a < start + size && a < base + BLOCK; a += SUBSECTION)
      mask |= 1n << ((a - base) / SUBSECTION);
    if ((ms.subsectionMap & ~mask) !== 0n) return true;
  }
  return false;
}

/** Does a RAM range share a section with device memory (add_memory's __add_pages then fails with -EEXIST)? */
function touchesDeviceMemory(sys: GuestSystem, start: bigint, size: bigint): boolean {
  if (size === 0n) return false;
  const [first, last] = sectionsOf(start, size);
  return devPagemaps(sys.kernel).some((m) => {
    const [a, b] = sectionsOf(m.start, m.end - m.start + 1n);
    return a <= last && b >= first;
  });
}

/** Would removing [start, start+size) clear a linear-map leaf that also maps memory outside the range? */
function cutsALargeLeaf(sys: GuestSystem, start: bigint, size: bigint): boolean {
  const k = sys.kernel;
  const s = Number(start >> 12n);
  const e = Number((start + size) >> 12n);
  for (let pfn = s; pfn < e; pfn += 512) {
    const hit = k.pt.lookup(linearVpn(k, pfn));
    if (!hit.leaf || hit.level < 2) continue;
    const pages = LEVEL_PAGES[hit.level]!;
    const leafStart = pfn - (linearVpn(k, pfn) % pages);
    if (leafStart < s || leafStart + pages > e) return true;
  }
  return false;
}

function runSequence(mode: string, ops: Op[], zdev = false): void {
  const sys = new GuestSystem({
    ramBytes: 8n << 30n,
    smp: 2,
    append: `mem=2G ${mode} memory_hotplug.memmap_on_memory=1`,
    initrdSize: 0x7f000,
    profile: zdev ? zdevKernelProfile() : undefined,
  });
  const mapped: DevPagemap[] = [];
  const k = sys.kernel;
  const added: Array<[bigint, bigint]> = [];
  const held: number[] = [];
  const blocks = (): number[] => [...k.memoryBlocks.keys()].filter((id) => id >= FIRST).sort((a, b) => a - b);
  for (const op of ops) {
    const before = snapshot(sys);
    let rc = 0;
    let mayCut = false;
    // Kernel behaviour that breaks an invariant on purpose (the sequence ends there: the next access oopses).
    let clobbers = false;
    let mayF4 = false;
    // An altmap whose memmap takes the whole range: memunmap_pages() reads the struct page of the
    // first pfn after the altmap, which is past the range, and oopses where no memmap maps it.
    let readsPastRange = false;
    try {
      switch (op.t) {
        case 'add': {
          const start = BigInt(op.block) * BLOCK;
          clobbers = touchesDeviceMemory(sys, start, BigInt(op.n) * BLOCK);
          rc = addMemory(k, 0, start, BigInt(op.n) * BLOCK, op.memmap ? MHP_MEMMAP_ON_MEMORY : MHP_NONE);
          if (!rc) added.push([start, BigInt(op.n) * BLOCK]);
          break;
        }
        case 'addBad':
          clobbers = touchesDeviceMemory(sys, op.start, op.size);
          rc = addMemory(k, 0, op.start, op.size, MHP_NONE);
          if (!rc) added.push([op.start, op.size]);
          break;
        case 'online': {
          const ids = blocks();
          if (!ids.length) continue;
          const mem = k.memoryBlocks.get(ids[op.pick % ids.length]!)!;
          if (op.type === '1') rc = onlineStore(k, mem, '1\n');
          else rc = stateStore(k, mem, op.type + '\n');
          break;
        }
        case 'offline': {
          const ids = blocks();
          if (!ids.length) continue;
          const mem = k.memoryBlocks.get(ids[op.pick % ids.length]!)!;
          if (op.how === 'state') rc = stateStore(k, mem, 'offline');
          else rc = onlineStore(k, mem, '0');
          break;
        }
        case 'removeAdded':
        case 'remove': {
          let start: bigint;
          let size: bigint;
          if (op.t === 'removeAdded') {
            if (!added.length) continue;
            [start, size] = added[op.pick % added.length]!;
          } else {
            start = BigInt(op.block) * BLOCK;
            size = BigInt(op.n) * BLOCK;
          }
          if (start % BLOCK !== 0n || size % BLOCK !== 0n || size === 0n) continue; // a BUG_ON in remove_memory()
          // remove_memory() does not look for device memory: it would tear a pgmap's sections out from under it.
          if (touchesDeviceMemory(sys, start, size)) continue;
          mayCut = cutsALargeLeaf(sys, start, size);
          rc = op.andOffline ? offlineAndRemoveMemory(k, start, size) : removeMemory(k, start, size);
          const i = added.findIndex(([s, z]) => s === start && z === size);
          if (i >= 0 && !rc) added.splice(i, 1);
          break;
        }
        case 'alloc':
          held.push(...k.workload.allocate(k, op.pages, op.movable ? 'movable' : 'unmovable'));
          break;
        case 'memremap': {
          const start = BigInt(op.block) * BLOCK + BigInt(op.sub) * SUBSECTION;
          const size = BigInt(op.n) * SUBSECTION;
          const pages = Number(size >> 12n);
          const altmap = op.altmap
            ? newAltmap(
                Number(start >> 12n),
                Number((start + size) >> 12n) - 1,
                Math.ceil(pages / 64 / 512) * 512,
              )
            : undefined;
          const pgmap = newDevPagemap('generic', start, size, altmap);
          // An altmap sized to the memmap runs out when the range straddles sections (a second vmemmap
          // leaf), and __add_pages keeps the sections it added before failing, as for RAM.
          // A range that holds another pgmap (rather than starting or ending in one) passes the conflict
          // checks and fails in __add_pages with -EEXIST; the rollback unmaps the other's linear map too.
          const [a, b] = sectionsOf(start, size);
          clobbers =
            (op.altmap && b > a) || devPagemaps(k).some((m) => m.start < start + size && m.end >= start);
          rc = memremapPages(k, pgmap, 0);
          if (!rc) mapped.push(pgmap);
          break;
        }
        case 'memunmap': {
          if (!mapped.length) continue;
          const i = op.pick % mapped.length;
          const m = mapped[i]!;
          mayF4 = leavesNeighbours(sys, m.start, m.end - m.start + 1n);
          readsPastRange = vmemAltmapOffset(m.altmap) >= Number((m.end - m.start + 1n) >> 12n);
          memunmapPages(k, m);
          mapped.splice(i, 1);
          break;
        }
        case 'free': {
          if (!held.length) continue;
          const i = op.pick % held.length;
          k.workload.release(k, held[i]!);
          held.splice(i, 1);
          break;
        }
      }
    } catch (e) {
      if (e instanceof AccessFault) {
        // Onlined memory beyond what QEMU backs: the real kernel dies on its first access, so does the sequence.
        const ramEndPfn = sys.board.dramEndPfn;
        expect(k.sparse.all().some((sec) => sec.online && sec.startPfn + 32768 > ramEndPfn)).toBe(true);
        return;
      }
      if (e instanceof KernelBug && readsPastRange && e.where.startsWith('memunmap_pages')) return;
      if (e instanceof KernelBug)
        throw new Error(
          `unexpected kernel BUG after ${JSON.stringify(op, (_, v) => (typeof v === 'bigint' ? '0x' + v.toString(16) : v))}: ${e.where}`,
        );
      throw e;
    }
    const failed = rc < 0;
    const label = JSON.stringify(op, (_, v) => (typeof v === 'bigint' ? '0x' + v.toString(16) : v));
    if (failed && op.t !== 'remove' && op.t !== 'removeAdded' && !clobbers)
      expect(snapshot(sys), `failed ${label} changed the model`).toBe(before);
    // Migrated pages move; keep the handles pointing at the pages that hold the tags.
    held.splice(0, held.length, ...k.workload.pages().map((p) => p.pfn));
    const v = checkInvariants(sys, label);
    const ownFinding = new Set(['linear-map-covers-present-memory', 'hardware-walk-agrees']);
    if (v.length && mayCut && v.every((x) => ownFinding.has(x.invariant))) return; // the kernel's own
    // add_memory over device memory: __add_pages fails (-EEXIST) and the rollback unmaps the device's linear map;
    // memremap with a short altmap: the sections added before the failure stay, without a linear map.
    if (v.length && clobbers && failed && v.every((x) => ownFinding.has(x.invariant))) return;
    // F4: the neighbours' struct pages went with the shared vmemmap leaf, and the checker says so.
    if (mayF4 && v.some((x) => /of a neighbouring sub-section/.test(x.detail))) return;
    expect(v.map(formatViolation)).toEqual([]);
  }
}

describe('random hot-plug sequences keep the invariants', () => {
  for (const mode of ['', 'no5lvl', 'no4lvl']) {
    test(`${mode || 'sv57'}`, () => {
      fc.assert(
        fc.property(fc.array(opArb, { minLength: 1, maxLength: 24 }), (ops) => runSequence(mode, ops)),
        { numRuns: 350 },
      );
      // 350 sequences of up to 24 checked operations: minutes on a busy 2-core machine.
    }, 600_000);
  }
});

describe('random sequences with ZONE_DEVICE ranges among the RAM keep the invariants (ZONE_DEVICE build)', () => {
  for (const mode of ['', 'no5lvl', 'no4lvl']) {
    test(`${mode || 'sv57'}`, () => {
      fc.assert(
        fc.property(fc.array(zdevOpArb, { minLength: 1, maxLength: 24 }), (ops) =>
          runSequence(mode, ops, true),
        ),
        { numRuns: 100 },
      );
    });
  }
});

describe('a ZONE_DEVICE range whose altmap holds its whole memmap', () => {
  test('memunmap_pages() reads the struct page past the range and oopses, as the kernel would', () => {
    // The property above ends a sequence here; this pins the case itself (block 32, last sub-section).
    const sys = new GuestSystem({
      ramBytes: 8n << 30n,
      smp: 1,
      append: 'mem=2G no5lvl',
      initrdSize: 0,
      profile: zdevKernelProfile(),
    });
    const start = 32n * BLOCK + 63n * SUBSECTION;
    const altmap = newAltmap(Number(start >> 12n), Number((start + SUBSECTION) >> 12n) - 1, 512);
    const pgmap = newDevPagemap('generic', start, SUBSECTION, altmap);
    expect(memremapPages(sys.kernel, pgmap, 0)).toBe(0);
    expect(vmemAltmapOffset(altmap)).toBe(512);
    expect(() => memunmapPages(sys.kernel, pgmap)).toThrow(
      /kernel BUG at memunmap_pages: unable to handle kernel paging request/,
    );
  });
});
