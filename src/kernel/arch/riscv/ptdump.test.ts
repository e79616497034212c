/**
 * /sys/kernel/debug/kernel_page_tables (arch/riscv/mm/ptdump.c over
 * mm/ptdump.c of Linux 6.12) for small page tables written into physical
 * memory: line format, units, level names, flag columns, run merging and
 * section markers.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { PhysMem } from '../../../hw/physmem.js';
import { SV39, SV48, SV57, type PagingMode } from '../../../hw/paging.js';
import { PTE_U, pteHi, pteLo } from '../../../hw/pte.js';
import { defaultKernelProfile } from '../../profile.js';
import { KernelLayout } from './layout.js';
import {
  KernelPageTables,
  PAGE_KERNEL,
  PAGE_KERNEL_READ,
  PAGE_KERNEL_READ_EXEC,
  type PageTableAllocator,
} from './pgtable.js';
import { kernelPageTables, ptdumpMarkers } from './ptdump.js';

const TABLE_BASE = 0x80000;

interface Setup {
  mem: PhysMem;
  pt: KernelPageTables;
  L: KernelLayout;
  alloc: PageTableAllocator;
}

function setup(mode: PagingMode): Setup {
  const mem = new PhysMem();
  mem.addRegion({ name: 'ram', kind: 'ram', basePfn: TABLE_BASE, pages: 4096 });
  let next = TABLE_BASE + 1;
  const alloc: PageTableAllocator = { allocTable: () => next++ };
  const pt = new KernelPageTables(mem, mode.levels as 3 | 4 | 5, TABLE_BASE);
  return { mem, pt, L: new KernelLayout(mode, defaultKernelProfile()), alloc };
}

const vpn = (va: bigint): number => Number(va >> 12n);
const MAP = { PTE: 0, PMD: 1, PUD: 2 } as const;

function map(s: Setup, va: bigint, pa: bigint, level: keyof typeof MAP, prot: number, count = 1): void {
  const step = 1n << BigInt(12 + 9 * MAP[level]);
  for (let i = 0n; i < BigInt(count); i++) {
    expect(
      s.pt.createMapping(vpn(va + i * step), Number((pa + i * step) >> 12n), MAP[level], prot, s.alloc),
    ).toBe(true);
  }
}

/** Overwrites the leaf that maps va with raw PTE halves (for bits createMapping does not set). */
function poke(s: Setup, va: bigint, lo: number, hi: number): void {
  const e = s.pt.lookup(vpn(va));
  expect(e.leaf).toBe(true);
  s.pt.write(e.tablePfn, e.index, lo, hi);
}

function recordedPtdump(recording: string): string {
  const path = fileURLToPath(new URL(`../../../../test/fixtures/oracle/${recording}`, import.meta.url));
  const lines = readFileSync(path, 'utf8').split('\n');
  const begin = lines.indexOf('=== BEGIN cat /sys/kernel/debug/kernel_page_tables ===');
  const end = lines.findIndex((l, i) => i > begin && l.startsWith('=== END'));
  return lines.slice(begin + 1, end).join('\n') + '\n';
}

const RW = '.   ..     ..   D A G . . W R V';
const RO = '.   ..     ..   D A G . . . R V';
const RX = '.   ..     ..   D A G . X . R V';

describe('kernel_page_tables, sv39', () => {
  function build(): Setup {
    const s = setup(SV39);
    // Fixmap: one PTE (the earlycon UART) and two PMDs that are not physically contiguous.
    map(s, 0xffffffc4febf9000n, 0x10000000n, 'PTE', PAGE_KERNEL);
    map(s, 0xffffffc4fec00000n, 0xbfe00000n, 'PMD', PAGE_KERNEL);
    map(s, 0xffffffc4fee00000n, 0x90000000n, 'PMD', PAGE_KERNEL);
    // Linear map: the start of what the real kernel builds for mem=2G.
    const po = s.L.pageOffset;
    map(s, po, 0x80000000n, 'PMD', PAGE_KERNEL);
    map(s, po + 0x200000n, 0x80200000n, 'PMD', PAGE_KERNEL_READ);
    map(s, po + 0x400000n, 0x80400000n, 'PMD', PAGE_KERNEL);
    map(s, po + 0x600000n, 0x80600000n, 'PTE', PAGE_KERNEL, 512);
    map(s, po + 0x800000n, 0x80800000n, 'PMD', PAGE_KERNEL_READ, 2);
    map(s, po + 0xc00000n, 0x80c00000n, 'PMD', PAGE_KERNEL, 5);
    // Kernel mapping.
    map(s, 0xffffffff80000000n, 0x80200000n, 'PMD', PAGE_KERNEL_READ_EXEC);
    map(s, 0xffffffff80200000n, 0x80400000n, 'PMD', PAGE_KERNEL_READ);
    return s;
  }

  test('the whole dump: every marker in order, empty sections included, runs merged', () => {
    const s = build();
    expect(kernelPageTables(s.pt, s.L)).toBe(
      [
        '---[ Fixmap start ]---',
        `0xffffffc4febf9000-0xffffffc4febfa000    0x0000000010000000         4K PTE ${RW}`,
        `0xffffffc4fec00000-0xffffffc4ff000000    0x00000000bfe00000         4M PMD ${RW}`,
        '---[ Fixmap end ]---',
        '---[ PCI I/O start ]---',
        '---[ PCI I/O end ]---',
        '---[ vmemmap start ]---',
        '---[ vmemmap end ]---',
        '---[ vmalloc() area ]---',
        '---[ vmalloc() end ]---',
        '---[ Linear mapping ]---',
        `0xffffffd600000000-0xffffffd600200000    0x0000000080000000         2M PMD ${RW}`,
        `0xffffffd600200000-0xffffffd600400000    0x0000000080200000         2M PMD ${RO}`,
        `0xffffffd600400000-0xffffffd600600000    0x0000000080400000         2M PMD ${RW}`,
        `0xffffffd600600000-0xffffffd600800000    0x0000000080600000         2M PTE ${RW}`,
        `0xffffffd600800000-0xffffffd600c00000    0x0000000080800000         4M PMD ${RO}`,
        `0xffffffd600c00000-0xffffffd601600000    0x0000000080c00000        10M PMD ${RW}`,
        '---[ Modules/BPF mapping ]---',
        '---[ Kernel mapping ]---',
        `0xffffffff80000000-0xffffffff80200000    0x0000000080200000         2M PMD ${RX}`,
        `0xffffffff80200000-0xffffffff80400000    0x0000000080400000         2M PMD ${RO}`,
        '',
      ].join('\n'),
    );
  });

  test('lines are formatted byte for byte as the real kernel printed them', () => {
    const s = build();
    const out = kernelPageTables(s.pt, s.L).split('\n');
    const recorded = recordedPtdump('a-boot.sv39.log').split('\n');
    // The same mappings as in the recording give the recording's lines (all but the shortened last linear run).
    const leaves = out.filter((x) => x.startsWith('0x') && !x.includes(' 10M '));
    expect(leaves).toHaveLength(9);
    for (const l of leaves) expect(recorded).toContain(l);
    // And the markers in the same order.
    expect(out.filter((x) => x.startsWith('---['))).toEqual(recorded.filter((x) => x.startsWith('---[')));
  });

  test('a run of leaves is merged although their physical addresses are not contiguous', () => {
    const s = setup(SV39);
    map(s, s.L.pageOffset, 0x80000000n, 'PMD', PAGE_KERNEL);
    map(s, s.L.pageOffset + 0x200000n, 0xc0000000n, 'PMD', PAGE_KERNEL);
    map(s, s.L.pageOffset + 0x400000n, 0x81000000n, 'PMD', PAGE_KERNEL);
    const lines = kernelPageTables(s.pt, s.L)
      .split('\n')
      .filter((l) => l.startsWith('0x'));
    expect(lines).toEqual([
      `0xffffffd600000000-0xffffffd600600000    0x0000000080000000         6M PMD ${RW}`,
    ]);
  });

  test('a hole ends a run; the next run starts a new line', () => {
    const s = setup(SV39);
    map(s, s.L.pageOffset, 0x80000000n, 'PMD', PAGE_KERNEL);
    map(s, s.L.pageOffset + 0x400000n, 0x80400000n, 'PMD', PAGE_KERNEL);
    const lines = kernelPageTables(s.pt, s.L)
      .split('\n')
      .filter((l) => l.startsWith('0x'));
    expect(lines).toEqual([
      `0xffffffd600000000-0xffffffd600200000    0x0000000080000000         2M PMD ${RW}`,
      `0xffffffd600400000-0xffffffd600600000    0x0000000080400000         2M PMD ${RW}`,
    ]);
  });

  test('a change of level ends a run even with equal protections', () => {
    const s = setup(SV39);
    map(s, s.L.pageOffset, 0x80000000n, 'PTE', PAGE_KERNEL, 512);
    map(s, s.L.pageOffset + 0x200000n, 0x80200000n, 'PMD', PAGE_KERNEL);
    const lines = kernelPageTables(s.pt, s.L)
      .split('\n')
      .filter((l) => l.startsWith('0x'));
    expect(lines.map((l) => / (\S+ \S+) \. /.exec(l)![1])).toEqual(['2M PTE', '2M PMD']);
  });

  test('a run that reaches a marker address is cut there', () => {
    const s = setup(SV39);
    // The last PMD of the fixmap area and the first of PCI I/O, same protections.
    map(s, s.L.fixaddrTop - 0x200000n, 0x90000000n, 'PMD', PAGE_KERNEL, 2);
    const out = kernelPageTables(s.pt, s.L);
    expect(out).toContain(
      `0xffffffc4fee00000-0xffffffc4ff000000    0x0000000090000000         2M PMD ${RW}\n` +
        '---[ Fixmap end ]---\n---[ PCI I/O start ]---\n' +
        `0xffffffc4ff000000-0xffffffc4ff200000    0x0000000090200000         2M PMD ${RW}\n`,
    );
  });

  test('an empty swapper_pg_dir prints only the markers the walk reaches', () => {
    const s = setup(SV39);
    const out = kernelPageTables(s.pt, s.L);
    expect(out.split('\n').every((l) => l === '' || l.startsWith('---['))).toBe(true);
    expect(out).toContain('---[ Fixmap start ]---\n');
    expect(out).toContain('---[ Kernel mapping ]---\n');
  });

  // mm/ptdump.c walks sv39's root entries as PUDs: pgd and p4d are folded at run time
  // (p4d_offset/pud_offset return the entry itself, pgd_leaf and p4d_leaf are false on riscv), so
  // the leaf reaches ptdump_pud_entry -> note_page_pud (level 2). But arch/riscv/mm/ptdump.c
  // ptdump_init() renames level 2 at boot: pgtable_l4_enabled ? "PUD" : "PGD", so sv39 prints PGD.
  test('sv39: a 1 GiB leaf in the root table is printed as a PGD (level 2, renamed without l4)', () => {
    const s = setup(SV39);
    map(s, s.L.pageOffset, 0x80000000n, 'PUD', PAGE_KERNEL);
    const line = kernelPageTables(s.pt, s.L)
      .split('\n')
      .find((l) => l.startsWith('0x'));
    expect(line).toBe(`0xffffffd600000000-0xffffffd640000000    0x0000000080000000         1G PGD ${RW}`);
  });
});

describe('kernel_page_tables units and level names', () => {
  test('sizes print in the largest unit that divides them: K, M, G', () => {
    const s = setup(SV48);
    const po = s.L.pageOffset;
    map(s, po, 0x80000000n, 'PTE', PAGE_KERNEL, 3); // 12K
    map(s, po + 0x200000n, 0x80200000n, 'PTE', PAGE_KERNEL_READ, 384); // 1536K: not a whole number of MiB
    map(s, po + 0x40000000n, 0xc0000000n, 'PUD', PAGE_KERNEL, 3); // 3G
    const lines = kernelPageTables(s.pt, s.L)
      .split('\n')
      .filter((l) => l.startsWith('0x'));
    expect(lines).toEqual([
      `0xffffaf8000000000-0xffffaf8000003000    0x0000000080000000        12K PTE ${RW}`,
      `0xffffaf8000200000-0xffffaf8000380000    0x0000000080200000      1536K PTE ${RO}`,
      `0xffffaf8040000000-0xffffaf8100000000    0x00000000c0000000         3G PUD ${RW}`,
    ]);
  });

  test('a 1 GiB leaf is a PUD in sv48 and sv57, as in the recordings', () => {
    for (const [mode, rec] of [
      [SV48, 'a-boot.sv48.log'],
      [SV57, 'a-boot.sv57.log'],
    ] as const) {
      const s = setup(mode);
      map(s, s.L.pageOffset + 0x40000000n, 0xc0000000n, 'PUD', PAGE_KERNEL);
      const line = kernelPageTables(s.pt, s.L)
        .split('\n')
        .find((l) => l.startsWith('0x'))!;
      expect(line).toMatch(/ 1G PUD /);
      expect(recordedPtdump(rec).split('\n')).toContain(line);
    }
  });

  test('PTE and PMD are named so in every mode', () => {
    for (const mode of [SV39, SV48, SV57]) {
      const s = setup(mode);
      expect(s.pt.levelName(0)).toBe('PTE');
      expect(s.pt.levelName(1)).toBe('PMD');
    }
    expect(setup(SV48).pt.levelName(2)).toBe('PUD');
    expect(setup(SV57).pt.levelName(2)).toBe('PUD');
  });
});

describe('kernel_page_tables flag columns', () => {
  function oneLine(lo: number, hi: number): string {
    const s = setup(SV39);
    map(s, s.L.pageOffset, 0x80000000n, 'PTE', PAGE_KERNEL);
    poke(s, s.L.pageOffset, lo, hi);
    return kernelPageTables(s.pt, s.L)
      .split('\n')
      .find((l) => l.startsWith('0x'))!
      .slice('0xffffffd600000000-0xffffffd600001000    0x0000000080000000         4K PTE'.length);
  }
  const pfn = 0x80000;

  test('RSW bits print as RSW(n)', () => {
    expect(oneLine(pteLo(pfn, PAGE_KERNEL) | 0x100, pteHi(pfn))).toBe(' .   ..   RSW(1) D A G . . W R V');
    expect(oneLine(pteLo(pfn, PAGE_KERNEL) | 0x200, pteHi(pfn))).toBe(' .   ..   RSW(2) D A G . . W R V');
    expect(oneLine(pteLo(pfn, PAGE_KERNEL) | 0x300, pteHi(pfn))).toBe(' .   ..   RSW(3) D A G . . W R V');
  });

  test('Svpbmt memory types print as MT(NC), MT(IO), and MT(??) for the reserved value', () => {
    expect(oneLine(pteLo(pfn, PAGE_KERNEL), pteHi(pfn, 1))).toBe(' . MT(NC)   ..   D A G . . W R V');
    expect(oneLine(pteLo(pfn, PAGE_KERNEL), pteHi(pfn, 2))).toBe(' . MT(IO)   ..   D A G . . W R V');
    expect(oneLine(pteLo(pfn, PAGE_KERNEL), pteHi(pfn, 3))).toBe(' . MT(??)   ..   D A G . . W R V');
  });

  test('the Svnapot bit prints N; U and X print in their columns', () => {
    expect(oneLine(pteLo(pfn, PAGE_KERNEL), pteHi(pfn, 0, true))).toBe(' N   ..     ..   D A G . . W R V');
    expect(oneLine(pteLo(pfn, PAGE_KERNEL_READ_EXEC | PTE_U), pteHi(pfn))).toBe(
      ' .   ..     ..   D A G U X . R V',
    );
  });

  test('every column together', () => {
    expect(oneLine(pteLo(pfn, 0xff) | 0x300, pteHi(pfn, 2, true))).toBe(' N MT(IO) RSW(3) D A G U X W R V');
  });

  test('a run is split where only the memory type changes', () => {
    const s = setup(SV39);
    map(s, s.L.pageOffset, 0x80000000n, 'PTE', PAGE_KERNEL, 3);
    poke(s, s.L.pageOffset + 0x1000n, pteLo(pfn + 1, PAGE_KERNEL), pteHi(pfn + 1, 2));
    const lines = kernelPageTables(s.pt, s.L)
      .split('\n')
      .filter((l) => l.startsWith('0x'));
    expect(lines).toHaveLength(3);
    expect(lines[1]).toContain(' MT(IO) ');
  });
});

describe('markers', () => {
  test("the markers follow the kernel's address_markers order and the layout", () => {
    const L = new KernelLayout(SV57, defaultKernelProfile());
    const m = ptdumpMarkers(L);
    expect(m.map((x) => x.name)).toEqual([
      'Fixmap start',
      'Fixmap end',
      'PCI I/O start',
      'PCI I/O end',
      'vmemmap start',
      'vmemmap end',
      'vmalloc() area',
      'vmalloc() end',
      'Linear mapping',
      'Modules/BPF mapping',
      'Kernel mapping',
      '',
    ]);
    expect(m[4]!.vpn).toBe(vpn(L.vmemmapStart));
    expect(m[8]!.vpn).toBe(vpn(L.pageOffset));
    expect(m[10]!.vpn).toBe(vpn(0xffffffff80000000n));
    for (let i = 1; i < m.length; i++) expect(m[i]!.vpn).toBeGreaterThanOrEqual(m[i - 1]!.vpn);
  });
});
