/**
 * Rough edges a new user hits with machine options and large devices: QEMU's own
 * refusals, the kernel's behaviour, never a JavaScript error.
 */
import { describe, expect, test } from 'vitest';
import { Session } from '../../src/session/session.js';
import { parseRunArgs, UsageError } from '../../src/session/options.js';

function boot(args: string): Session {
  return new Session(parseRunArgs(args.split(' ').filter(Boolean)));
}

function refusal(args: string): { message: string; status: number } {
  try {
    boot(args);
  } catch (e) {
    if (e instanceof UsageError) return { message: e.message, status: e.status };
    throw e;
  }
  throw new Error(`${args}: booted`);
}

describe('machine options', () => {
  test("-smp 3,sockets=2 is refused with QEMU's text and status 1", () => {
    expect(refusal('-smp 3,sockets=2')).toEqual({
      message:
        'qemu-system-riscv64: Invalid CPU topology: product of the hierarchy must match maxcpus: sockets (2) * cores (1) * threads (1) != maxcpus (3)',
      status: 1,
    });
  });

  test('-smp 0: QEMU 10.2 (memory devices) refuses it; QEMU 7.2 warns and boots one hart', () => {
    expect(refusal('-m 2G,maxmem=4G -smp 0').message).toBe(
      'qemu-system-riscv64: Invalid CPU topology: CPU topology parameters must be greater than zero',
    );
    const s = boot('-m 2G -smp 0');
    expect(s.machine.smp).toBe(1);
    expect(s.notes.join('\n')).toContain('warning: Deprecated CPU topology (considered invalid)');
    expect(s.system.board.harts.length).toBe(1);
  });

  test("-m 0 is QEMU's default RAM size (128 MiB), not the model's 4 GiB", () => {
    const s = boot('-m 0');
    expect(s.machine.ramBytes).toBe(128n << 20n);
    expect(s.execute('cat /proc/iomem')?.stdout).toContain('80000000-87ffffff : System RAM');
  });

  test('-m 1M: QEMU cannot load the kernel image into 1 MiB of RAM', () => {
    expect(refusal('-m 1M')).toEqual({
      message: "qemu-system-riscv64: could not load kernel 'Image'",
      status: 1,
    });
  });

  test('-m 12M: the image loads but its .bss lies beyond RAM: the kernel dies before its first message', () => {
    const r = refusal('-m 12M');
    expect(r.status).toBe(3);
    expect(r.message).toMatch(/kernel.*\.bss.*beyond the end of RAM/);
  });
});

describe('a virtio-mem device that crosses the 64-bit PCIe window', () => {
  const args =
    '-m 4G,maxmem=16G -object memory-backend-ram,id=m0,size=12G -device virtio-mem-pci,id=vm0,memdev=m0';

  test('the driver cannot reserve its region: probe fails with -EBUSY as in Linux, and qom-set does not crash', () => {
    const s = boot(args);
    const log = s.system.kernel.log.dmesg();
    expect(log).toContain('virtio_mem virtio0: could not reserve device region');
    expect(log).toContain('virtio_mem virtio0: probe with driver virtio_mem failed with error -16');
    expect(s.notes.join('\n')).toMatch(
      /'vm0' at 0x180000000-0x47fffffff reaches into the 64-bit PCIe window .*probe failed with -16/,
    );
    const r = s.execute('(qemu) qom-set vm0 requested-size 1G');
    expect(r?.stdout).toBe('');
    const info = s.execute('(qemu) info memory-devices')?.stdout ?? '';
    expect(info).toContain('requested-size: 1073741824');
    expect(info).toContain('  size: 0\n');
    expect(s.execute('cat /proc/iomem')?.stdout).not.toContain('virtio0');
  });
});

test('the default machine (maxmem 16G) says nothing about the window until a device reaches it', () => {
  expect(boot('').notes).toEqual([]);
  expect(
    boot('-m 2G,maxmem=8G -object memory-backend-ram,id=m0,size=4G -device virtio-mem-pci,id=vm0,memdev=m0')
      .notes,
  ).toEqual([]);
});

describe('warnings the kernel prints once', () => {
  test('removing 16 GiB that was never added warns once per site, not per section or block', () => {
    const s = boot('-m 2G');
    s.execute('echo 0x200000000 0x400000000 > /sys/kernel/debug/hotplug_oracle/remove');
    const r = s.execute('echo 0x600000000 0x400000000 > /sys/kernel/debug/hotplug_oracle/remove');
    const log = s.system.kernel.log.dmesg();
    expect(log.match(/cut here/g)?.length).toBe(2);
    expect(log).toContain(
      'WARNING: CPU: 0 PID: 1 at mm/sparse-vmemmap.c:809 sparse_remove_section+0x22/0x44',
    );
    expect(log).not.toContain('has no memmap');
    expect(r?.kmsg.some((l) => l.includes('WARNING'))).toBe(false);
  });
});
