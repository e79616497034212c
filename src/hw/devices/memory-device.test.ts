import { describe, expect, it } from 'vitest';
import { PhysMem } from '../physmem.js';
import { parseDeviceOption, parseObjectOption, startMachine } from '../monitor/qemu-opts.js';
import { MachineDevices } from './machine.js';
import { defaultMachineConfig } from './machine-config.js';
import { alignUp, virtDeviceMemory } from './memory-device.js';

const MiB = 1024n * 1024n;
const GiB = 1024n * MiB;

function machine(memory = '2G,maxmem=8G'): MachineDevices {
  const r = startMachine(
    {
      memory,
      devices: [
        'pcie-root-port,id=rp1,chassis=1,slot=1',
        'pcie-root-port,id=rp2,chassis=2,slot=2',
        'pcie-root-port,id=rp3,chassis=3,slot=3',
      ],
    },
    new PhysMem(),
  );
  if (!r.ok) throw new Error(r.error);
  return r.machine;
}

function add(m: MachineDevices, id: string, size: string, extra = '', bus = 'rp1'): bigint {
  m.objectAdd(parseObjectOption(`memory-backend-ram,id=mem-${id},size=${size}`));
  const dev = m.deviceAdd(
    parseDeviceOption(`virtio-mem-pci,id=${id},memdev=mem-${id},bus=${bus}${extra}`),
    true,
  );
  if (!('vdev' in dev)) throw new Error('not virtio-mem');
  return dev.getAddr();
}

describe('device memory of the RISC-V virt board', () => {
  it('starts at the first 1 GiB boundary at or above DRAM base + RAM size; size maxmem - ram', () => {
    expect(virtDeviceMemory(0x8000_0000n, 2n * GiB, 8n * GiB)).toEqual({
      base: 0x1_0000_0000n,
      size: 6n * GiB,
      usedRegionSize: 0n,
    });
    expect(virtDeviceMemory(0x8000_0000n, 2n * GiB + 4096n, 8n * GiB)!.base).toBe(0x1_4000_0000n);
    expect(virtDeviceMemory(0x8000_0000n, 512n * MiB, 1n * GiB)!.base).toBe(0xc000_0000n);
    expect(virtDeviceMemory(0x8000_0000n, 2n * GiB, 2n * GiB)).toBeUndefined();
    expect(alignUp(5n, 4n)).toBe(8n);
  });

  it('without maxmem there is no device memory: memory devices are refused', () => {
    const m = MachineDevices.create(defaultMachineConfig(), new PhysMem());
    m.objectAdd(parseObjectOption('memory-backend-ram,id=m0,size=1G'));
    expect(() => m.deviceAdd(parseDeviceOption('virtio-mem-pci,id=v,memdev=m0'), false)).toThrow(
      'the configuration is not prepared for memory devices (e.g., for memory hotplug), consider specifying the maxmem option',
    );
    expect(m.memorySizeSummary()).toEqual({ baseMemory: 128n * MiB });
  });
});

describe('memory device placement (memory_device_pre_plug)', () => {
  it('first fit in address order, each device at its alignment', () => {
    const m = machine();
    expect(add(m, 'a', '1G')).toBe(0x1_0000_0000n);
    expect(add(m, 'b', '512M', '', 'rp2')).toBe(0x1_4000_0000n);
    // A 1 GiB block size aligns the device to 1 GiB: the gap after b is skipped.
    expect(add(m, 'c', '1G', ',block-size=1G', 'rp3')).toBe(0x1_8000_0000n);
  });

  it('a freed gap is reused by the next device that fits', () => {
    const m = machine();
    add(m, 'a', '1G');
    add(m, 'b', '1G', '', 'rp2');
    // Unplug a: its range is free again.
    m.setHotplugListener({ onUnplugRequest: () => true });
    m.deviceDel('a');
    expect(add(m, 'c', '512M', '', 'rp3')).toBe(0x1_0000_0000n);
  });

  it('memaddr= is honoured when free and aligned', () => {
    const m = machine();
    expect(add(m, 'a', '1G', ',memaddr=0x200000000')).toBe(0x2_0000_0000n);
    expect(add(m, 'b', '1G', '', 'rp2')).toBe(0x1_0000_0000n);
  });

  it("memaddr= that overlaps a device, leaves the window or is misaligned is refused with QEMU's message", () => {
    const m = machine();
    add(m, 'a', '1G');
    expect(() => add(m, 'b', '1G', ',memaddr=0x120000000', 'rp2')).toThrow(
      "address range conflicts with memory device id='a'",
    );
    expect(() => add(m, 'c', '1G', ',memaddr=0x250000000', 'rp2')).toThrow(
      "can't add memory device [0x250000000:0x40000000], usable range for memory devices [0x100000000:0x180000000]",
    );
    expect(() => add(m, 'd', '1G', ',memaddr=0xc0000000', 'rp2')).toThrow(
      "can't add memory device [0xc0000000:0x40000000], usable range for memory devices [0x100000000:0x180000000]",
    );
    expect(() => add(m, 'e', '1G', ',memaddr=0x140100000', 'rp2')).toThrow(
      'address must be aligned to 0x200000 bytes',
    );
  });

  it('the total of all devices may not exceed maxmem - ram size', () => {
    const m = machine();
    add(m, 'a', '4G');
    expect(() => add(m, 'b', '3G', '', 'rp2')).toThrow(
      'not enough space, currently 0x100000000 in use of total space for memory devices 0x180000000',
    );
    expect(add(m, 'c', '2G', '', 'rp2')).toBe(0x2_0000_0000n);
  });

  it('space left only in fragments is refused', () => {
    const m = machine('2G,maxmem=5G');
    add(m, 'a', '1G', ',memaddr=0x140000000');
    // 2 GiB free in total, but not in one piece.
    expect(() => add(m, 'b', '2G', '', 'rp2')).toThrow(
      'could not find position in guest address space for memory device - memory fragmented due to alignments',
    );
  });

  it('a backend whose size is not a multiple of its 2 MiB alignment is refused', () => {
    const m = machine();
    expect(() => add(m, 'a', '1025K')).toThrow('backend memory size must be multiple of 0x200000');
  });
});
