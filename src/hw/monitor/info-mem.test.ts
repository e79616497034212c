import { describe, expect, test } from 'vitest';
import { PhysMem } from '../physmem.js';
import { SV39, SV48 } from '../paging.js';
import { bumpAllocator, mapPage } from '../ptbuilder.js';
import { PTE_A, PTE_D, PTE_G, PTE_R, PTE_W, PTE_X } from '../pte.js';
import { gva2gpa, infoMem } from './info-mem.js';

function machine(): {
  mem: PhysMem;
  root: number;
  map: (vpn: number, ppn: number, level: number, flags: number) => void;
} {
  const mem = new PhysMem();
  mem.addRegion({ name: 'ram', kind: 'ram', basePfn: 0x80000, pages: 1 << 16 });
  const alloc = bumpAllocator(mem, 0x80000);
  const root = alloc();
  return {
    mem,
    root,
    map: (vpn, ppn, level, flags) => mapPage(mem, SV48, root, vpn, level, ppn, flags, alloc),
  };
}

describe('info mem', () => {
  test('merges leaves contiguous in both spaces with equal attributes, splits on any difference', () => {
    const { mem, root, map } = machine();
    const rw = PTE_R | PTE_W | PTE_A | PTE_D | PTE_G;
    map(0x100, 0x90000, 0, rw);
    map(0x101, 0x90001, 0, rw);
    map(0x102, 0x90005, 0, rw); // physical gap: a new line
    map(0x103, 0x90006, 0, PTE_R | PTE_X | PTE_A | PTE_G); // other attributes: a new line
    const lines = infoMem(mem, SV48, root).split('\n');
    expect(lines[0]).toBe('      vaddr            paddr            size         attr');
    expect(lines.slice(2, 5)).toEqual([
      '0000000000100000 0000000090000000 0000000000002000 rw--gad',
      '0000000000102000 0000000090005000 0000000000001000 rw--gad',
      '0000000000103000 0000000090006000 0000000000001000 r-x-ga-',
    ]);
  });

  test('upper-half addresses are printed sign-extended', () => {
    const { mem, root, map } = machine();
    const vpn = 2 ** 36 - 2 ** 27; // the last 512 GiB of Sv48: va 0xffffff8000000000
    map(vpn, 0x90000, 1, PTE_R | PTE_W | PTE_A | PTE_D | PTE_G);
    expect(infoMem(mem, SV48, root)).toContain('ffffff8000000000 0000000090000000 0000000000200000 rw--gad');
  });

  test('with satp in Bare mode there is nothing to show', () => {
    expect(infoMem(new PhysMem(), undefined, 0)).toBe('No translation or protection\n');
  });
});

describe('gva2gpa', () => {
  test('translates through the page tables, keeping the page offset', () => {
    const { mem, root, map } = machine();
    map(0x200, 0x90010, 0, PTE_R | PTE_A);
    expect(gva2gpa(mem, SV48, root, 0x200abcn)).toBe(0x90010abcn);
  });

  test('an unmapped address gives undefined (the monitor prints "Unmapped")', () => {
    const { mem, root } = machine();
    expect(gva2gpa(mem, SV48, root, 0x12345000n)).toBeUndefined();
  });

  test('Bare mode is the identity', () => {
    expect(gva2gpa(new PhysMem(), undefined, 0, 0x80001234n)).toBe(0x80001234n);
    void SV39;
  });
});
