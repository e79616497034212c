import { describe, expect, it } from 'vitest';
import { errorOf } from '../../../test/support/qemu.js';
import { PhysMem } from '../physmem.js';
import {
  parseDeviceOption,
  parseMachineConfig,
  parseObjectOption,
  startMachine,
} from '../monitor/qemu-opts.js';
import { StringInputVisitor } from '../monitor/visitors.js';
import { MachineDevices, type MachineDevicesOptions } from './machine.js';
import { PCDIMMDevice } from './pc-dimm.js';
import { VirtioMemPci } from './virtio-mem-pci.js';

const MiB = 1024n * 1024n;
const GiB = 1024n * MiB;

const RP = [
  'pcie-root-port,id=rp1,bus=pcie.0,chassis=1,slot=1',
  'pcie-root-port,id=rp2,bus=pcie.0,chassis=2,slot=2',
];

function boot(
  devices: string[] = RP,
  objects: string[] = [],
  memory = '2G,maxmem=8G',
  opts: MachineDevicesOptions = {},
) {
  const physmem = new PhysMem();
  const r = startMachine({ memory, objects, devices }, physmem, opts);
  if (!r.ok) throw new Error(r.error);
  return { m: r.machine, physmem };
}

const dev = (m: MachineDevices, text: string, hotplug = true) =>
  m.deviceAdd(parseDeviceOption(text), hotplug);
const obj = (m: MachineDevices, text: string) => m.objectAdd(parseObjectOption(text));

describe('object_add / object_del (memory-backend-ram)', () => {
  it('adds a backend under /objects with QEMU defaults', () => {
    const { m } = boot();
    const b = obj(m, 'memory-backend-ram,id=mem1,size=1G');
    expect(b.canonicalPath).toBe('/objects/mem1');
    expect(m.memdevs().find((x) => x.id === 'mem1')).toEqual({
      id: 'mem1',
      size: GiB,
      merge: true,
      dump: true,
      prealloc: false,
      share: false,
      reserve: true,
      policy: 'default',
      hostNodes: [],
    });
  });

  it('refuses a duplicate id, a malformed id and size 0', () => {
    const { m } = boot();
    obj(m, 'memory-backend-ram,id=mem1,size=1G');
    expect(errorOf(() => obj(m, 'memory-backend-ram,id=mem1,size=1G')).message).toBe(
      "attempt to add duplicate property 'mem1' to object (type 'container')",
    );
    const bad = errorOf(() => obj(m, 'memory-backend-ram,id=1mem,size=1G'));
    expect(bad.message).toBe("Parameter 'id' expects an identifier");
    expect(bad.hint).toBe("Identifiers consist of letters, digits, '-', '.', '_', starting with a letter.\n");
    expect(errorOf(() => obj(m, 'memory-backend-ram,id=z,size=0')).message).toBe(
      "property 'size' of memory-backend-ram doesn't take value '0'",
    );
  });

  it('object_del: not found, in use (a device or the machine RAM), else removed', () => {
    const { m } = boot();
    obj(m, 'memory-backend-ram,id=mem1,size=1G');
    obj(m, 'memory-backend-ram,id=mem2,size=1G');
    dev(m, 'virtio-mem-pci,id=vm1,memdev=mem1,bus=rp1');
    expect(errorOf(() => m.objectDel('nope')).message).toBe("object 'nope' not found");
    expect(errorOf(() => m.objectDel('mem1')).message).toBe("object 'mem1' is in use, can not be deleted");
    expect(errorOf(() => m.objectDel('riscv_virt_board.ram')).message).toBe(
      "object 'riscv_virt_board.ram' is in use, can not be deleted",
    );
    m.objectDel('mem2');
    expect(m.backend('mem2')).toBeUndefined();
  });
});

describe('device_add (qdev_device_add on the RISC-V virt board)', () => {
  it('virtio-mem-pci on a root port: placed, mapped, announced to the guest', () => {
    const { m, physmem } = boot(RP, ['memory-backend-ram,id=mem1,size=1G']);
    const added: string[] = [];
    m.setHotplugListener({ onDeviceAdded: (d) => added.push(d.id!) });
    const d = dev(m, 'virtio-mem-pci,id=vm1,memdev=mem1,bus=rp1') as VirtioMemPci;
    expect(added).toEqual(['vm1']);
    expect(d.hotplugged).toBe(true);
    expect(d.guestVisible).toBe(true);
    expect(d.pciAddress).toBe('0000:01:00.0');
    expect(d.getAddr()).toBe(0x1_0000_0000n);
    expect(physmem.regions.map((r) => r.name)).toContain('mem1');
    expect(m.memorySizeSummary()).toEqual({ baseMemory: 2n * GiB, pluggedMemory: 0n });
  });

  it('cold-plugged devices sit on pcie.0 in slot order and are not announced', () => {
    const added: string[] = [];
    const { m } = boot(
      ['virtio-mem-pci,id=vm0,memdev=vmem0', ...RP],
      ['memory-backend-ram,id=vmem0,size=4G'],
    );
    m.setHotplugListener({ onDeviceAdded: (d) => added.push(d.id!) });
    const vm0 = m.device('vm0') as VirtioMemPci;
    expect(vm0.pciAddress).toBe('0000:00:01.0');
    expect(vm0.hotplugged).toBe(false);
    expect(added).toEqual([]);
  });

  it('pcie.0 takes no hot-plugged device', () => {
    const { m } = boot(RP, ['memory-backend-ram,id=mem1,size=1G']);
    expect(errorOf(() => dev(m, 'virtio-mem-pci,id=v,memdev=mem1')).message).toBe(
      "Bus 'pcie.0' does not support hotplugging",
    );
  });

  it('a root port takes one device: the next one is refused for its slot 0', () => {
    const { m } = boot(RP, ['memory-backend-ram,id=a,size=1G', 'memory-backend-ram,id=b,size=1G']);
    dev(m, 'virtio-mem-pci,id=va,memdev=a,bus=rp1');
    expect(errorOf(() => dev(m, 'virtio-mem-pci,id=vb,memdev=b,bus=rp1')).message).toBe(
      'PCI: slot 0 function 0 already occupied by virtio-mem-pci, new func virtio-mem-pci cannot be exposed to guest.',
    );
    // The failed device left nothing behind: same id works elsewhere.
    expect(dev(m, 'virtio-mem-pci,id=vb,memdev=b,bus=rp2').id).toBe('vb');
  });

  it('bus, driver and id errors', () => {
    const { m } = boot(RP, ['memory-backend-ram,id=a,size=1G']);
    dev(m, 'virtio-mem-pci,id=va,memdev=a,bus=rp1');
    expect(errorOf(() => dev(m, 'nosuch,id=x')).message).toBe("'nosuch' is not a valid device model name");
    expect(errorOf(() => dev(m, 'virtio-mem-pci,id=x,bus=rp9')).message).toBe("Bus 'rp9' not found");
    expect(errorOf(() => dev(m, 'virtio-mem-pci,id=va,bus=rp2')).message).toBe("Duplicate device ID 'va'");
    expect(errorOf(() => dev(m, 'virtio-mem-pci,id=x,bus=rp2')).message).toBe(
      "'memdev' property must be set",
    );
    expect(errorOf(() => dev(m, 'id=x')).message).toBe("Parameter 'driver' is missing");
    expect(errorOf(() => dev(m, 'virtio-mem-pci,id=x,bus=rp2,foo=1')).message).toBe(
      "Property 'virtio-mem-pci.foo' not found",
    );
    expect(errorOf(() => dev(m, 'virtio-mem-pci,id=x,bus=rp2,size=1')).message).toBe(
      "Property 'virtio-mem.size' is not writable",
    );
  });

  it('a device without id is anonymous under /machine/peripheral-anon', () => {
    const { m } = boot(RP, ['memory-backend-ram,id=a,size=1G']);
    const d = dev(m, 'virtio-mem-pci,memdev=a,bus=rp1');
    expect(d.canonicalPath).toBe('/machine/peripheral-anon/device[0]');
    expect(m.memoryDeviceInfo()[0]).toMatchObject({ type: 'virtio-mem', data: { id: undefined } });
  });
});

describe('device_del and the guest', () => {
  function withDevice() {
    const b = boot(RP, ['memory-backend-ram,id=a,size=1G']);
    const d = dev(b.m, 'virtio-mem-pci,id=va,memdev=a,bus=rp1') as VirtioMemPci;
    return { ...b, d };
  }

  it('refused while memory is requested or plugged', () => {
    const { m, d } = withDevice();
    m.qomSet('va', 'requested-size', new StringInputVisitor('4M'));
    expect(errorOf(() => m.deviceDel('va')).message).toBe(
      "virtio-mem device cannot get unplugged while 'requested-size' != '0'",
    );
    d.vdev.request({ type: 'plug', addr: d.getAddr(), nbBlocks: 1 });
    m.qomSet('va', 'requested-size', new StringInputVisitor('0'));
    expect(errorOf(() => m.deviceDel('va')).message).toBe(
      'virtio-mem device cannot get unplugged while some of its memory is still plugged',
    );
  });

  it('the guest releases the device: unmapped, deleted, backend free again', () => {
    const { m, d, physmem } = withDevice();
    const deleted: string[] = [];
    m.setHotplugListener({ onUnplugRequest: (x) => x === d, onDeviceDeleted: (x) => deleted.push(x.id!) });
    m.deviceDel('va');
    expect(deleted).toEqual(['va']);
    expect(m.device('va')).toBeUndefined();
    expect(physmem.regions.map((r) => r.name)).not.toContain('a');
    expect(m.deviceMemory!.usedRegionSize).toBe(0n);
    m.objectDel('a');
  });

  it('the guest does not answer: the unplug stays pending until it does', () => {
    const { m, d } = withDevice();
    m.setHotplugListener({ onUnplugRequest: () => false });
    m.deviceDel('va');
    expect(m.device('va')).toBe(d);
    expect(errorOf(() => m.deviceDel('va')).message).toBe('Device va is already in the process of unplug');
    m.completeUnplug(d);
    expect(m.device('va')).toBeUndefined();
  });

  it('several listeners: the device is released if any of them releases it', () => {
    const { m, d } = withDevice();
    const calls: string[] = [];
    const off = m.addHotplugListener({ onUnplugRequest: () => (calls.push('cli'), false) });
    m.addHotplugListener({ onUnplugRequest: () => (calls.push('guest'), true) });
    m.deviceDel('va');
    expect(calls).toEqual(['cli', 'guest']);
    expect(d.realized).toBe(false);
    off();
  });

  it('a device on pcie.0, an unknown id, a device found by absolute path', () => {
    const { m } = boot(
      ['virtio-mem-pci,id=vm0,memdev=vmem0', ...RP],
      ['memory-backend-ram,id=vmem0,size=4G'],
    );
    expect(errorOf(() => m.deviceDel('vm0')).message).toBe("Bus 'pcie.0' does not support hotplugging");
    expect(errorOf(() => m.deviceDel('/machine/peripheral/vm0')).message).toBe(
      "Bus 'pcie.0' does not support hotplugging",
    );
    const nf = errorOf(() => m.deviceDel('vm99'));
    expect([nf.message, nf.errorClass]).toEqual(["Device 'vm99' not found", 'DeviceNotFound']);
    expect(errorOf(() => m.deviceDel('rp1')).message).toBe("Bus 'pcie.0' does not support hotplugging");
  });
});

describe('pc-dimm on the RISC-V virt board', () => {
  it('device_add is refused: the machine has no hotplug handler for DIMMs', () => {
    const { m } = boot(RP, ['memory-backend-ram,id=d,size=1G'], '2G,slots=4,maxmem=8G');
    expect(errorOf(() => dev(m, 'pc-dimm,id=dimm1,memdev=d')).message).toBe(
      "Device 'pc-dimm' can not be hotplugged on this machine",
    );
    expect(m.backend('d')!.mapped).toBe(false);
  });

  it('on the command line it is realized but never plugged: no slot, no address, not mapped, not seen by Linux', () => {
    const { m, physmem } = boot(
      ['pc-dimm,id=dimm0,memdev=d'],
      ['memory-backend-ram,id=d,size=1G'],
      '2G,slots=4,maxmem=8G',
    );
    const dimm = m.device('dimm0') as PCDIMMDevice;
    expect(dimm).toBeInstanceOf(PCDIMMDevice);
    expect([dimm.slot, dimm.addr, dimm.plugged, dimm.guestVisible]).toEqual([-1, 0n, false, false]);
    expect(physmem.regions.map((r) => r.name)).not.toContain('d');
    // QEMU still counts it in the plugged memory summary and keeps its memdev busy.
    expect(m.memorySizeSummary().pluggedMemory).toBe(GiB);
    expect(errorOf(() => m.objectDel('d')).message).toBe("object 'd' is in use, can not be deleted");
    expect(errorOf(() => m.deviceDel('dimm0')).message).toBe(
      "Device 'pc-dimm' can not be hotplugged on this machine",
    );
  });

  it('realize checks: node, memdev set, memdev busy', () => {
    const { m } = boot([], ['memory-backend-ram,id=d,size=1G'], '2G,slots=4,maxmem=8G', {
      boardPlugsPcDimm: true,
    });
    expect(errorOf(() => dev(m, 'pc-dimm,id=x,memdev=d,node=1')).message).toBe(
      "'DIMM property node has value 1' which exceeds the number of numa nodes: 1",
    );
    expect(errorOf(() => dev(m, 'pc-dimm,id=x')).message).toBe("'memdev' property must be set");
    dev(m, 'pc-dimm,id=x,memdev=d');
    expect(errorOf(() => dev(m, 'pc-dimm,id=y,memdev=d')).message).toBe("can't use already busy memdev: d");
  });

  it('on a board that plugs DIMMs: slots are counted and the backend mapped', () => {
    const { m, physmem } = boot(
      [],
      [
        'memory-backend-ram,id=d0,size=1G',
        'memory-backend-ram,id=d1,size=1G',
        'memory-backend-ram,id=d2,size=1G',
      ],
      '2G,slots=2,maxmem=8G',
      {
        boardPlugsPcDimm: true,
      },
    );
    const a = dev(m, 'pc-dimm,id=a,memdev=d0') as PCDIMMDevice;
    expect([a.slot, a.addr, a.hotplugged]).toEqual([0, 0x1_0000_0000n, true]);
    expect(physmem.regions.map((r) => r.name)).toContain('d0');
    expect(errorOf(() => dev(m, 'pc-dimm,id=b,memdev=d1,slot=0')).message).toBe('slot 0 is busy');
    expect(errorOf(() => dev(m, 'pc-dimm,id=b,memdev=d1,slot=5')).message).toBe(
      'invalid slot number 5, valid range is [0-1]',
    );
    const b = dev(m, 'pc-dimm,id=b,memdev=d1') as PCDIMMDevice;
    expect([b.slot, b.addr]).toEqual([1, 0x1_4000_0000n]);
    expect(errorOf(() => dev(m, 'pc-dimm,id=c,memdev=d2')).message).toBe('no free slots available');
    m.deviceDel('a');
    expect(physmem.regions.map((r) => r.name)).not.toContain('d0');
    expect((dev(m, 'pc-dimm,id=c,memdev=d2') as PCDIMMDevice).slot).toBe(0);
  });

  it('without slots= a board that plugs DIMMs has none to give', () => {
    const { m } = boot([], ['memory-backend-ram,id=d0,size=1G'], '2G,maxmem=8G', { boardPlugsPcDimm: true });
    expect(errorOf(() => dev(m, 'pc-dimm,id=a,memdev=d0')).message).toBe(
      "no slots where allocated, please specify the 'slots' option",
    );
  });
});

describe('qom-set / qom-get paths', () => {
  it('resolve an id, /machine/peripheral/ID, a backend id and the virtio-mem child', () => {
    const { m } = boot(['virtio-mem-pci,id=vm0,memdev=vmem0'], ['memory-backend-ram,id=vmem0,size=4G']);
    expect(m.qomGet('vm0', 'block-size')).toBe(2n * MiB);
    expect(m.qomGet('/machine/peripheral/vm0', 'memaddr')).toBe(0x1_0000_0000n);
    expect(m.qomGet('vmem0', 'size')).toBe(4n * GiB);
    expect(m.qomGet('/machine/peripheral/vm0/virtio-backend', 'requested-size')).toBe(0n);
    expect(m.qomGet('vm0', 'memdev')).toBe('/objects/vmem0');
    expect(errorOf(() => m.qomGet('vm9', 'size')).errorClass).toBe('DeviceNotFound');
  });

  it('an id used by both a device and a backend is ambiguous, so not found', () => {
    const { m } = boot(['virtio-mem-pci,id=x,memdev=x'], ['memory-backend-ram,id=x,size=1G']);
    expect(errorOf(() => m.qomGet('x', 'size')).message).toBe("Device 'x' not found");
  });
});

describe('start-up', () => {
  it('builds the configuration of the recordings', () => {
    const r = parseMachineConfig({
      memory: '2G,maxmem=8G',
      smp: '2',
      objects: ['memory-backend-ram,id=vmem0,size=4G'],
      devices: ['virtio-mem-pci,id=vm0,memdev=vmem0,node=0'],
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect([r.config.ramSize, r.config.maxRamSize, r.config.ramSlots, r.config.smp]).toEqual([
      2n * GiB,
      8n * GiB,
      0,
      2,
    ]);
    const m = MachineDevices.create(r.config, new PhysMem());
    expect(m.deviceMemory).toMatchObject({ base: 0x1_0000_0000n, size: 6n * GiB });
  });

  it('device errors carry the option as location', () => {
    const r = startMachine(
      {
        memory: '2G,maxmem=8G',
        objects: ['memory-backend-ram,id=vmem0,size=4G'],
        devices: ['virtio-mem-pci,id=vm0,memdev=vmem0,node=2'],
      },
      new PhysMem(),
    );
    expect(r).toEqual({
      ok: false,
      error:
        "qemu-system-riscv64: -device virtio-mem-pci,id=vm0,memdev=vmem0,node=2: 'node' property has value '2', which exceedsthe number of numa nodes: 1\n",
    });
  });

  it('the default RAM backend id is reserved', () => {
    const r = startMachine(
      { objects: ['memory-backend-ram,id=riscv_virt_board.ram,size=1G'] },
      new PhysMem(),
    );
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect(r.error).toMatch(/^qemu-system-riscv64: object's id 'riscv_virt_board.ram' is reserved/);
  });
});
