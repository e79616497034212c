import { describe, expect, it } from 'vitest';
import { VIRT_DRAM_BASE_PFN, VIRT_RAM_REGION, VirtBoard } from './board.js';
import { AccessFault } from './physmem.js';
import { bumpAllocator, mapPage } from './ptbuilder.js';
import { SV39 } from './paging.js';
import { PTE_A, PTE_G, PTE_R } from './pte.js';

describe('VirtBoard', () => {
  it("puts -m RAM at 0x8000_0000 under QEMU's region name", () => {
    const b = new VirtBoard({ ramBytes: 2n << 30n, smp: 2 });
    expect(b.mem.regions).toEqual([
      { name: VIRT_RAM_REGION, kind: 'ram', basePfn: VIRT_DRAM_BASE_PFN, pages: 1 << 19 },
    ]);
    expect(b.ramPages).toBe(1 << 19);
    expect(b.dramEndPfn).toBe(0x80000 + (1 << 19));
    expect(() => b.mem.read(0x7ffff)).toThrow(AccessFault);
    expect(b.mem.readLo(0x80000 + (1 << 19) - 1, 0)).toBe(0);
  });

  it('accepts the size in bytes (bigint or number) or in pages', () => {
    expect(new VirtBoard({ ramBytes: 1 << 30 }).ramPages).toBe(1 << 18);
    expect(new VirtBoard({ ramPages: 1000 }).ramPages).toBe(1000);
    expect(() => new VirtBoard({ ramBytes: 4097n })).toThrow(RangeError);
    expect(() => new VirtBoard({})).toThrow(RangeError);
    expect(() => new VirtBoard({ ramPages: 10, ramBytes: 40960n })).toThrow(RangeError);
    expect(() => new VirtBoard({ ramPages: 10, smp: 0 })).toThrow(RangeError);
  });

  it('has -smp harts, each with its own satp and TLB', () => {
    const b = new VirtBoard({ ramPages: 1024, smp: 4 });
    expect(b.smp).toBe(4);
    expect(b.harts.map((h) => h.id)).toEqual([0, 1, 2, 3]);
    expect(new Set(b.harts.map((h) => h.tlb)).size).toBe(4);
    b.hart(1).satp = { mode: 8, asid: 1, ppn: 0x80000 };
    expect(b.hart(0).satp.mode).toBe(0);
    expect(() => b.hart(4)).toThrow(RangeError);
  });

  it('device memory starts at the first 1 GiB boundary above boot RAM', () => {
    expect(new VirtBoard({ ramBytes: 2n << 30n }).deviceMemoryBasePfn).toBe(0x100000); // 2 GiB + 2 GiB = 4 GiB
    expect(new VirtBoard({ ramBytes: 1536n << 20n }).deviceMemoryBasePfn).toBe(0x100000); // 2 GiB + 1.5 GiB, rounded up to 4 GiB
    expect(new VirtBoard({ ramBytes: 1n << 30n }).deviceMemoryBasePfn).toBe(0xc0000);
  });

  it('adds and removes further RAM regions', () => {
    const b = new VirtBoard({ ramBytes: 1n << 30n });
    const base = b.deviceMemoryBasePfn;
    b.addRamRegion('mem1', base, 1 << 18);
    b.mem.write64(base + 5, 0, 0x55, 0);
    expect(b.mem.readLo(base + 5, 0)).toBe(0x55);
    expect(() => b.addRamRegion('mem2', base + 100, 10)).toThrow(/overlaps/);
    expect(b.removeRegion('mem1')).toMatchObject({ name: 'mem1', basePfn: base });
    expect(() => b.mem.read(base + 5)).toThrow(AccessFault);
    expect(() => b.removeRegion(VIRT_RAM_REGION)).toThrow(RangeError);
  });

  it('flushAllTlbs and sfenceVmaAll reach every hart', () => {
    const b = new VirtBoard({ ramPages: 4096, smp: 3 });
    const alloc = bumpAllocator(b.mem, VIRT_DRAM_BASE_PFN);
    const root = alloc();
    mapPage(b.mem, SV39, root, 0x10, 0, 0x80100, PTE_R | PTE_A | PTE_G, alloc);
    mapPage(b.mem, SV39, root, 0x11, 0, 0x80101, PTE_R | PTE_A, alloc);
    const warm = () => {
      for (const h of b.harts) {
        h.satp = { mode: 8, asid: 1, ppn: root };
        expect(b.translate(h.id, 0x10, 'load').ok).toBe(true);
        expect(b.translate(h.id, 0x11, 'load').ok).toBe(true);
      }
    };
    warm();
    b.sfenceVmaAll(undefined, 1);
    expect(b.harts.map((h) => h.tlb.size)).toEqual([1, 1, 1]); // the global entry stays
    b.sfenceVmaAll(0x10);
    expect(b.harts.map((h) => h.tlb.size)).toEqual([0, 0, 0]);
    warm();
    b.flushAllTlbs();
    expect(b.harts.map((h) => [h.tlb.size, h.tlb.flushes])).toEqual([
      [0, 3],
      [0, 3],
      [0, 3],
    ]);
  });
});
