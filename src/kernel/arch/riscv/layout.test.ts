/**
 * The riscv64 kernel virtual memory layout per paging mode
 * (arch/riscv/include/asm/page.h, pgtable.h, kasan.h of Linux 6.12),
 * against the values the real kernel printed (hotplug_oracle `info` in
 * the a-boot recordings).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { SV39, SV48, SV57, type PagingMode } from '../../../hw/paging.js';
import { defaultKernelProfile } from '../../profile.js';
import { GuestSystem } from '../../system.js';
import { KernelLayout, hex64, u64 } from './layout.js';

const hx = (v: bigint): string => '0x' + v.toString(16);

/** The `info` block of a recording, as key=value pairs. */
function recordedInfo(recording: string): { lines: string[]; values: Map<string, string> } {
  const path = fileURLToPath(new URL(`../../../../test/fixtures/oracle/${recording}`, import.meta.url));
  const all = readFileSync(path, 'utf8').split('\n');
  const begin = all.indexOf('=== BEGIN cat /sys/kernel/debug/hotplug_oracle/info ===');
  const end = all.findIndex((l, i) => i > begin && l.startsWith('=== END'));
  const lines = all.slice(begin + 1, end);
  const values = new Map<string, string>();
  for (const l of lines) for (const m of l.matchAll(/(\S+?)=(\S+)/g)) values.set(m[1]!, m[2]!);
  return { lines, values };
}

const MODES: Array<[string, PagingMode, string, string]> = [
  ['sv39', SV39, 'a-boot.sv39.log', 'no4lvl'],
  ['sv48', SV48, 'a-boot.sv48.log', 'no5lvl'],
  ['sv57', SV57, 'a-boot.sv57.log', ''],
];

describe.each(MODES)('%s layout', (_name, mode, recording) => {
  const L = new KernelLayout(mode, defaultKernelProfile());
  const { values } = recordedInfo(recording);
  const want = (key: string): bigint => BigInt(values.get(key)!);

  test(`PAGE_OFFSET is the recorded one (${recording})`, () => {
    expect(hx(L.pageOffset)).toBe(values.get('PAGE_OFFSET'));
    expect(L.va(L.physRamBase)).toBe(want('va(phys_ram_base)'));
  });

  test('VMEMMAP_START/END and VMALLOC_START/END are the recorded ones', () => {
    expect(hx(L.vmemmapStart)).toBe(values.get('VMEMMAP_START'));
    expect(hx(L.vmemmapEnd)).toBe(values.get('VMEMMAP_END'));
    expect(hx(L.vmallocStart)).toBe(values.get('VMALLOC_START'));
    expect(hx(L.vmallocEnd)).toBe(values.get('VMALLOC_END'));
  });

  test('PGDIR_SHIFT and PGDIR_SIZE are the recorded ones', () => {
    expect(L.pgdirShift).toBe(want('PGDIR_SHIFT'));
    expect(hx(L.pgdirSize)).toBe(values.get('PGDIR_SIZE'));
  });

  test('arch_get_mappable_range() is [__pa(PAGE_OFFSET), __pa(PAGE_END - 1)] as recorded', () => {
    const r = L.mappableRange();
    expect(`${hx(r.start)}-${hx(r.end)}`).toBe(values.get('mappable_range'));
  });

  test('pfn_to_page() of pfn 0 and of phys_ram_base are the recorded ones (vmemmap_start_pfn offset)', () => {
    const line = recordedInfo(recording).lines.find((l) => l.startsWith('vmemmap(struct page of pfn 0)='))!;
    expect(line).toBe(
      `vmemmap(struct page of pfn 0)=${hx(L.pfnToPage(0n))} page_of(phys_ram_base)=${hx(L.pfnToPage(0x80000n))}`,
    );
    expect(L.pfnToPage(0x80000n)).toBe(L.vmemmapStart);
  });
});

describe('layout constants', () => {
  const P = defaultKernelProfile();

  test('PAGE_END is KASAN_SHADOW_START: (MODULES_LOWEST_VADDR - KASAN_SHADOW_SIZE) & PGDIR_MASK', () => {
    // MODULES_LOWEST_VADDR = KERNEL_LINK_ADDR - 2 GiB = 0xffffffff00000000; shadow = 2^(VA_BITS - 4).
    expect(hex64(new KernelLayout(SV39, P).pageEnd)).toBe('0xfffffff700000000');
    expect(hex64(new KernelLayout(SV48, P).pageEnd)).toBe('0xffffef8000000000');
    expect(hex64(new KernelLayout(SV57, P).pageEnd)).toBe('0xffdf000000000000');
  });

  test('KERN_VIRT_SIZE is a quarter of the address space: the linear map ends at PAGE_OFFSET + KERN_VIRT_SIZE', () => {
    expect(new KernelLayout(SV39, P).kernVirtSize).toBe(128n << 30n);
    expect(new KernelLayout(SV48, P).kernVirtSize).toBe(64n << 40n);
    expect(new KernelLayout(SV57, P).kernVirtSize).toBe(32n << 50n);
  });

  test('sv39: PAGE_END - 1 lies beyond the linear map, so __pa() treats it as a kernel-image address and wraps', () => {
    const L = new KernelLayout(SV39, P);
    expect(L.isLinearMapping(L.pageEnd - 1n)).toBe(false);
    // (PAGE_END - 1) - (KERNEL_LINK_ADDR - load address) modulo 2^64.
    expect(hex64(L.mappableRange().end)).toBe('0xfffffff8001fffff');
    expect(L.mappableRange().end).toBe(u64(0xfffffff6ffffffffn - (0xffffffff80000000n - 0x80200000n)));
  });

  test('sv48 and sv57: PAGE_END - 1 is inside the linear map and __pa() is the linear conversion', () => {
    for (const [mode, end] of [
      [SV48, 0x40007fffffffn],
      [SV57, 0x7f00007fffffffn],
    ] as const) {
      const L = new KernelLayout(mode, P);
      expect(L.isLinearMapping(L.pageEnd - 1n)).toBe(true);
      expect(L.mappableRange()).toEqual({ start: 0x80000000n, end });
    }
  });

  test('__va and __pa are inverse on the linear map; kernel-image addresses use the load offset', () => {
    const L = new KernelLayout(SV48, P);
    expect(L.va(0x80000000n)).toBe(0xffffaf8000000000n);
    expect(L.pa(0xffffaf8000000000n + 0x1234n)).toBe(0x80001234n);
    expect(L.pa(0xffffffff80000000n)).toBe(0x80200000n);
    expect(L.paSymbol(P.symbols._end)).toBe(0x80200000n + (P.symbols._end - P.symbols._start));
    expect(L.lmAlias(0xffffffff80000000n)).toBe(L.va(0x80200000n));
  });

  test('__va wraps around 2^64 like 64-bit C arithmetic', () => {
    const L = new KernelLayout(SV57, P);
    // PAGE_OFFSET + (2^56 - 2 GiB) overflows: 0xff60000000000000 + 0x00ffffff80000000.
    expect(hex64(L.va(1n << 56n))).toBe('0x005fffff80000000');
  });

  test('the vmemmap sits below vmalloc, PCI I/O and the fixmap below the vmemmap', () => {
    for (const mode of [SV39, SV48, SV57]) {
      const L = new KernelLayout(mode, P);
      expect(L.vmallocEnd).toBe(L.pageOffset);
      expect(L.vmallocStart).toBe(L.pageOffset - L.kernVirtSize / 2n);
      expect(L.vmemmapEnd).toBe(L.vmallocStart);
      // VMEMMAP_SHIFT = VA_BITS - PAGE_SHIFT - 1 + STRUCT_PAGE_MAX_SHIFT
      expect(L.vmemmapEnd - L.vmemmapStart).toBe(1n << BigInt(mode.vaBits - 12 - 1 + 6));
      expect(L.pciIoEnd).toBe(L.vmemmapStart);
      expect(L.pciIoEnd - L.pciIoStart).toBe(16n << 20n);
      expect(L.fixaddrTop).toBe(L.pciIoStart);
      expect(L.fixaddrStart).toBeLessThan(L.fixaddrTop);
    }
  });

  test('modules live in the 2 GiB below the end of the kernel image', () => {
    const L = new KernelLayout(SV39, P);
    expect(L.modulesEnd).toBe(P.symbols._start);
    expect(L.modulesVaddr).toBe(P.symbols._end - (2n << 30n));
  });
});

describe('a booted kernel reports the recorded layout', () => {
  test.each(MODES)(
    '%s: hotplug_oracle info layout lines match the recording',
    (_name, _mode, recording, flag) => {
      const sys = new GuestSystem({
        ramBytes: 8n << 30n,
        smp: 2,
        append: `console=ttyS0 earlycon mem=2G panic=-1 ${flag}`,
        initrdSize: 0x7f000,
      });
      const got = sys.vfs.read('/sys/kernel/debug/hotplug_oracle/info').split('\n');
      const { lines } = recordedInfo(recording);
      for (const prefix of [
        'satp_mode=',
        'PAGE_OFFSET=',
        'VMEMMAP_START=',
        'VMALLOC_START=',
        'PGDIR_SHIFT=',
        'phys_ram_base=',
        'mappable_range=',
        'vmemmap(',
      ]) {
        expect(got.find((l) => l.startsWith(prefix))).toBe(lines.find((l) => l.startsWith(prefix)));
      }
    },
  );
});
