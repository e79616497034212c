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
  // The model's regex accepts 0X but then converts it as octal ('0oX10') and throws a SyntaxError
  // (cmdline.ts memparse).
  test.fails('0X (capital X) is hexadecimal too', () => {
    expect(memparse('0X10')).toBe(16n);
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
  // smallest of several mem= wins. The model keeps the last one (cmdline.ts parseCmdline, case 'mem').
  test.fails('of several mem= the smallest wins (early_mem takes the minimum)', () => {
    expect(parseCmdline('mem=1G mem=2G').memLimit).toBe(G);
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
  // so the text anywhere (e.g. inside another option's value) selects the mode. The model only
  // matches a whole word.
  test.fails('no4lvl is found anywhere in the command line, as strstr() finds it', () => {
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
    expect(c.memmapOnMemory).toBe(false);
    expect(c.onlinePolicy).toBe('contig-zones');
    expect(c.autoMovableRatio).toBe(301);
    expect(c.autoMovableNumaAware).toBe(true);
    expect(c.movableNode).toBe(false);
  });

  test('memmap_on_memory takes kstrtobool values and "force"', () => {
    for (const v of ['1', 'y', 'Y', 'yes', 'on', 'force']) {
      expect(parseCmdline(`memory_hotplug.memmap_on_memory=${v}`).memmapOnMemory).toBe(true);
    }
    for (const v of ['0', 'n', 'N', 'no', 'off']) {
      expect(
        parseCmdline(`memory_hotplug.memmap_on_memory=1 memory_hotplug.memmap_on_memory=${v}`).memmapOnMemory,
      ).toBe(false);
    }
  });

  test('memmap_on_memory ignores a value kstrtobool rejects', () => {
    expect(parseCmdline('memory_hotplug.memmap_on_memory=maybe').memmapOnMemory).toBe(false);
    expect(
      parseCmdline('memory_hotplug.memmap_on_memory=1 memory_hotplug.memmap_on_memory=2').memmapOnMemory,
    ).toBe(true);
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
  // in any case; parseBool in cmdline.ts only knows 1/y/Y/on and 0/n/N/of.
  test.fails('bool parameters accept every kstrtobool spelling (true, false, ON, OFF)', () => {
    expect(parseCmdline('memory_hotplug.memmap_on_memory=true').memmapOnMemory).toBe(true);
    expect(parseCmdline('memory_hotplug.auto_movable_numa_aware=false').autoMovableNumaAware).toBe(false);
    expect(parseCmdline('memory_hotplug.memmap_on_memory=ON').memmapOnMemory).toBe(true);
  });

  // kernel/params.c:136 parse_one(): a parameter given without "=value" is refused unless its ops
  // have KERNEL_PARAM_OPS_FL_NOARG; memmap_on_memory's memmap_mode_ops do not (mm/memory_hotplug.c).
  test.fails('memory_hotplug.memmap_on_memory without a value is refused and stays off', () => {
    expect(parseCmdline('memory_hotplug.memmap_on_memory').memmapOnMemory).toBe(false);
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
