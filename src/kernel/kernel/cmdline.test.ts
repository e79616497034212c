/**
 * The kernel command line as Linux 6.12 parses the memory options:
 * memparse() (lib/cmdline.c), mem= (arch/riscv/mm/init.c early_mem),
 * no4lvl/no5lvl (arch/riscv/kernel/pi/cmdline_early.c),
 * memhp_default_state= and the memory_hotplug.* module parameters
 * (mm/memory_hotplug.c).
 */
import { describe, expect, test } from 'vitest';
import { memparse, parseCmdline } from './cmdline.js';

const K = 1n << 10n;
const M = 1n << 20n;
const G = 1n << 30n;

describe('memparse', () => {
  test('a plain decimal number is bytes', () => {
    expect(memparse('4096')).toBe(4096n);
    expect(memparse('0')).toBe(0n);
  });

  test('K, M, G, T, P, E suffixes shift by 10, 20, 30, 40, 50, 60 bits, in either case', () => {
    expect(memparse('4k')).toBe(4n * K);
    expect(memparse('4K')).toBe(4n * K);
    expect(memparse('512M')).toBe(512n * M);
    expect(memparse('512m')).toBe(512n * M);
    expect(memparse('2G')).toBe(2n * G);
    expect(memparse('2g')).toBe(2n * G);
    expect(memparse('1T')).toBe(1n << 40n);
    expect(memparse('1P')).toBe(1n << 50n);
    expect(memparse('1E')).toBe(1n << 60n);
  });

  test('0x is hexadecimal (simple_strtoull base 0), with a suffix too', () => {
    expect(memparse('0x80000000')).toBe(0x80000000n);
    expect(memparse('0xABCdef')).toBe(0xabcdefn);
    expect(memparse('0x10M')).toBe(16n * M);
    expect(memparse('0xfffG')).toBe(0xfffn * G);
    // E is a hex digit, not the exa suffix, once the number is hexadecimal.
    expect(memparse('0x1E')).toBe(0x1en);
  });

  // lib/kstrtox.c _parse_integer_fixup_radix(): `_tolower(s[1]) == 'x'`, so 0X is hex as well.
  test('0X (capital X) is hexadecimal too', () => {
    expect(memparse('0X10')).toBe(16n);
    expect(memparse('0XffK')).toBe(0xffn * K);
  });

  test('odd input never throws: simple_strtoull gives 0 or stops at the first bad character', () => {
    expect(memparse('')).toBe(0n);
    expect(memparse('foo')).toBe(0n);
    expect(memparse('G')).toBe(0n);
    expect(memparse('-1G')).toBe(0n);
    // 0x without a hex digit after it is octal 0, stopping at the x.
    expect(memparse('0x')).toBe(0n);
    expect(memparse('0xg')).toBe(0n);
    expect(memparse('0XM')).toBe(0n);
  });

  test('values wrap at 64 bits as the C arithmetic does', () => {
    expect(memparse('0x10000000000000001')).toBe(1n);
    expect(memparse('32E')).toBe(0n);
    expect(memparse('15E')).toBe(15n << 60n);
  });

  test('a leading 0 is octal', () => {
    expect(memparse('010')).toBe(8n);
    expect(memparse('0777')).toBe(511n);
    expect(memparse('010M')).toBe(8n * M);
  });

  test('parsing stops at the first character that is not part of the number', () => {
    expect(memparse('08')).toBe(0n); // 8 is no octal digit
    expect(memparse('2Gfoo')).toBe(2n * G);
    expect(memparse('12x')).toBe(12n);
    expect(memparse('1.5G')).toBe(1n);
  });
});

describe('mem=', () => {
  test('mem= gives the memory limit in bytes', () => {
    expect(parseCmdline('console=ttyS0 earlycon mem=2G panic=-1').memLimit).toBe(2n * G);
    expect(parseCmdline('mem=0x40000000').memLimit).toBe(G);
    expect(parseCmdline('mem=1536M').memLimit).toBe(1536n * M);
  });

  test('without mem= there is no limit', () => {
    expect(parseCmdline('console=ttyS0').memLimit).toBeUndefined();
    expect(parseCmdline('').memLimit).toBeUndefined();
  });

  test('a bare `mem` without a value sets no limit', () => {
    expect(parseCmdline('mem').memLimit).toBeUndefined();
  });

  // arch/riscv/mm/init.c:214 early_mem(): memory_limit = min_t(u64, size, memory_limit), so the
  // smallest of several mem= wins.
  test('of several mem= the smallest wins (early_mem takes the minimum)', () => {
    expect(parseCmdline('mem=1G mem=2G').memLimit).toBe(G);
    expect(parseCmdline('mem=2G mem=1G mem=3G').memLimit).toBe(G);
    expect(parseCmdline('mem=2G mem=1G').memSizes).toEqual([2n * G, G]);
  });

  test('mem= is rounded down to a page (size & PAGE_MASK)', () => {
    expect(parseCmdline('mem=5000').memLimit).toBe(4096n);
  });

  test('mem= with a value memparse cannot read is a limit of 0 (which enforces nothing)', () => {
    expect(parseCmdline('mem=').memLimit).toBe(0n);
    expect(parseCmdline('mem=lots').memLimit).toBe(0n);
  });
});

describe('no4lvl / no5lvl', () => {
  test("neither: both false (the CPU's highest mode, Sv57)", () => {
    const c = parseCmdline('console=ttyS0 mem=2G');
    expect(c.no4lvl).toBe(false);
    expect(c.no5lvl).toBe(false);
  });

  test('no4lvl and no5lvl are flags without a value', () => {
    expect(parseCmdline('mem=2G no4lvl').no4lvl).toBe(true);
    expect(parseCmdline('mem=2G no4lvl').no5lvl).toBe(false);
    expect(parseCmdline('no5lvl mem=2G').no5lvl).toBe(true);
    const both = parseCmdline('no5lvl no4lvl');
    expect(both.no4lvl && both.no5lvl).toBe(true);
  });

  // arch/riscv/kernel/pi/cmdline_early.c:41 match_noXlvl() uses strstr() on the whole command line,
  // so the text anywhere (e.g. inside another option's value) selects the mode.
  test('no4lvl is found anywhere in the command line, as strstr() finds it', () => {
    expect(parseCmdline('init=/sbin/no4lvl-init').no4lvl).toBe(true);
  });
});

describe('memhp_default_state=', () => {
  test('the four online types are accepted', () => {
    for (const t of ['offline', 'online', 'online_kernel', 'online_movable'] as const) {
      expect(parseCmdline(`memhp_default_state=${t}`).memhpDefaultState).toBe(t);
    }
  });

  test('an unknown value is ignored (mhp_online_type_from_str fails)', () => {
    expect(parseCmdline('memhp_default_state=movable').memhpDefaultState).toBeUndefined();
    expect(parseCmdline('memhp_default_state=').memhpDefaultState).toBeUndefined();
    expect(
      parseCmdline('memhp_default_state=online_movable memhp_default_state=bogus').memhpDefaultState,
    ).toBe('online_movable');
  });

  test('not given: undefined (CONFIG_MHP_DEFAULT_ONLINE_TYPE decides)', () => {
    expect(parseCmdline('mem=2G').memhpDefaultState).toBeUndefined();
  });
});

describe('memory_hotplug.* parameters', () => {
  test('defaults: memmap_on_memory off, contig-zones, ratio 301, NUMA aware, no movable_node', () => {
    const c = parseCmdline('');
    expect(c.memmapMode).toBe('off');
    expect(c.onlinePolicy).toBe('contig-zones');
    expect(c.autoMovableRatio).toBe(301);
    expect(c.autoMovableNumaAware).toBe(true);
    expect(c.movableNode).toBe(false);
  });

  test('memmap_on_memory takes kstrtobool values, and "force" or "FORCE" for force mode', () => {
    for (const v of ['1', 'y', 'Y', 'yes', 'on']) {
      expect(parseCmdline(`memory_hotplug.memmap_on_memory=${v}`).memmapMode).toBe('on');
    }
    expect(parseCmdline('memory_hotplug.memmap_on_memory=force').memmapMode).toBe('force');
    expect(parseCmdline('memory_hotplug.memmap_on_memory=FORCE').memmapMode).toBe('force');
    for (const v of ['0', 'n', 'N', 'no', 'off']) {
      expect(
        parseCmdline(`memory_hotplug.memmap_on_memory=force memory_hotplug.memmap_on_memory=${v}`).memmapMode,
      ).toBe('off');
    }
  });

  test('memmap_on_memory ignores a value set_memmap_mode rejects', () => {
    expect(parseCmdline('memory_hotplug.memmap_on_memory=maybe').memmapMode).toBe('off');
    expect(
      parseCmdline('memory_hotplug.memmap_on_memory=1 memory_hotplug.memmap_on_memory=2').memmapMode,
    ).toBe('on');
    // sysfs_streq() matches "force" and "FORCE" only; "Force" is no kstrtobool value either.
    expect(parseCmdline('memory_hotplug.memmap_on_memory=Force').memmapMode).toBe('off');
    expect(parseCmdline('memory_hotplug.memmap_on_memory=').memmapMode).toBe('off');
  });

  test('dashes and underscores in parameter names are the same (parameq)', () => {
    expect(parseCmdline('memory-hotplug.memmap-on-memory=1').memmapMode).toBe('on');
    expect(parseCmdline('memhp-default-state=online').memhpDefaultState).toBe('online');
  });

  test('online_policy accepts contig-zones and auto-movable only', () => {
    expect(parseCmdline('memory_hotplug.online_policy=auto-movable').onlinePolicy).toBe('auto-movable');
    expect(
      parseCmdline('memory_hotplug.online_policy=auto-movable memory_hotplug.online_policy=contig-zones')
        .onlinePolicy,
    ).toBe('contig-zones');
    expect(parseCmdline('memory_hotplug.online_policy=auto_movable').onlinePolicy).toBe('contig-zones');
  });

  test('auto_movable_ratio is a whole number', () => {
    expect(parseCmdline('memory_hotplug.auto_movable_ratio=100').autoMovableRatio).toBe(100);
    expect(parseCmdline('memory_hotplug.auto_movable_ratio=0').autoMovableRatio).toBe(0);
    expect(parseCmdline('memory_hotplug.auto_movable_ratio=-5').autoMovableRatio).toBe(301);
    expect(parseCmdline('memory_hotplug.auto_movable_ratio=abc').autoMovableRatio).toBe(301);
  });

  test('auto_movable_ratio is read by kstrtouint base 0: hex, octal, a plus sign, 32 bits', () => {
    expect(parseCmdline('memory_hotplug.auto_movable_ratio=0x10').autoMovableRatio).toBe(16);
    expect(parseCmdline('memory_hotplug.auto_movable_ratio=010').autoMovableRatio).toBe(8);
    expect(parseCmdline('memory_hotplug.auto_movable_ratio=+5').autoMovableRatio).toBe(5);
    expect(parseCmdline('memory_hotplug.auto_movable_ratio=12x').autoMovableRatio).toBe(301);
    expect(parseCmdline('memory_hotplug.auto_movable_ratio=4294967296').autoMovableRatio).toBe(301);
    expect(parseCmdline('memory_hotplug.auto_movable_ratio').autoMovableRatio).toBe(301);
  });

  test('auto_movable_numa_aware is a bool; without a value it means true', () => {
    expect(parseCmdline('memory_hotplug.auto_movable_numa_aware=0').autoMovableNumaAware).toBe(false);
    expect(parseCmdline('memory_hotplug.auto_movable_numa_aware=N').autoMovableNumaAware).toBe(false);
    expect(
      parseCmdline('memory_hotplug.auto_movable_numa_aware=n memory_hotplug.auto_movable_numa_aware')
        .autoMovableNumaAware,
    ).toBe(true);
  });

  test('movable_node is a flag', () => {
    expect(parseCmdline('movable_node').movableNode).toBe(true);
  });

  // lib/kstrtox.c:348 kstrtobool() (6.12) also takes t/T as true and f/F as false, and "On"/"OF"
  // in any case.
  test('bool parameters accept every kstrtobool spelling (true, false, ON, OFF)', () => {
    expect(parseCmdline('memory_hotplug.memmap_on_memory=true').memmapMode).toBe('on');
    expect(parseCmdline('memory_hotplug.auto_movable_numa_aware=false').autoMovableNumaAware).toBe(false);
    expect(parseCmdline('memory_hotplug.memmap_on_memory=ON').memmapMode).toBe('on');
    expect(parseCmdline('memory_hotplug.auto_movable_numa_aware=OFF').autoMovableNumaAware).toBe(false);
    expect(
      parseCmdline('memory_hotplug.auto_movable_numa_aware=0 memory_hotplug.auto_movable_numa_aware=oN')
        .autoMovableNumaAware,
    ).toBe(true);
  });

  test('a bool parameter with an empty value is refused (kstrtobool(""))', () => {
    expect(
      parseCmdline('memory_hotplug.auto_movable_numa_aware=0 memory_hotplug.auto_movable_numa_aware=')
        .autoMovableNumaAware,
    ).toBe(false);
  });

  // kernel/params.c:136 parse_one(): a parameter given without "=value" is refused unless its ops
  // have KERNEL_PARAM_OPS_FL_NOARG; memmap_on_memory's memmap_mode_ops do not (mm/memory_hotplug.c).
  test('memory_hotplug.memmap_on_memory without a value is refused and stays off', () => {
    expect(parseCmdline('memory_hotplug.memmap_on_memory').memmapMode).toBe('off');
    expect(
      parseCmdline('memory_hotplug.memmap_on_memory=force memory_hotplug.memmap_on_memory').memmapMode,
    ).toBe('force');
  });
});

describe('unknown words', () => {
  test('options the model does not know change nothing', () => {
    const plain = parseCmdline('mem=2G');
    const noisy = parseCmdline(
      'console=ttyS0 earlycon   mem=2G panic=-1 quiet foo=bar =x memory_hotplug.bogus=1',
    );
    const { raw: _a, ...p } = plain;
    const { raw: _b, ...n } = noisy;
    expect(n).toEqual(p);
  });

  test('the raw command line is kept as given (/proc/cmdline)', () => {
    expect(parseCmdline('console=ttyS0  mem=2G').raw).toBe('console=ttyS0  mem=2G');
  });
});
