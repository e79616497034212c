import { describe, expect, it } from 'vitest';
import { SV39 } from './paging.js';
import { PhysMem } from './physmem.js';
import { bumpAllocator, mapPage, setPte, unmapPage } from './ptbuilder.js';
import { PTE_R, PTE_V, pteHi, pteLo } from './pte.js';

function setup() {
  const mem = new PhysMem();
  mem.addRegion({ name: 'ram', kind: 'ram', basePfn: 0x80000, pages: 64 });
  const alloc = bumpAllocator(mem, 0x80000, 0x80000 + 64);
  return { mem, alloc, root: alloc() };
}

describe('ptbuilder', () => {
  it('creates pointer tables with V only and a leaf with V added', () => {
    const { mem, alloc, root } = setup();
    mapPage(mem, SV39, root, 0x201, 0, 0x90000, PTE_R, alloc);
    expect(mem.readLo(root, 0)).toBe(pteLo(0x80001, PTE_V));
    expect(mem.readLo(0x80001, 1)).toBe(pteLo(0x80002, PTE_V));
    expect(mem.readLo(0x80002, 1)).toBe(pteLo(0x90000, PTE_R | PTE_V));
  });

  it('refuses overlapping mappings', () => {
    const { mem, alloc, root } = setup();
    mapPage(mem, SV39, root, 0x200, 1, 0x200, PTE_R, alloc);
    expect(() => mapPage(mem, SV39, root, 0x201, 0, 0x1, PTE_R, alloc)).toThrow(/under a level-1 leaf/);
    expect(() => mapPage(mem, SV39, root, 0x200, 1, 0x400, PTE_R, alloc)).toThrow(/already mapped/);
    mapPage(mem, SV39, root, 0x10, 0, 0x98, PTE_R, alloc, { napot: true });
    expect(() => mapPage(mem, SV39, root, 0x1f, 0, 0x1, PTE_R, alloc)).toThrow(/already mapped/);
    expect(() => mapPage(mem, SV39, root, 0x400, 1, 0x400, PTE_R, alloc, { napot: true })).toThrow(/NAPOT/);
  });

  it('writes all 16 NAPOT entries with ppn[3:0] = 1000 and N', () => {
    const { mem, alloc, root } = setup();
    mapPage(mem, SV39, root, 0x13, 0, 0x91234, PTE_R, alloc, { napot: true });
    for (let i = 0x10; i < 0x20; i++) {
      expect(mem.readLo(0x80002, i)).toBe(pteLo(0x91238, PTE_R | PTE_V));
      expect(mem.readHi(0x80002, i)).toBe(pteHi(0x91238, 0, true));
    }
  });

  it('unmapPage and setPte need the path', () => {
    const { mem, alloc, root } = setup();
    expect(unmapPage(mem, SV39, root, 0x5, 0)).toBe(false);
    expect(() => setPte(mem, SV39, root, 0x5, 0, 1, 0)).toThrow(RangeError);
    mapPage(mem, SV39, root, 0x5, 0, 0x90000, PTE_R, alloc);
    expect(unmapPage(mem, SV39, root, 0x5, 0)).toBe(true);
    expect(mem.readLo(0x80002, 5)).toBe(0);
  });

  it('the bump allocator stops at its limit', () => {
    const { alloc } = setup();
    for (let i = 1; i < 64; i++) alloc();
    expect(() => alloc()).toThrow(/exhausted/);
  });
});
