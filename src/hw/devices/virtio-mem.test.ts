import { describe, expect, it } from 'vitest';
import { errorOf } from '../../../test/support/qemu.js';
import { PhysMem } from '../physmem.js';
import { startMachine } from '../monitor/qemu-opts.js';
import { StringInputVisitor } from '../monitor/visitors.js';
import type { MachineDevices } from './machine.js';
import {
  VIRTIO_MEM_CONFIG_SIZE,
  VIRTIO_MEM_F_ACPI_PXM,
  VIRTIO_MEM_F_UNPLUGGED_INACCESSIBLE,
  VIRTIO_MEM_RESP_ACK,
  VIRTIO_MEM_RESP_BUSY,
  VIRTIO_MEM_RESP_ERROR,
  VIRTIO_MEM_RESP_NACK,
  type VirtioMem,
} from './virtio-mem.js';

const MiB = 1024n * 1024n;
const GiB = 1024n * MiB;
const BASE = 0x1_0000_0000n;

/** -m 2G,maxmem=8G with one virtio-mem-pci on a 4 GiB backend at 0x100000000, as in the recordings. */
function setup(
  device = 'virtio-mem-pci,id=vm0,memdev=vmem0',
  backend = 'memory-backend-ram,id=vmem0,size=4G',
) {
  const physmem = new PhysMem();
  const r = startMachine({ memory: '2G,maxmem=8G', objects: [backend], devices: [device] }, physmem);
  if (!r.ok) throw new Error(r.error);
  const dev = r.machine.virtioMemDevices()[0]!;
  return { machine: r.machine, physmem, vm: dev.vdev };
}

function setRequested(machine: MachineDevices, size: string): void {
  machine.qomSet('vm0', 'requested-size', new StringInputVisitor(size));
}

const block = (i: number | bigint) => BASE + BigInt(i) * 2n * MiB;

describe('virtio-mem device configuration (virtio 1.2 §5.15.4)', () => {
  it('config space: 56 little-endian bytes in the spec field order', () => {
    const { machine, vm } = setup();
    setRequested(machine, '1G');
    vm.request({ type: 'plug', addr: BASE, nbBlocks: 3 });
    const c = vm.configSpace();
    expect(c.length).toBe(VIRTIO_MEM_CONFIG_SIZE);
    const dv = new DataView(c.buffer);
    expect(dv.getBigUint64(0, true)).toBe(2n * MiB); // block_size
    expect(dv.getUint16(8, true)).toBe(0); // node_id
    expect([...c.slice(10, 16)]).toEqual([0, 0, 0, 0, 0, 0]); // padding
    expect(dv.getBigUint64(16, true)).toBe(BASE); // addr
    expect(dv.getBigUint64(24, true)).toBe(4n * GiB); // region_size
    expect(dv.getBigUint64(32, true)).toBe(GiB + 256n * MiB); // usable_region_size
    expect(dv.getBigUint64(40, true)).toBe(6n * MiB); // plugged_size
    expect(dv.getBigUint64(48, true)).toBe(GiB); // requested_size
  });

  it('default block size: the host THP size (2 MiB) for memory-backend-ram', () => {
    const { vm } = setup();
    expect(vm.blockSize).toBe(2n * MiB);
    expect(vm.readConfig().blockSize).toBe(2n * MiB);
  });

  it('offers ACPI_PXM and UNPLUGGED_INACCESSIBLE, as QEMU does on RISC-V', () => {
    const { vm } = setup();
    expect(vm.hostFeatures).toBe((1 << VIRTIO_MEM_F_ACPI_PXM) | (1 << VIRTIO_MEM_F_UNPLUGGED_INACCESSIBLE));
  });

  it('usable region: requested size + 2 x 128 MiB, block aligned, capped at the region, 0 for nothing requested', () => {
    const { machine, vm } = setup();
    expect(vm.usableRegionSize).toBe(0n);
    setRequested(machine, '1G');
    expect(vm.usableRegionSize).toBe(GiB + 256n * MiB);
    setRequested(machine, '4G');
    expect(vm.usableRegionSize).toBe(4n * GiB);
  });

  it('usable region: a smaller request does not shrink it (blocks may still be plugged), UNPLUG_ALL does', () => {
    const { machine, vm } = setup();
    setRequested(machine, '2G');
    setRequested(machine, '512M');
    expect(vm.usableRegionSize).toBe(2n * GiB + 256n * MiB);
    expect(vm.request({ type: 'unplug_all' }).type).toBe('ack');
    expect(vm.usableRegionSize).toBe(512n * MiB + 256n * MiB);
    setRequested(machine, '0');
    vm.request({ type: 'unplug_all' });
    expect(vm.usableRegionSize).toBe(0n);
  });

  it('usable region of a request larger than the backend is the whole backend (vm4 of vmem-d)', () => {
    const { vm } = setup(
      'virtio-mem-pci,id=vm0,memdev=vmem0,requested-size=1G',
      'memory-backend-ram,id=vmem0,size=512M',
    );
    expect(vm.usableRegionSize).toBe(512n * MiB);
    expect(vm.requestedSize).toBe(GiB);
  });
});

describe('virtio-mem requests (§5.15.6) as QEMU answers them', () => {
  it('PLUG of unplugged blocks inside the usable region: ACK, plugged_size grows', () => {
    const { machine, vm } = setup();
    setRequested(machine, '128M');
    const r = vm.request({ type: 'plug', addr: BASE, nbBlocks: 64 });
    expect(r).toEqual({ type: 'ack', code: VIRTIO_MEM_RESP_ACK });
    expect(vm.size).toBe(128n * MiB);
    expect(vm.isBlockPlugged(63)).toBe(true);
    expect(vm.isBlockPlugged(64)).toBe(false);
  });

  it('PLUG that would exceed requested_size: NACK', () => {
    const { machine, vm } = setup();
    setRequested(machine, '4M');
    expect(vm.request({ type: 'plug', addr: BASE, nbBlocks: 3 })).toEqual({
      type: 'nack',
      code: VIRTIO_MEM_RESP_NACK,
    });
    expect(vm.size).toBe(0n);
    expect(vm.request({ type: 'plug', addr: BASE, nbBlocks: 2 }).type).toBe('ack');
  });

  it('a range check failure wins over NACK: ERROR outside the usable region even when over the request', () => {
    const { vm } = setup();
    expect(vm.request({ type: 'plug', addr: BASE, nbBlocks: 1 }).type).toBe('error'); // usable region is empty
  });

  it('PLUG/UNPLUG/STATE of an address not aligned to the block size: ERROR', () => {
    const { machine, vm } = setup();
    setRequested(machine, '1G');
    for (const type of ['plug', 'unplug', 'state'] as const) {
      expect(vm.request({ type, addr: BASE + 4096n, nbBlocks: 1 })).toEqual({
        type: 'error',
        code: VIRTIO_MEM_RESP_ERROR,
      });
    }
  });

  it('a request for zero blocks: ERROR', () => {
    const { machine, vm } = setup();
    setRequested(machine, '1G');
    for (const type of ['plug', 'unplug', 'state'] as const) {
      expect(vm.request({ type, addr: BASE, nbBlocks: 0 }).type).toBe('error');
    }
  });

  it('a range below the device or reaching past the usable region: ERROR', () => {
    const { machine, vm } = setup();
    setRequested(machine, '1G');
    const usableBlocks = Number(vm.usableRegionSize / vm.blockSize);
    expect(vm.request({ type: 'plug', addr: BASE - 2n * MiB, nbBlocks: 1 }).type).toBe('error');
    expect(vm.request({ type: 'state', addr: block(usableBlocks - 1), nbBlocks: 2 }).type).toBe('error');
    expect(vm.request({ type: 'state', addr: block(usableBlocks), nbBlocks: 1 }).type).toBe('error');
    expect(vm.request({ type: 'state', addr: block(usableBlocks - 1), nbBlocks: 1 }).type).toBe('ack');
  });

  it('PLUG of a range with a plugged block: ERROR; UNPLUG of a range with an unplugged block: ERROR', () => {
    const { machine, vm } = setup();
    setRequested(machine, '1G');
    vm.request({ type: 'plug', addr: block(1), nbBlocks: 1 });
    expect(vm.request({ type: 'plug', addr: block(0), nbBlocks: 2 }).type).toBe('error');
    expect(vm.request({ type: 'unplug', addr: block(1), nbBlocks: 2 }).type).toBe('error');
    expect(vm.size).toBe(2n * MiB);
  });

  it('UNPLUG may take plugged_size below requested_size (QEMU never NACKs an unplug)', () => {
    const { machine, vm } = setup();
    setRequested(machine, '8M');
    vm.request({ type: 'plug', addr: BASE, nbBlocks: 4 });
    expect(vm.request({ type: 'unplug', addr: BASE, nbBlocks: 4 }).type).toBe('ack');
    expect(vm.size).toBe(0n);
  });

  it('UNPLUG discards the blocks: their memory reads as zero again and stays RAM', () => {
    const { machine, vm, physmem } = setup();
    setRequested(machine, '4M');
    vm.request({ type: 'plug', addr: BASE, nbBlocks: 2 });
    const pfn0 = Number(BASE >> 12n);
    const pfn1 = Number(block(1) >> 12n);
    physmem.write(pfn0)[0] = 0xdead;
    physmem.write(pfn1)[5] = 0xbeef;
    vm.request({ type: 'unplug', addr: BASE, nbBlocks: 1 });
    expect(physmem.isZero(pfn0)).toBe(true);
    expect(physmem.read(pfn1)[5]).toBe(0xbeef);
    // QEMU keeps the whole backend mapped (dynamic-memslots=off): an unplugged block is still RAM.
    expect(physmem.isBacked(pfn0)).toBe(true);
    expect(() => physmem.write(pfn0)).not.toThrow();
  });

  it('UNPLUG_ALL: ACK, nothing plugged, contents gone', () => {
    const { machine, vm, physmem } = setup();
    setRequested(machine, '1G');
    vm.request({ type: 'plug', addr: BASE, nbBlocks: 100 });
    physmem.write(Number(block(99) >> 12n))[0] = 1;
    expect(vm.request({ type: 'unplug_all' })).toEqual({ type: 'ack', code: VIRTIO_MEM_RESP_ACK });
    expect(vm.size).toBe(0n);
    expect(vm.isBlockPlugged(99)).toBe(false);
    expect(physmem.isZero(Number(block(99) >> 12n))).toBe(true);
  });

  it('BUSY while a migration runs: PLUG, UNPLUG and UNPLUG_ALL change nothing', () => {
    const { machine, vm } = setup();
    setRequested(machine, '1G');
    vm.request({ type: 'plug', addr: BASE, nbBlocks: 1 });
    vm.migrationActive = true;
    expect(vm.request({ type: 'plug', addr: block(1), nbBlocks: 1 })).toEqual({
      type: 'busy',
      code: VIRTIO_MEM_RESP_BUSY,
    });
    expect(vm.request({ type: 'unplug', addr: BASE, nbBlocks: 1 }).type).toBe('busy');
    expect(vm.request({ type: 'unplug_all' }).type).toBe('busy');
    expect(vm.size).toBe(2n * MiB);
    // The checks before the busy test still answer first.
    expect(vm.request({ type: 'plug', addr: BASE, nbBlocks: 1 }).type).toBe('error');
  });

  it('UNPLUG_ALL with nothing plugged is ACK even during a migration', () => {
    const { vm } = setup();
    vm.migrationActive = true;
    expect(vm.request({ type: 'unplug_all' }).type).toBe('ack');
  });

  it('STATE: plugged, unplugged or mixed', () => {
    const { machine, vm } = setup();
    setRequested(machine, '1G');
    vm.request({ type: 'plug', addr: block(2), nbBlocks: 2 });
    expect(vm.request({ type: 'state', addr: block(2), nbBlocks: 2 })).toEqual({
      type: 'ack',
      code: VIRTIO_MEM_RESP_ACK,
      state: 'plugged',
    });
    expect(vm.request({ type: 'state', addr: block(0), nbBlocks: 2 }).state).toBe('unplugged');
    expect(vm.request({ type: 'state', addr: block(1), nbBlocks: 2 }).state).toBe('mixed');
  });

  it('nb_blocks is a u16 on the wire', () => {
    const { vm } = setup();
    expect(() => vm.request({ type: 'plug', addr: BASE, nbBlocks: 0x10000 })).toThrow(RangeError);
  });
});

describe('virtio-mem host side', () => {
  it('config change: the driver is notified on every qom-set of requested-size, even an unchanged one', () => {
    const { machine, vm } = setup();
    const seen: bigint[] = [];
    const off = vm.onConfigChange((d: VirtioMem) => seen.push(d.readConfig().requestedSize));
    setRequested(machine, '1G');
    setRequested(machine, '1G');
    off();
    setRequested(machine, '2G');
    expect(seen).toEqual([GiB, GiB]);
  });

  it('plugged-size changes are reported (MEMORY_DEVICE_SIZE_CHANGE)', () => {
    const { machine, vm } = setup();
    const sizes: bigint[] = [];
    vm.onSizeChange((_d, s) => sizes.push(s));
    setRequested(machine, '1G');
    vm.request({ type: 'plug', addr: BASE, nbBlocks: 2 });
    vm.request({ type: 'unplug', addr: BASE, nbBlocks: 1 });
    vm.request({ type: 'unplug_all' });
    expect(sizes).toEqual([4n * MiB, 2n * MiB, 0n]);
  });

  it('requested-size must be a multiple of the block size and fit the backend', () => {
    const { machine, vm } = setup();
    expect(errorOf(() => setRequested(machine, '3M')).message).toBe(
      "'requested-size' has to be multiples of 'block-size' (0x200000)",
    );
    expect(errorOf(() => setRequested(machine, '5G')).message).toBe(
      "'requested-size' cannot exceed the memory backend size(0x100000000)",
    );
    expect(vm.requestedSize).toBe(0n);
  });

  it('block-size: at least 1 MiB, a power of two, and fixed once realized', () => {
    expect(() => setup('virtio-mem-pci,id=vm0,memdev=vmem0,block-size=512K')).toThrow(
      "'block-size' property has to be at least 0x100000",
    );
    expect(() => setup('virtio-mem-pci,id=vm0,memdev=vmem0,block-size=3M')).toThrow(
      "'block-size' property has to be a power of two",
    );
    const { machine, vm } = setup('virtio-mem-pci,id=vm0,memdev=vmem0,block-size=4M');
    expect(vm.blockSize).toBe(4n * MiB);
    expect(errorOf(() => machine.qomSet('vm0', 'block-size', new StringInputVisitor('2M'))).message).toBe(
      "'block-size' cannot be changed",
    );
  });

  it('realize refuses a memdev with preallocation', () => {
    expect(() =>
      setup('virtio-mem-pci,id=vm0,memdev=vmem0', 'memory-backend-ram,id=vmem0,size=4G,prealloc=on'),
    ).toThrow(
      "-device virtio-mem-pci,id=vm0,memdev=vmem0: 'memdev' property specifies a memdev with preallocation enabled: vmem0. Instead, specify 'prealloc=on' for the virtio-mem device. ",
    );
  });

  it('the whole backend is mapped as RAM at the device address; its memdev is busy', () => {
    const { machine, physmem } = setup();
    const region = physmem.regions.find((r) => r.name === 'vmem0')!;
    expect(region).toEqual({ name: 'vmem0', kind: 'ram', basePfn: 0x100000, pages: 0x100000 });
    expect(machine.backend('vmem0')!.mapped).toBe(true);
  });
});
