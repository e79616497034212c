/** The kernel's page tables as a walker reads them: how far a leaf reaches from an address. */
import { describe, expect, test } from 'vitest';
import { PhysMem } from '../../../hw/physmem.js';
import { KernelPageTables, PAGE_KERNEL, type PageTableAllocator } from './pgtable.js';

describe('mappedRun', () => {
  test('the pages left in the leaf that maps an address; 0 where no leaf does', () => {
    const mem = new PhysMem();
    mem.addRegion({ name: 'ram', kind: 'ram', basePfn: 0x80000, pages: 4096 });
    let next = 0x80001;
    const alloc: PageTableAllocator = { allocTable: () => next++ };
    const pt = new KernelPageTables(mem, 4, 0x80000);
    const pmd = 512 * 1024; // a 2 MiB leaf at vpn 0x40000 (1 GiB in), then a 4 KiB one after it
    expect(pt.createMapping(pmd, 0x100000, 1, PAGE_KERNEL, alloc)).toBe(true);
    expect(pt.createMapping(pmd + 512, 0x200000, 0, PAGE_KERNEL, alloc)).toBe(true);
    expect(pt.mappedRun(pmd)).toBe(512);
    expect(pt.mappedRun(pmd + 100)).toBe(412);
    expect(pt.mappedRun(pmd + 511)).toBe(1);
    expect(pt.mappedRun(pmd + 512)).toBe(1);
    expect(pt.mappedRun(pmd + 513)).toBe(0);
    expect(pt.mappedRun(0)).toBe(0);
  });
});
