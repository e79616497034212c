/**
 * Each strategy's distinctive rule, on the partial removal that splits a 1 GiB linear-map leaf
 * (Sv48, 1 GiB hot-added at 0x100000000, mem=2G): what riscv 6.12, the candidate fixes and the
 * arm64 and x86 algorithms do with it, taken from their kernel sources.
 */
import { describe, expect, test } from 'vitest';
import { GuestSystem } from '../system.js';
import { addMemory, removeMemory, MHP_NONE } from '../mm/memory_hotplug.js';
import { stateStore, onlineStore } from '../drivers/base/memory.js';
import { EBUSY, EPERM, KernelOops } from '../errno.js';
import { STRATEGIES, strategyByName } from './strategies.js';
import { linearVpn } from './riscv/init.js';
import { checkInvariants } from '../../check/invariants.js';
import { memmapVpnRange } from '../mm/sparse_vmemmap.js';

const GiB = 1n << 30n;
const MiB = 1n << 20n;

function boot(strategy: string, append = 'mem=2G no5lvl'): GuestSystem {
  return new GuestSystem({
    ramBytes: 8n * GiB,
    smp: 2,
    append,
    initrdSize: 0x7f000,
    arch: strategyByName(strategy),
  });
}

/** The leaf level mapping __va(pa), or undefined when nothing maps it. */
function linearLeafLevel(sys: GuestSystem, pa: bigint): number | undefined {
  const hit = sys.kernel.pt.lookup(linearVpn(sys.kernel, Number(pa >> 12n)));
  return hit.leaf ? hit.level : undefined;
}

function invariantsAfter(sys: GuestSystem): string[] {
  return [...new Set(checkInvariants(sys, 'test').map((v) => v.invariant))];
}

describe('strategies', () => {
  test('every strategy boots the recorded machine the same way, but for what it changes at boot', () => {
    const ptdump = (s: GuestSystem): string => s.vfs.read('/sys/kernel/debug/kernel_page_tables');
    const ref = ptdump(boot('riscv-6.12'));
    // The first posting's base-page vmemmap shows at boot already (no preallocation maps no leaf).
    const differAtBoot = new Set(['riscv-v1-2023']);
    for (const name of STRATEGIES.keys()) {
      if (differAtBoot.has(name)) expect(ptdump(boot(name)), name).not.toBe(ref);
      else expect(ptdump(boot(name)), name).toBe(ref);
    }
  });

  test('riscv-6.12 clears the whole 1 GiB PUD leaf when 128 MiB of it is removed (F1)', () => {
    const sys = boot('riscv-6.12');
    expect(addMemory(sys.kernel, 0, 0x100000000n, GiB, MHP_NONE)).toBe(0);
    expect(linearLeafLevel(sys, 0x108000000n)).toBe(2);
    expect(removeMemory(sys.kernel, 0x100000000n, 128n * MiB)).toBe(0);
    expect(linearLeafLevel(sys, 0x108000000n)).toBeUndefined();
    expect(invariantsAfter(sys)).toContain('linear-map-covers-present-memory');
  });

  test('riscv-6.12 oopses when the kernel next takes a page from the onlined block', () => {
    const sys = boot('riscv-6.12');
    addMemory(sys.kernel, 0, 0x100000000n, GiB, MHP_NONE);
    removeMemory(sys.kernel, 0x100000000n, 128n * MiB);
    expect(onlineStore(sys.kernel, sys.kernel.memoryBlocks.get(33)!, '1')).toBe(0);
    expect(() => addMemory(sys.kernel, 0, 0x200000000n, 128n * MiB, MHP_NONE)).toThrow(KernelOops);
  });

  test('riscv-split splits the leaf into 2 MiB leaves and removes only what was asked', () => {
    const sys = boot('riscv-split');
    addMemory(sys.kernel, 0, 0x100000000n, GiB, MHP_NONE);
    expect(removeMemory(sys.kernel, 0x100000000n, 128n * MiB)).toBe(0);
    expect(linearLeafLevel(sys, 0x100000000n)).toBeUndefined();
    expect(linearLeafLevel(sys, 0x108000000n)).toBe(1);
    expect(linearLeafLevel(sys, 0x13fe00000n)).toBe(1);
    expect(invariantsAfter(sys)).toEqual([]);
  });

  test('riscv-reject refuses a removal whose edge splits a leaf, and changes nothing', () => {
    const sys = boot('riscv-reject');
    addMemory(sys.kernel, 0, 0x100000000n, GiB, MHP_NONE);
    const before = sys.vfs.read('/sys/kernel/debug/kernel_page_tables');
    expect(removeMemory(sys.kernel, 0x100000000n, 128n * MiB)).toBe(-EBUSY);
    expect(sys.vfs.read('/sys/kernel/debug/kernel_page_tables')).toBe(before);
    expect(sys.kernel.log.dmesg()).toMatch(/splits a leaf entry in linear map/);
    // Removing the whole 1 GiB splits nothing.
    expect(removeMemory(sys.kernel, 0x100000000n, GiB)).toBe(0);
    expect(invariantsAfter(sys)).toEqual([]);
  });

  test('arm64-6.12 maps hot-added memory with 4 KiB pages under rodata=full and survives the partial removal', () => {
    const sys = boot('arm64-6.12');
    addMemory(sys.kernel, 0, 0x100000000n, GiB, MHP_NONE);
    expect(linearLeafLevel(sys, 0x108000000n)).toBe(0);
    const flushes = sys.kernel.stats.flushRange;
    expect(removeMemory(sys.kernel, 0x100000000n, 128n * MiB)).toBe(0);
    // unmap_hotplug_range(): one flush_tlb_kernel_range per cleared leaf (32768 PTEs + the vmemmap's).
    expect(sys.kernel.stats.flushRange - flushes).toBeGreaterThan(32768);
    expect(linearLeafLevel(sys, 0x108000000n)).toBe(0);
    expect(invariantsAfter(sys)).toEqual([]);
  });

  test('arm64-6.12 with rodata=on uses a 1 GiB block and clears it whole', () => {
    const sys = boot('arm64-6.12', 'mem=2G no5lvl rodata=on');
    addMemory(sys.kernel, 0, 0x100000000n, GiB, MHP_NONE);
    expect(linearLeafLevel(sys, 0x108000000n)).toBe(2);
    removeMemory(sys.kernel, 0x100000000n, 128n * MiB);
    expect(linearLeafLevel(sys, 0x108000000n)).toBeUndefined();
    expect(invariantsAfter(sys)).toContain('linear-map-covers-present-memory');
  });

  test('arm64-7.1 batches the linear map flush: one for the range instead of one per leaf', () => {
    const sys = boot('arm64-7.1');
    addMemory(sys.kernel, 0, 0x100000000n, GiB, MHP_NONE);
    const flushes = sys.kernel.stats.flushRange;
    removeMemory(sys.kernel, 0x100000000n, 128n * MiB);
    expect(sys.kernel.stats.flushRange - flushes).toBeLessThan(100);
  });

  test('arm64-7.1 refuses to offline a block whose removal would split a leaf', () => {
    const sys = boot('arm64-7.1', 'mem=2G no5lvl rodata=on');
    addMemory(sys.kernel, 0, 0x100000000n, GiB, MHP_NONE);
    const mem = sys.kernel.memoryBlocks.get(32)!;
    expect(stateStore(sys.kernel, mem, 'online_movable')).toBe(0);
    expect(stateStore(sys.kernel, mem, 'offline')).toBe(-EPERM);
    expect(mem.state).toBe('online');
    expect(sys.kernel.log.dmesg()).toMatch(/splits a leaf entry in linear map/);
  });

  test('arm64 refuses to offline boot memory (prevent_bootmem_remove_notifier)', () => {
    const sys = boot('arm64-6.12');
    expect(stateStore(sys.kernel, sys.kernel.memoryBlocks.get(20)!, 'offline')).toBe(-EPERM);
    expect(sys.kernel.log.dmesg()).toMatch(/Boot memory \[a0000000 a8000000\] offlining attempted/);
  });

  test('x86 leaves a partly removed PUD leaf mapped and walks its data page as a PMD table: the free oopses', () => {
    const sys = boot('x86-6.12');
    addMemory(sys.kernel, 0, 0x100000000n, GiB, MHP_NONE);
    // The data page's struct page (section 32) was unmapped by __remove_pages before the linear map.
    expect(() => removeMemory(sys.kernel, 0x100000000n, 128n * MiB)).toThrow(KernelOops);
  });

  test("x86 removing the last 128 MiB frees the leaf's first data page as a table and clears the PUD", () => {
    const sys = boot('x86-6.12');
    addMemory(sys.kernel, 0, 0x100000000n, GiB, MHP_NONE);
    expect(removeMemory(sys.kernel, 0x138000000n, 128n * MiB)).toBe(0);
    expect(sys.kernel.bogusTableFrees).toEqual([0x100000]);
    expect(linearLeafLevel(sys, 0x108000000n)).toBeUndefined();
    expect(invariantsAfter(sys)).toEqual(
      expect.arrayContaining(['only-tables-freed-as-tables', 'linear-map-covers-present-memory']),
    );
  });

  test('x86 clears a 1 GiB leaf when the range covers it', () => {
    const sys = boot('x86-6.12');
    addMemory(sys.kernel, 0, 0x100000000n, GiB, MHP_NONE);
    expect(removeMemory(sys.kernel, 0x100000000n, GiB)).toBe(0);
    expect(invariantsAfter(sys)).toEqual([]);
  });

  test('riscv-v1-2023 populates the vmemmap with base pages', () => {
    const sys = boot('riscv-v1-2023');
    addMemory(sys.kernel, 0, 0x100000000n, 128n * MiB, MHP_NONE);
    const [vs] = memmapVpnRange(sys.kernel, 0x100000, 32768);
    expect(sys.kernel.pt.lookup(vs).level).toBe(0);
    expect(removeMemory(sys.kernel, 0x100000000n, 128n * MiB)).toBe(0);
    expect(invariantsAfter(sys)).toEqual([]);
  });

  test('riscv-no-prealloc leaves the vmemmap and linear-map PGD entries to be made on demand', () => {
    const filled = (s: GuestSystem): number => {
      let n = 0;
      for (let i = 0; i < 512; i++) if (!s.kernel.pt.isNone(s.kernel.pt.rootPfn, i)) n++;
      return n;
    };
    expect(filled(boot('riscv-no-prealloc'))).toBeLessThan(filled(boot('riscv-6.12')));
  });
});
