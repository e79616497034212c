/**
 * mm/memory_hotplug.c (Linux 6.12) through a booted system: the errno and
 * message of every add/remove rule (as the d-bad-inputs recording shows
 * them), auto-online, the auto-movable online policy, offlining with
 * unmovable and movable pages, MemTotal, and MHP_MEMMAP_ON_MEMORY.
 */
import { describe, expect, test } from 'vitest';
import { E2BIG, EBUSY, EEXIST, EINVAL } from '../errno.js';
import { GuestSystem } from '../system.js';
import { PAGES_PER_SECTION } from './mmzone.js';
import { ZONE_MOVABLE } from './zone.js';
import { memoryBlockMemmapOnMemoryPages } from './memory_hotplug.js';
import { bootOracleMachine, errnoOf } from '../../../test/support/guest.js';

const MEM = '/sys/devices/system/memory';
const ORACLE = '/sys/kernel/debug/hotplug_oracle';
const BLOCK = 0x8000000n;
const BLOCK_KB = 131072;

const hx = (v: bigint): string => '0x' + v.toString(16);

function oracle(sys: GuestSystem, op: string, start: bigint, size: bigint): number | undefined {
  return errnoOf(() => sys.vfs.write(`${ORACLE}/${op}`, `${hx(start)} ${hx(size)}`));
}

function state(sys: GuestSystem, n: number, v?: string): string {
  if (v !== undefined) sys.vfs.write(`${MEM}/memory${n}/state`, v);
  return sys.vfs.read(`${MEM}/memory${n}/state`);
}

const zones = (sys: GuestSystem, n: number): string => sys.vfs.read(`${MEM}/memory${n}/valid_zones`);

function memTotalKb(sys: GuestSystem): number {
  return Number(/^MemTotal:\s+(\d+) kB$/m.exec(sys.vfs.read('/proc/meminfo'))![1]);
}

/** Kernel messages logged while f ran, as "<level>text". */
function kmsg(sys: GuestSystem, f: () => unknown): string[] {
  const before = sys.kernel.log.records.length;
  f();
  return sys.kernel.log.records.slice(before).map((r) => `<${r.level}>${r.text}`);
}

describe("add_memory: errors in the kernel's order (range, resource, alignment)", () => {
  test('a misaligned start or size is EINVAL with "Block size [0x8000000] unaligned hotplug range"', () => {
    const sys = bootOracleMachine();
    for (const [start, size] of [
      [0x108100000n, 0x8000000n],
      [0x108000000n, 0x100000n],
      [0x108000000n, 0xc000000n],
    ] as const) {
      let rc: number | undefined;
      const log = kmsg(sys, () => (rc = oracle(sys, 'add', start, size)));
      expect(rc).toBe(EINVAL);
      expect(log).toContain(
        `<3>Block size [0x8000000] unaligned hotplug range: start ${hx(start)}, size ${hx(size)}`,
      );
    }
    expect(sys.vfs.list(MEM).some((e) => e.name === 'memory33')).toBe(false);
    // The resource claimed before the check is given back.
    expect(sys.vfs.read('/proc/iomem')).not.toMatch(/^10[0-9a-f]{7}-/m);
  });

  test('a zero size fails the range check first: E2BIG, "Hotplug memory [start-start] exceeds ..."', () => {
    const sys = bootOracleMachine();
    let rc: number | undefined;
    const log = kmsg(sys, () => (rc = oracle(sys, 'add', 0x108000000n, 0n)));
    expect(rc).toBe(E2BIG);
    expect(log).toContain(
      '<4>Hotplug memory [0x108000000-0x108000000] exceeds maximum addressable range [0x80000000-0x7f00007fffffff]',
    );
  });

  test('a range outside arch_get_mappable_range() is E2BIG (below RAM, above the linear map)', () => {
    const sys = bootOracleMachine('no5lvl');
    let rc: number | undefined;
    let log = kmsg(sys, () => (rc = oracle(sys, 'add', 0x40000000n, BLOCK)));
    expect(rc).toBe(E2BIG);
    expect(log).toContain(
      '<4>Hotplug memory [0x40000000-0x48000000] exceeds maximum addressable range [0x80000000-0x40007fffffff]',
    );
    log = kmsg(sys, () => (rc = oracle(sys, 'add', 0x800000000000n, BLOCK)));
    expect(rc).toBe(E2BIG);
    expect(log).toContain(
      '<4>Hotplug memory [0x800000000000-0x800008000000] exceeds maximum addressable range [0x80000000-0x40007fffffff]',
    );
    // The last block below the end of the range is fine.
    expect(oracle(sys, 'add', 0x400078000000n, BLOCK)).toBeUndefined();
  });

  test('a range that overlaps existing memory is EEXIST: boot RAM, the same range twice, a bigger range', () => {
    const sys = bootOracleMachine();
    expect(oracle(sys, 'add', 0x80000000n, BLOCK)).toBe(EEXIST);
    expect(oracle(sys, 'add', 0xf8000000n, 2n * BLOCK)).toBe(EEXIST);
    expect(oracle(sys, 'add', 0x100000000n, BLOCK)).toBeUndefined();
    expect(oracle(sys, 'add', 0x100000000n, BLOCK)).toBe(EEXIST);
    expect(oracle(sys, 'add', 0x100000000n, 2n * BLOCK)).toBe(EEXIST);
  });

  test('the resource is claimed before the alignment check: a misaligned range over boot RAM is EEXIST', () => {
    const sys = bootOracleMachine();
    let rc: number | undefined;
    const log = kmsg(sys, () => (rc = oracle(sys, 'add', 0x80100000n, BLOCK)));
    expect(rc).toBe(EEXIST);
    expect(log.some((l) => l.includes('unaligned'))).toBe(false);
  });

  test('a successful add claims "System RAM" in /proc/iomem and creates offline blocks', () => {
    const sys = bootOracleMachine();
    expect(oracle(sys, 'add', 0x100000000n, 2n * BLOCK)).toBeUndefined();
    expect(sys.vfs.read('/proc/iomem')).toMatch(/^100000000-10fffffff : System RAM$/m);
    expect(state(sys, 32)).toBe('offline\n');
    expect(state(sys, 33)).toBe('offline\n');
  });

  test('add_driver_managed names the resource "System RAM (oracle)"', () => {
    const sys = bootOracleMachine();
    expect(oracle(sys, 'add_driver_managed', 0x100000000n, BLOCK)).toBeUndefined();
    expect(sys.vfs.read('/proc/iomem')).toMatch(/^100000000-107ffffff : System RAM \(oracle\)$/m);
  });
});

describe('remove_memory', () => {
  test('removing a range with an online block is EBUSY with "removing memory fails, because memory [...] is onlined"', () => {
    const sys = bootOracleMachine();
    oracle(sys, 'add', 0x100000000n, 2n * BLOCK);
    state(sys, 33, 'online_movable');
    let rc: number | undefined;
    const log = kmsg(sys, () => (rc = oracle(sys, 'remove', 0x100000000n, 2n * BLOCK)));
    expect(rc).toBe(EBUSY);
    expect(log).toContain(
      '<4>removing memory fails, because memory [0x0000000108000000-0x000000010fffffff] is onlined',
    );
    expect(state(sys, 32)).toBe('offline\n');
  });

  test('removing boot memory is EBUSY (its blocks are online)', () => {
    const sys = bootOracleMachine();
    expect(oracle(sys, 'remove', 0x80000000n, BLOCK)).toBe(EBUSY);
  });

  test('after offlining, remove takes the blocks and the resource away', () => {
    const sys = bootOracleMachine();
    oracle(sys, 'add', 0x100000000n, BLOCK);
    state(sys, 32, 'online');
    state(sys, 32, 'offline');
    expect(oracle(sys, 'remove', 0x100000000n, BLOCK)).toBeUndefined();
    expect(sys.vfs.exists(`${MEM}/memory32`)).toBe(false);
    expect(sys.vfs.read('/proc/iomem')).not.toMatch(/^100000000-/m);
  });

  test('offline_and_remove offlines online blocks and removes them', () => {
    const sys = bootOracleMachine();
    oracle(sys, 'add', 0x100000000n, 2n * BLOCK);
    state(sys, 32, 'online_movable');
    expect(oracle(sys, 'offline_and_remove', 0x100000000n, 2n * BLOCK)).toBeUndefined();
    expect(sys.vfs.exists(`${MEM}/memory32`)).toBe(false);
    expect(oracle(sys, 'offline_and_remove', 0x108100000n, BLOCK)).toBe(EINVAL);
  });
});

describe('MemTotal', () => {
  test('add leaves MemTotal alone; online adds 128 MiB per block; offline and remove take it back', () => {
    const sys = bootOracleMachine();
    const base = memTotalKb(sys);
    oracle(sys, 'add', 0x100000000n, 2n * BLOCK);
    expect(memTotalKb(sys)).toBe(base);
    state(sys, 32, 'online_movable');
    expect(memTotalKb(sys)).toBe(base + BLOCK_KB);
    state(sys, 33, 'online_kernel');
    expect(memTotalKb(sys)).toBe(base + 2 * BLOCK_KB);
    state(sys, 32, 'offline');
    state(sys, 33, 'offline');
    expect(memTotalKb(sys)).toBe(base);
    oracle(sys, 'remove', 0x100000000n, 2n * BLOCK);
    expect(memTotalKb(sys)).toBe(base);
  });

  test('1 GiB onlined movable adds exactly 1048576 kB, as in the b recording (2034068 -> 3082644 kB)', () => {
    const sys = bootOracleMachine();
    const base = memTotalKb(sys);
    oracle(sys, 'add', 0x100000000n, 8n * BLOCK);
    for (let n = 32; n < 40; n++) state(sys, n, 'online_movable');
    expect(memTotalKb(sys) - base).toBe(3082644 - 2034068);
  });
});

describe('auto-online', () => {
  test('memhp_default_state=online onlines added blocks in the default zone', () => {
    const sys = bootOracleMachine('memhp_default_state=online');
    const base = memTotalKb(sys);
    oracle(sys, 'add', 0x100000000n, 2n * BLOCK);
    expect(state(sys, 32)).toBe('online\n');
    expect(state(sys, 33)).toBe('online\n');
    expect(zones(sys, 32)).toBe('Normal\n');
    expect(memTotalKb(sys)).toBe(base + 2 * BLOCK_KB);
  });

  test('memhp_default_state=online_movable onlines them movable', () => {
    const sys = bootOracleMachine('memhp_default_state=online_movable');
    oracle(sys, 'add', 0x100000000n, BLOCK);
    expect(zones(sys, 32)).toBe('Movable\n');
  });

  test('auto_online_blocks written at run time applies to the next add', () => {
    const sys = bootOracleMachine();
    sys.vfs.write(`${MEM}/auto_online_blocks`, 'online_kernel');
    oracle(sys, 'add', 0x100000000n, BLOCK);
    expect(zones(sys, 32)).toBe('Normal\n');
  });
});

describe('online_policy=auto-movable (auto_movable_zone_for_pfn)', () => {
  // Boot memory with mem=2G: ZONE_DMA32 present_early_pages = 524288 (the a-boot zoneinfo).
  // A block may go MOVABLE while movable_pages + 32768 <= ratio * 524288 / 100.
  const KERNEL_EARLY = 524288;

  test('the ratio rule: with ratio 25, four blocks fit MOVABLE (131072 <= 131072), the fifth goes Normal', () => {
    expect(Math.floor((25 * KERNEL_EARLY) / 100)).toBe(4 * PAGES_PER_SECTION);
    const sys = bootOracleMachine(
      'memory_hotplug.online_policy=auto-movable memory_hotplug.auto_movable_ratio=25',
    );
    oracle(sys, 'add', 0x100000000n, 6n * BLOCK);
    // The default zone comes first in valid_zones: MOVABLE while the ratio allows it.
    expect(zones(sys, 32)).toBe('Movable Normal\n');
    for (let n = 32; n < 38; n++) state(sys, n, 'online');
    expect([32, 33, 34, 35, 36, 37].map((n) => zones(sys, n))).toEqual([
      'Movable\n',
      'Movable\n',
      'Movable\n',
      'Movable\n',
      'Normal\n',
      'Normal\n',
    ]);
    expect(sys.kernel.pgdat.zone(ZONE_MOVABLE).presentPages).toBe(4 * PAGES_PER_SECTION);
  });

  test('with ratio 10 (52428 pages) only one block fits; offline blocks then default to Normal', () => {
    const sys = bootOracleMachine(
      'memory_hotplug.online_policy=auto-movable memory_hotplug.auto_movable_ratio=10',
    );
    oracle(sys, 'add', 0x100000000n, 3n * BLOCK);
    state(sys, 32, 'online');
    expect(zones(sys, 32)).toBe('Movable\n');
    expect(zones(sys, 33)).toBe('Normal Movable\n');
    state(sys, 33, 'online');
    expect(zones(sys, 33)).toBe('Normal\n');
  });

  test('hot-added Normal memory is not early memory: it does not raise the movable allowance', () => {
    const sys = bootOracleMachine(
      'memory_hotplug.online_policy=auto-movable memory_hotplug.auto_movable_ratio=10',
    );
    oracle(sys, 'add', 0x100000000n, 4n * BLOCK);
    for (const n of [32, 33, 34]) state(sys, n, 'online_kernel');
    state(sys, 35, 'online');
    // 32768 <= 52428: the first movable block still fits, however much Normal was added.
    expect(zones(sys, 35)).toBe('Movable\n');
    state(sys, 35, 'offline');
    state(sys, 35, 'online_movable');
    expect(zones(sys, 35)).toBe('Movable\n');
  });

  test('ratio 0 never onlines MOVABLE by policy; online_movable still can', () => {
    const sys = bootOracleMachine(
      'memory_hotplug.online_policy=auto-movable memory_hotplug.auto_movable_ratio=0',
    );
    oracle(sys, 'add', 0x100000000n, 2n * BLOCK);
    state(sys, 32, 'online');
    expect(zones(sys, 32)).toBe('Normal\n');
    state(sys, 33, 'online_movable');
    expect(zones(sys, 33)).toBe('Movable\n');
  });

  test('auto-online follows the policy too: the default ratio 301 allows all 6 GiB above boot RAM', () => {
    // 48 blocks * 32768 = 1572864 <= 301 * 524288 / 100 = 1578106.
    const sys = bootOracleMachine('memhp_default_state=online memory_hotplug.online_policy=auto-movable');
    oracle(sys, 'add', 0x100000000n, 48n * BLOCK);
    expect(zones(sys, 32)).toBe('Movable\n');
    expect(zones(sys, 79)).toBe('Movable\n');
    expect(sys.vfs.read('/sys/module/memory_hotplug/parameters/online_policy')).toBe('auto-movable\n');
  });
});

describe('offline_pages with a workload', () => {
  test('an unmovable page in the block makes offlining fail with EBUSY; the block stays online', () => {
    const sys = bootOracleMachine();
    const k = sys.kernel;
    oracle(sys, 'add', 0x100000000n, BLOCK);
    state(sys, 32, 'online_kernel');
    const [pfn] = k.workload.allocate(k, 1, 'unmovable');
    // Kernel allocations prefer ZONE_NORMAL: the page lands in the new block.
    expect(pfn! >= 0x100000 && pfn! < 0x108000).toBe(true);
    const total = memTotalKb(sys);
    expect(errnoOf(() => state(sys, 32, 'offline'))).toBe(EBUSY);
    expect(state(sys, 32)).toBe('online\n');
    expect(memTotalKb(sys)).toBe(total);
    // Once the page is freed, the block goes offline.
    k.workload.release(k, pfn!);
    state(sys, 32, 'offline');
    expect(state(sys, 32)).toBe('offline\n');
  });

  test('movable pages are migrated out of the block and keep their contents', () => {
    const sys = bootOracleMachine();
    const k = sys.kernel;
    oracle(sys, 'add', 0x100000000n, BLOCK);
    state(sys, 32, 'online_movable');
    const pfns = k.workload.allocate(k, 300, 'movable');
    expect(pfns).toHaveLength(300);
    expect(pfns.every((p) => p >= 0x100000 && p < 0x108000)).toBe(true);
    const tags = k.workload
      .pages()
      .map((p) => p.tag)
      .sort((a, b) => a - b);
    state(sys, 32, 'offline');
    expect(state(sys, 32)).toBe('offline\n');
    const after = k.workload.pages();
    expect(after).toHaveLength(300);
    expect(after.every((p) => p.pfn < 0x100000 || p.pfn >= 0x108000)).toBe(true);
    expect(after.map((p) => p.tag).sort((a, b) => a - b)).toEqual(tags);
    expect(k.workload.corrupted(k)).toEqual([]);
    // And the emptied block can be removed.
    expect(oracle(sys, 'remove', 0x100000000n, BLOCK)).toBeUndefined();
  });

  test('offlining boot memory that holds kernel allocations is EBUSY (the d15 recording)', () => {
    const sys = bootOracleMachine();
    expect(errnoOf(() => state(sys, 16, 'offline'))).toBe(EBUSY);
    expect(errnoOf(() => state(sys, 31, 'offline'))).toBe(EBUSY);
  });
});

describe('MHP_MEMMAP_ON_MEMORY (add_memmap with memory_hotplug.memmap_on_memory=1)', () => {
  function vmemmapBacking(sys: GuestSystem, pfn: number): number {
    const L = sys.kernel.layout;
    const va = L.pfnToPage(BigInt(pfn));
    const e = sys.kernel.pt.lookup(Number(va >> 12n));
    expect(e.leaf).toBe(true);
    return sys.kernel.pt.entryPfn(e.tablePfn, e.index);
  }

  test("each block's memmap comes from the first 2 MiB of the block itself", () => {
    const sys = bootOracleMachine('memory_hotplug.memmap_on_memory=1');
    expect(sys.vfs.read(`${ORACLE}/info`)).toContain('mhp_supports_memmap_on_memory=1\n');
    expect(oracle(sys, 'add_memmap', 0x100000000n, 2n * BLOCK)).toBeUndefined();
    // As the f recording's ptwalk shows: vmemmap of memory32 -> pa 0x100000000, of memory33 -> 0x108000000.
    expect(vmemmapBacking(sys, 0x100000)).toBe(0x100000);
    expect(vmemmapBacking(sys, 0x108000)).toBe(0x108000);
  });

  test('MemTotal grows by 126 MiB per block: the 2 MiB memmap is present but not managed', () => {
    const sys = bootOracleMachine('memory_hotplug.memmap_on_memory=1');
    const base = memTotalKb(sys);
    oracle(sys, 'add_memmap', 0x100000000n, 8n * BLOCK);
    expect(memTotalKb(sys)).toBe(base);
    for (let n = 32; n < 40; n++) state(sys, n, 'online_movable');
    // The f recording: 2034068 -> 3066260 kB.
    expect(memTotalKb(sys) - base).toBe(8 * 126 * 1024);
    expect(memTotalKb(sys) - base).toBe(3066260 - 2034068);
    const movable = sys.kernel.pgdat.zone(ZONE_MOVABLE);
    expect(movable.presentPages).toBe(8 * PAGES_PER_SECTION);
    expect(movable.managedPages).toBe(8 * (PAGES_PER_SECTION - 512));
    // The memmap pages are never free.
    expect(movable.free.isFree(0x100000)).toBe(false);
    expect(movable.free.isFree(0x100000 + 511)).toBe(false);
    for (let n = 32; n < 40; n++) state(sys, n, 'offline');
    expect(memTotalKb(sys)).toBe(base);
    expect(oracle(sys, 'remove', 0x100000000n, 8n * BLOCK)).toBeUndefined();
  });

  test('without memory_hotplug.memmap_on_memory=1 the flag is ignored: the memmap comes from elsewhere', () => {
    const sys = bootOracleMachine();
    expect(sys.vfs.read(`${ORACLE}/info`)).toContain('mhp_supports_memmap_on_memory=0\n');
    const base = memTotalKb(sys);
    oracle(sys, 'add_memmap', 0x100000000n, BLOCK);
    expect(vmemmapBacking(sys, 0x100000)).toBeLessThan(0x100000);
    state(sys, 32, 'online_movable');
    expect(memTotalKb(sys) - base).toBe(BLOCK_KB);
  });

  test('the memmap_on_memory parameter file shows Y or N', () => {
    expect(
      bootOracleMachine('memory_hotplug.memmap_on_memory=1').vfs.read(
        '/sys/module/memory_hotplug/parameters/memmap_on_memory',
      ),
    ).toBe('Y\n');
    expect(bootOracleMachine().vfs.read('/sys/module/memory_hotplug/parameters/memmap_on_memory')).toBe(
      'N\n',
    );
  });

  // mm/memory_hotplug.c get_memmap_mode(): MEMMAP_ON_MEMORY_FORCE reads back as "force\n".
  test('memmap_on_memory=force reads back as "force"', () => {
    expect(
      bootOracleMachine('memory_hotplug.memmap_on_memory=force').vfs.read(
        '/sys/module/memory_hotplug/parameters/memmap_on_memory',
      ),
    ).toBe('force\n');
  });

  // A 128 MiB block's memmap is 512 pages, already a whole pageblock: force mode wastes nothing.
  test('force mode supports memmap_on_memory and pageblock-aligns the memmap pages (0 wasted here)', () => {
    const sys = bootOracleMachine('memory_hotplug.memmap_on_memory=force');
    expect(sys.vfs.read(`${ORACLE}/info`)).toContain('mhp_supports_memmap_on_memory=1\n');
    expect(memoryBlockMemmapOnMemoryPages(sys.kernel)).toBe(512);
    expect(sys.kernel.log.dmesg()).toContain('] Memory hotplug will waste 0 pages in each memory block\n');
  });
});
