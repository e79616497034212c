/**
 * Memory block devices (drivers/base/memory.c and the device core's
 * online attribute, Linux 6.12) through a booted system: the state and
 * online files, valid_zones, auto_online_blocks. Expected values follow
 * the kernel source and the d-bad-inputs / b / f recordings.
 */
import { describe, expect, test } from 'vitest';
import { EINVAL, ENOENT } from '../../errno.js';
import { GuestSystem } from '../../system.js';
import { bootOracleMachine, errnoOf } from '../../../../test/support/guest.js';

const MEM = '/sys/devices/system/memory';
const ORACLE = '/sys/kernel/debug/hotplug_oracle';

/** Boots and hot-adds `blocks` memory blocks at 4 GiB (memory32 onwards), offline. */
function withBlocks(blocks = 1, extra = ''): GuestSystem {
  const sys = bootOracleMachine(extra);
  sys.vfs.write(`${ORACLE}/add`, `0x100000000 0x${(blocks * 0x8000000).toString(16)}`);
  return sys;
}

const read = (sys: GuestSystem, n: number, f: string): string => sys.vfs.read(`${MEM}/memory${n}/${f}`);
const write = (sys: GuestSystem, n: number, f: string, v: string): void =>
  sys.vfs.write(`${MEM}/memory${n}/${f}`, v);

describe('memory block directory', () => {
  test('boot memory is memory16..memory31, online in DMA32; block_size_bytes is 0x8000000 in hex', () => {
    const sys = bootOracleMachine();
    const names = sys.vfs.list(MEM).map((e) => e.name);
    expect(names.filter((n) => n.startsWith('memory'))).toEqual(
      Array.from({ length: 16 }, (_, i) => `memory${16 + i}`),
    );
    expect(names).toContain('auto_online_blocks');
    expect(sys.vfs.read(`${MEM}/block_size_bytes`)).toBe('8000000\n');
    expect(read(sys, 16, 'state')).toBe('online\n');
    expect(read(sys, 31, 'valid_zones')).toBe('DMA32\n');
    expect(read(sys, 16, 'phys_index')).toBe('00000010\n');
  });

  test('a hot-added block appears offline with its phys_index, online=0, removable=1', () => {
    const sys = withBlocks(2);
    expect(read(sys, 32, 'state')).toBe('offline\n');
    expect(read(sys, 33, 'phys_index')).toBe('00000021\n');
    expect(read(sys, 32, 'online')).toBe('0\n');
    expect(read(sys, 32, 'removable')).toBe('1\n');
    expect(read(sys, 32, 'phys_device')).toBe('0\n');
  });

  test('a block that does not exist is ENOENT', () => {
    const sys = bootOracleMachine();
    expect(errnoOf(() => write(sys, 40, 'state', 'online'))).toBe(ENOENT);
  });
});

describe('state', () => {
  test('online_movable, with or without one trailing newline (sysfs_streq)', () => {
    const a = withBlocks();
    write(a, 32, 'state', 'online_movable');
    expect(read(a, 32, 'state')).toBe('online\n');
    const b = withBlocks();
    write(b, 32, 'state', 'online_movable\n');
    expect(read(b, 32, 'state')).toBe('online\n');
    expect(read(b, 32, 'online')).toBe('1\n');
  });

  test('anything but the four online types is EINVAL: two newlines, blanks, other case, other words', () => {
    const sys = withBlocks();
    for (const bad of ['online_movable\n\n', ' online', 'online ', 'Online', 'foo', '\n', 'movable']) {
      expect(errnoOf(() => write(sys, 32, 'state', bad))).toBe(EINVAL);
    }
    expect(read(sys, 32, 'state')).toBe('offline\n');
  });

  test('onlining an online block through state is EINVAL, whatever the type (device_online returns 1)', () => {
    const sys = withBlocks();
    write(sys, 32, 'state', 'online_movable');
    for (const t of ['online_movable', 'online_kernel', 'online'])
      expect(errnoOf(() => write(sys, 32, 'state', t))).toBe(EINVAL);
    expect(read(sys, 32, 'valid_zones')).toBe('Movable\n');
  });

  // fs/sysfs/file.c:137 sysfs_kf_write(): a write of zero bytes returns 0 without calling the store
  // method.
  test('an empty write succeeds and changes nothing (sysfs_kf_write with count 0)', () => {
    const sys = withBlocks();
    expect(errnoOf(() => write(sys, 32, 'state', ''))).toBeUndefined();
    expect(read(sys, 32, 'state')).toBe('offline\n');
  });

  test('offlining an offline block through state is EINVAL', () => {
    const sys = withBlocks();
    write(sys, 32, 'state', 'online');
    write(sys, 32, 'state', 'offline');
    expect(read(sys, 32, 'state')).toBe('offline\n');
    expect(errnoOf(() => write(sys, 32, 'state', 'offline'))).toBe(EINVAL);
  });
});

describe('online', () => {
  test('1 onlines an offline block in its default zone; 1 again succeeds (already online)', () => {
    const sys = withBlocks();
    write(sys, 32, 'online', '1');
    expect(read(sys, 32, 'state')).toBe('online\n');
    expect(read(sys, 32, 'valid_zones')).toBe('Normal\n');
    expect(errnoOf(() => write(sys, 32, 'online', '1\n'))).toBeUndefined();
    expect(read(sys, 32, 'online')).toBe('1\n');
  });

  test('0 offlines; 0 again succeeds (already offline)', () => {
    const sys = withBlocks();
    write(sys, 32, 'state', 'online_movable');
    write(sys, 32, 'online', '0');
    expect(read(sys, 32, 'state')).toBe('offline\n');
    expect(errnoOf(() => write(sys, 32, 'online', '0'))).toBeUndefined();
  });

  test('kstrtobool spellings: y/Y/on/ON mean online, n/N/off mean offline, others are EINVAL', () => {
    const sys = withBlocks();
    for (const [v, want] of [
      ['y', 'online\n'],
      ['n', 'offline\n'],
      ['Yes', 'online\n'],
      ['No', 'offline\n'],
      ['on', 'online\n'],
      ['off', 'offline\n'],
      ['ON', 'online\n'],
      ['OFF', 'offline\n'],
    ] as const) {
      write(sys, 32, 'online', v);
      expect(read(sys, 32, 'state')).toBe(want);
    }
    for (const bad of ['2', 'x', 'o', '\n'])
      expect(errnoOf(() => write(sys, 32, 'online', bad))).toBe(EINVAL);
  });

  // lib/kstrtox.c:353 kstrtobool() (6.12) takes t/T as true and f/F as false.
  test('"true" onlines and "false" offlines (kstrtobool t/f)', () => {
    const sys = withBlocks();
    write(sys, 32, 'online', 'true');
    expect(read(sys, 32, 'state')).toBe('online\n');
    write(sys, 32, 'online', 'false');
    expect(read(sys, 32, 'state')).toBe('offline\n');
  });
});

describe('valid_zones', () => {
  test('an offline block above boot memory: the default zone Normal first, then Movable', () => {
    const sys = withBlocks();
    expect(read(sys, 32, 'valid_zones')).toBe('Normal Movable\n');
  });

  test('an online block shows only its zone: Movable after online_movable, Normal after online_kernel', () => {
    const sys = withBlocks(2);
    write(sys, 32, 'state', 'online_movable');
    write(sys, 33, 'state', 'online_kernel');
    expect(read(sys, 32, 'valid_zones')).toBe('Movable\n');
    expect(read(sys, 33, 'valid_zones')).toBe('Normal\n');
  });

  test('after offlining, the choice is offered again', () => {
    const sys = withBlocks();
    write(sys, 32, 'state', 'online_movable');
    write(sys, 32, 'state', 'offline');
    expect(read(sys, 32, 'valid_zones')).toBe('Normal Movable\n');
  });

  test("contig-zones: a block inside the Movable zone's span defaults to Movable", () => {
    const sys = withBlocks(3);
    write(sys, 32, 'state', 'online_movable');
    write(sys, 34, 'state', 'online_movable');
    // Movable spans memory32..34 now; memory33 intersects only it (default_zone_for_pfn).
    expect(read(sys, 33, 'valid_zones')).toBe('Movable Normal\n');
    write(sys, 33, 'state', 'online');
    expect(read(sys, 33, 'valid_zones')).toBe('Movable\n');
  });

  test('contig-zones: a block next to the Normal zone defaults to Normal even when Movable is populated', () => {
    const sys = withBlocks(3);
    write(sys, 32, 'state', 'online_kernel');
    write(sys, 34, 'state', 'online_movable');
    expect(read(sys, 33, 'valid_zones')).toBe('Normal Movable\n');
  });

  test('movable_node: a block touching no zone defaults to Movable', () => {
    const sys = withBlocks(1, 'movable_node');
    expect(read(sys, 32, 'valid_zones')).toBe('Movable Normal\n');
  });
});

describe('auto_online_blocks', () => {
  test('defaults to offline (CONFIG_MHP_DEFAULT_ONLINE_TYPE_OFFLINE): added blocks stay offline', () => {
    const sys = withBlocks();
    expect(sys.vfs.read(`${MEM}/auto_online_blocks`)).toBe('offline\n');
    expect(read(sys, 32, 'state')).toBe('offline\n');
  });

  test('memhp_default_state= sets it at boot', () => {
    expect(
      bootOracleMachine('memhp_default_state=online_movable').vfs.read(`${MEM}/auto_online_blocks`),
    ).toBe('online_movable\n');
    expect(bootOracleMachine('memhp_default_state=online_kernel').vfs.read(`${MEM}/auto_online_blocks`)).toBe(
      'online_kernel\n',
    );
  });

  test('writing it changes the type later adds are onlined with; a bad value is EINVAL', () => {
    const sys = bootOracleMachine();
    sys.vfs.write(`${MEM}/auto_online_blocks`, 'online_movable\n');
    expect(sys.vfs.read(`${MEM}/auto_online_blocks`)).toBe('online_movable\n');
    expect(errnoOf(() => sys.vfs.write(`${MEM}/auto_online_blocks`, 'movable'))).toBe(EINVAL);
    sys.vfs.write(`${ORACLE}/add`, '0x100000000 0x8000000');
    expect(read(sys, 32, 'state')).toBe('online\n');
    expect(read(sys, 32, 'valid_zones')).toBe('Movable\n');
    sys.vfs.write(`${MEM}/auto_online_blocks`, 'offline');
    sys.vfs.write(`${ORACLE}/add`, '0x108000000 0x8000000');
    expect(read(sys, 33, 'state')).toBe('offline\n');
  });
});
