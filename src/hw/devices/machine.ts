/**
 * The QEMU side of the memory devices of one RISC-V `virt` machine: memory
 * backends (/objects), the devices users add (/machine/peripheral), the PCIe
 * buses they sit on, the device-memory window, and the guest's physical
 * memory they map into.
 *
 * It follows QEMU 10 with the 2024 RISC-V virt memory-hotplug patch:
 * the machine is the hotplug handler of virtio-md-pci devices only, so
 * virtio-mem-pci can be hot-added on a PCIe root port (never on pcie.0,
 * which has no hotplug), while pc-dimm cannot be hot-added at all.
 *
 * The guest joins through a HotplugListener: it hears about hot-added
 * devices and decides whether to release a device on device_del. Drivers
 * talk to a virtio-mem device directly (VirtioMem.request, onConfigChange).
 */

import { VIRT_DRAM_BASE, VIRT_RAM_REGION } from '../board.js';
import type { PhysMem } from '../physmem.js';
import { GHashTable } from './ghash.js';
import {
  HostMemoryBackend,
  applyBackendOptions,
  type HostMemPolicy,
  type MemoryBackendOptions,
} from './hostmem.js';
import type { DeviceOption, MachineConfig } from './machine-config.js';
import {
  type DeviceMemory,
  type MemoryDevice,
  type MemoryDeviceInfo,
  type MemoryDeviceMachine,
  memoryDeviceList,
  memoryDevicePlug,
  memoryDevicePrePlug,
  memoryDeviceUnplug,
  pluggedMemorySize,
  virtDeviceMemory,
} from './memory-device.js';
import { PCDIMMDevice, TYPE_PC_DIMM, pcDimmAssignSlot } from './pc-dimm.js';
import { GpexRoot, PciBus, PcieRootPort, TYPE_PCIE_ROOT_PORT } from './pci.js';
import { QemuError, deviceNotFound } from './qemu-error.js';
import {
  ID_HINT,
  type QomObject,
  type QomValue,
  type Visitor,
  idWellformed,
  objectPropertyGet,
  objectPropertySet,
} from './qom.js';
import { TYPE_VIRTIO_MEM_PCI, VirtioMemPci } from './virtio-mem-pci.js';

export type Device = VirtioMemPci | PCDIMMDevice | PcieRootPort;

/** A PCI function as the guest enumerates it. */
export interface PciFunctionInfo {
  /** Linux's name, e.g. 0000:00:01.0. */
  readonly address: string;
  readonly bus: number;
  readonly devfn: number;
  readonly kind: 'root-port' | 'virtio-mem-pci';
  /** The bus behind a root port (-1 for endpoints). */
  readonly secondaryBus: number;
  readonly device: VirtioMemPci | PcieRootPort;
}

/** The guest side of device hotplug. */
export interface HotplugListener {
  /** A virtio-mem-pci device was hot-added: the guest gets a PCIe hotplug event for it. */
  onDeviceAdded?(dev: VirtioMemPci): void;
  /**
   * device_del passed QEMU's checks and the port asked the guest to release
   * the device (attention button). Return true if the guest powered the slot
   * off now; false leaves the unplug pending (call completeUnplug later).
   */
  onUnplugRequest?(dev: VirtioMemPci): boolean;
  /** The device is gone (QEMU's DEVICE_DELETED event). */
  onDeviceDeleted?(dev: Device): void;
}

/** A start-up failure: `message` is what qemu-system-riscv64 prints before exiting with status 1. */
export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartupError';
  }
}

export interface MachineDevicesOptions {
  /** Start of boot DRAM (0x8000_0000 on virt). */
  readonly dramBase?: bigint;
  /**
   * A board that pre-plugs and plugs pc-dimm (x86 pc, arm virt with ACPI).
   * The RISC-V virt board does not; this switch exists to exercise QEMU's
   * generic DIMM slot and placement rules.
   */
  readonly boardPlugsPcDimm?: boolean;
}

/** QAPI Memdev (query-memdev / info memdev). */
export interface MemdevInfo {
  readonly id: string;
  readonly size: bigint;
  readonly merge: boolean;
  readonly dump: boolean;
  readonly prealloc: boolean;
  readonly share: boolean;
  readonly reserve: boolean;
  readonly policy: HostMemPolicy;
  readonly hostNodes: readonly number[];
}

/** A memory region in `info mtree`: address relative to its container. */
export interface MtreeRegion {
  readonly name: string;
  readonly addr: bigint;
  readonly size: bigint;
  readonly kind: 'ram' | 'i/o';
  readonly priority: number;
  readonly children: readonly MtreeRegion[];
}

interface DeviceClassInfo {
  readonly busType: 'PCIE' | undefined;
  readonly hotpluggable: boolean;
}

const DEVICE_CLASSES: Readonly<Record<string, DeviceClassInfo>> = {
  [TYPE_VIRTIO_MEM_PCI]: { busType: 'PCIE', hotpluggable: true },
  [TYPE_PC_DIMM]: { busType: undefined, hotpluggable: true },
  [TYPE_PCIE_ROOT_PORT]: { busType: 'PCIE', hotpluggable: true },
};

export function isMemoryDevice(d: Device): d is VirtioMemPci | PCDIMMDevice {
  return d instanceof VirtioMemPci || d instanceof PCDIMMDevice;
}

export class MachineDevices implements MemoryDeviceMachine {
  readonly ramSize: bigint;
  readonly maxRamSize: bigint;
  readonly ramSlots: number;
  readonly smp: number;
  readonly numaNodes: number;
  readonly dramBase: bigint;
  readonly deviceMemory: DeviceMemory | undefined;
  /** riscv_virt_board.ram: the backend of boot RAM (mapped by the board, never deletable). */
  readonly ramBackend: HostMemoryBackend;
  readonly pcie0: PciBus;
  private readonly boardPlugsPcDimm: boolean;
  /** /objects */
  private readonly objects = new GHashTable<HostMemoryBackend>();
  /** /machine/peripheral and /machine/peripheral-anon */
  private readonly peripheral = new GHashTable<Device>();
  private readonly peripheralAnon = new GHashTable<Device>();
  private anonCount = 0;
  private readonly rootPorts: PcieRootPort[] = [];
  private readonly chassisSlots = new Set<string>();
  private listeners: HotplugListener[] = [];

  constructor(
    config: MachineConfig,
    readonly physmem: PhysMem,
    opts: MachineDevicesOptions = {},
  ) {
    this.ramSize = config.ramSize;
    this.maxRamSize = config.maxRamSize;
    this.ramSlots = config.ramSlots;
    this.smp = config.smp;
    this.numaNodes = config.numaNodes;
    this.dramBase = opts.dramBase ?? VIRT_DRAM_BASE;
    this.boardPlugsPcDimm = opts.boardPlugsPcDimm ?? false;
    this.deviceMemory = virtDeviceMemory(this.dramBase, this.ramSize, this.maxRamSize);
    this.ramBackend = new HostMemoryBackend(VIRT_RAM_REGION);
    this.ramBackend.size = this.ramSize;
    this.pcie0 = new PciBus('pcie.0', false, false, 0);
    this.pcie0.register(new GpexRoot(), false);
  }

  /**
   * Builds the machine as QEMU starts it: -object backends, then the board
   * (which creates its RAM backend), then -device in order. Throws
   * StartupError with QEMU's message for a bad option.
   */
  static create(config: MachineConfig, physmem: PhysMem, opts: MachineDevicesOptions = {}): MachineDevices {
    const m = new MachineDevices(config, physmem, opts);
    for (const o of config.objects) {
      try {
        m.objectAdd(o.options);
      } catch (e) {
        throw startupError(e, `-object ${o.text}: `);
      }
    }
    if (m.objects.has(VIRT_RAM_REGION)) {
      throw new StartupError(
        `qemu-system-riscv64: object's id '${VIRT_RAM_REGION}' is reserved for the default RAM backend, it can't be used for any other purposes\n` +
          `Change the object's 'id' to something else or disable automatic creation of the default RAM backend by setting 'memory-backend=${VIRT_RAM_REGION}' with '-machine'.\n`,
      );
    }
    m.ramBackend.mapped = true;
    m.ramBackend.initialized = true;
    m.objects.set(VIRT_RAM_REGION, m.ramBackend);
    for (const d of config.devices) {
      try {
        m.deviceAdd(d, false);
      } catch (e) {
        throw startupError(e, `-device ${d.text}: `);
      }
    }
    return m;
  }

  /** Replaces all hotplug listeners with this one. */
  setHotplugListener(listener: HotplugListener): void {
    this.listeners = [listener];
  }

  /** Adds a hotplug listener; returns a function that removes it. */
  addHotplugListener(listener: HotplugListener): () => void {
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  // ---- Objects --------------------------------------------------------

  /** object_add memory-backend-ram (user_creatable_add_type). */
  objectAdd(o: MemoryBackendOptions): HostMemoryBackend {
    if (!idWellformed(o.id)) throw new QemuError("Parameter 'id' expects an identifier", ID_HINT);
    const b = new HostMemoryBackend(o.id);
    applyBackendOptions(b, o);
    if (this.objects.has(o.id)) {
      throw new QemuError(`attempt to add duplicate property '${o.id}' to object (type 'container')`);
    }
    this.objects.set(o.id, b);
    b.initialized = true;
    return b;
  }

  /** object_del (user_creatable_del). */
  objectDel(id: string): void {
    const b = this.objects.get(id);
    if (!b) throw new QemuError(`object '${id}' not found`);
    if (b.mapped) throw new QemuError(`object '${id}' is in use, can not be deleted`);
    this.objects.delete(id);
  }

  backend(id: string): HostMemoryBackend | undefined {
    return this.objects.get(id);
  }

  // ---- Devices ----------------------------------------------------------

  /** All user devices, in /machine/peripheral then /machine/peripheral-anon order. */
  devices(): Device[] {
    return [...this.peripheral.values(), ...this.peripheralAnon.values()];
  }

  device(id: string): Device | undefined {
    return this.peripheral.get(id);
  }

  /** Realized virtio-mem-pci devices in PCI order (bus, then slot): the order a guest enumerates them at boot. */
  virtioMemDevices(): VirtioMemPci[] {
    const key = (d: VirtioMemPci) => (d.bus?.busNumber ?? 0) * 256 + d.devfn;
    return this.devices()
      .filter((d): d is VirtioMemPci => d instanceof VirtioMemPci && d.realized)
      .sort((a, b) => key(a) - key(b));
  }

  /** Every device on a PCI bus, host bridge excluded, in bus/slot order, as a guest enumerates them. */
  pciFunctions(): PciFunctionInfo[] {
    const out: PciFunctionInfo[] = [];
    for (const bus of [
      this.pcie0,
      ...this.rootPorts.map((rp) => rp.secondary).filter((b): b is PciBus => b !== undefined),
    ]) {
      bus.devices.forEach((d, devfn) => {
        if (!d || d instanceof GpexRoot) return;
        const address = `0000:${bus.busNumber.toString(16).padStart(2, '0')}:${(devfn >> 3).toString(16).padStart(2, '0')}.${devfn & 7}`;
        if (d instanceof PcieRootPort)
          out.push({
            address,
            bus: bus.busNumber,
            devfn,
            kind: 'root-port',
            secondaryBus: d.secondary?.busNumber ?? -1,
            device: d,
          });
        else if (d instanceof VirtioMemPci)
          out.push({
            address,
            bus: bus.busNumber,
            devfn,
            kind: 'virtio-mem-pci',
            secondaryBus: -1,
            device: d,
          });
      });
    }
    return out.sort((a, b) => a.bus * 256 + a.devfn - (b.bus * 256 + b.devfn));
  }

  /** PCI addresses (Linux's dddd:bb:ss.f) of every device on a PCI bus, host bridge excluded. */
  pciDeviceAddresses(): string[] {
    return this.pciFunctions().map((f) => f.address);
  }

  realizedMemoryDevices(): readonly MemoryDevice[] {
    return this.devices().filter((d): d is VirtioMemPci | PCDIMMDevice => isMemoryDevice(d) && d.realized);
  }

  /**
   * qdev_device_add(): -device at start-up (hotplug false) or device_add
   * (hotplug true). Errors come in QEMU's order.
   */
  deviceAdd(opt: DeviceOption, hotplug: boolean): Device {
    const driver = opt.driver;
    if (driver === undefined) throw new QemuError("Parameter 'driver' is missing");
    const dc = DEVICE_CLASSES[driver];
    if (!dc) throw new QemuError(`'${driver}' is not a valid device model name`);

    let bus: PciBus | undefined;
    if (opt.bus !== undefined) {
      bus = this.findBus(opt.bus);
      if (!bus) throw new QemuError(`Bus '${opt.bus}' not found`);
      if (dc.busType !== bus.typeName)
        throw new QemuError(`Device '${driver}' can't go on ${bus.typeName} bus`);
    } else if (dc.busType) {
      bus = this.pcie0;
    }
    if (hotplug && bus && !bus.hotpluggable)
      throw new QemuError(`Bus '${bus.name}' does not support hotplugging`);
    if (hotplug) {
      if (!dc.hotpluggable) throw new QemuError(`Device '${driver}' does not support hotplugging`);
      if (!bus && !this.machineHandles(driver)) {
        throw new QemuError(`Device '${driver}' can not be hotplugged on this machine`);
      }
    }

    // qdev_set_id(): the device joins /machine/peripheral before its properties are set.
    let container: GHashTable<Device>;
    let name: string;
    if (opt.id !== undefined) {
      if (this.peripheral.has(opt.id)) throw new QemuError(`Duplicate device ID '${opt.id}'`);
      container = this.peripheral;
      name = opt.id;
    } else {
      container = this.peripheralAnon;
      name = `device[${this.anonCount++}]`;
    }
    const path = `/machine/${container === this.peripheral ? 'peripheral' : 'peripheral-anon'}/${name}`;
    const resolve = (p: string) => this.resolveBackendLink(p);
    const dev: Device =
      driver === TYPE_VIRTIO_MEM_PCI
        ? new VirtioMemPci(opt.id, path, resolve)
        : driver === TYPE_PC_DIMM
          ? new PCDIMMDevice(opt.id, path, resolve)
          : new PcieRootPort(opt.id, path);
    container.set(name, dev);
    try {
      for (const p of opt.props) objectPropertySet(dev, p.name, p.visitor);
      this.realize(dev, bus, hotplug);
    } catch (e) {
      container.delete(name);
      throw e;
    }
    if (hotplug && dev instanceof VirtioMemPci) for (const l of [...this.listeners]) l.onDeviceAdded?.(dev);
    return dev;
  }

  /** device_del (qmp_device_del + qdev_unplug). */
  deviceDel(id: string): void {
    const dev = this.findDevice(id);
    if (dev instanceof VirtioMemPci && dev.pendingDelete) {
      throw new QemuError(`Device ${id} is already in the process of unplug`);
    }
    // qdev_hotunplug_allowed(): the device class, then its bus, then (bus-less) the machine.
    if (!DEVICE_CLASSES[dev.typeName]!.hotpluggable) {
      throw new QemuError(`Device '${dev.typeName}' does not support hotplugging`);
    }
    const bus = dev instanceof PCDIMMDevice ? undefined : dev.bus;
    if (bus && !bus.hotpluggable) throw new QemuError(`Bus '${bus.name}' does not support hotplugging`);
    if (dev instanceof PCDIMMDevice) {
      if (!this.machineHandles(TYPE_PC_DIMM)) {
        throw new QemuError(`Device '${TYPE_PC_DIMM}' can not be hotplugged on this machine`);
      }
      // Boards that handle DIMMs unplug them once the guest's ACPI agrees; the model does it at once.
      if (dev.plugged) memoryDeviceUnplug(this, dev);
      this.unrealize(dev);
      return;
    }
    if (dev instanceof VirtioMemPci) {
      // virtio_md_pci_unplug_request(): the device must be empty first.
      dev.vdev.unplugRequestCheck();
      dev.pendingDelete = true;
      // The guest releases the device if any listener (the guest's PCIe hotplug driver) says so.
      let released = false;
      for (const l of [...this.listeners]) if (l.onUnplugRequest?.(dev) === true) released = true;
      if (released) this.completeUnplug(dev);
    }
  }

  /** The guest released a device whose unplug was requested: QEMU unplugs and deletes it. */
  completeUnplug(dev: VirtioMemPci): void {
    if (!dev.pendingDelete) throw new Error(`${dev.id ?? 'device'}: no unplug was requested`);
    memoryDeviceUnplug(this, dev);
    this.unrealize(dev);
  }

  private machineHandles(driver: string): boolean {
    if (driver === TYPE_VIRTIO_MEM_PCI) return true;
    return driver === TYPE_PC_DIMM && this.boardPlugsPcDimm;
  }

  private findBus(name: string): PciBus | undefined {
    if (name === this.pcie0.name) return this.pcie0;
    return this.rootPorts.find((rp) => rp.secondary?.name === name)?.secondary;
  }

  /** find_device_state(): an id under /machine/peripheral, or an absolute path. */
  private findDevice(id: string): Device {
    const dev = id.startsWith('/')
      ? this.devices().find((d) => d.canonicalPath === id)
      : this.peripheral.get(id);
    if (!dev) throw deviceNotFound(id);
    return dev;
  }

  private realize(dev: Device, bus: PciBus | undefined, hotplug: boolean): void {
    if (dev instanceof VirtioMemPci) {
      // pre_plug (virtio_md_pci_pre_plug), realize (PCI, then virtio-mem), plug.
      memoryDevicePrePlug(this, dev);
      bus!.register(dev, hotplug);
      try {
        dev.vdev.realize({ numaNodes: this.numaNodes });
      } catch (e) {
        bus!.unregister(dev);
        throw e;
      }
      dev.realized = true;
      dev.hotplugged = hotplug;
      memoryDevicePlug(this, dev);
    } else if (dev instanceof PCDIMMDevice) {
      const plug = this.boardPlugsPcDimm;
      if (plug) {
        const used = new Set<number>();
        for (const d of this.devices()) if (d instanceof PCDIMMDevice && d.realized) used.add(d.slot);
        dev.slot = pcDimmAssignSlot(dev.slot, this.ramSlots, used);
        memoryDevicePrePlug(this, dev);
      }
      dev.realize(this.numaNodes);
      dev.hotplugged = hotplug;
      if (plug) {
        memoryDevicePlug(this, dev);
        dev.plugged = true;
      }
    } else {
      bus!.register(dev, hotplug);
      const key = `${dev.chassis}/${dev.slot}`;
      if (this.chassisSlots.has(key)) {
        bus!.unregister(dev);
        throw new QemuError("Can't add chassis slot, error -16");
      }
      this.chassisSlots.add(key);
      const name = dev.id ?? `pcie.${this.rootPorts.length + 1}`;
      dev.secondary = new PciBus(name, true, true, this.rootPorts.length + 1);
      dev.realized = true;
      this.rootPorts.push(dev);
    }
  }

  private unrealize(dev: VirtioMemPci | PCDIMMDevice): void {
    if (dev instanceof VirtioMemPci) {
      dev.bus?.unregister(dev);
      dev.vdev.unrealize();
      dev.realized = false;
      dev.pendingDelete = false;
    } else {
      dev.unrealize();
    }
    if (dev.id !== undefined) this.peripheral.delete(dev.id);
    else this.peripheralAnon.delete(dev.canonicalPath.slice(dev.canonicalPath.lastIndexOf('/') + 1));
    for (const l of [...this.listeners]) l.onDeviceDeleted?.(dev);
  }

  // ---- QOM paths and properties -------------------------------------------

  private qomObjects(): QomObject[] {
    const objs: QomObject[] = [...this.objects.values()];
    for (const d of this.devices()) {
      objs.push(d);
      if (d instanceof VirtioMemPci) objs.push(d.vdev);
    }
    return objs;
  }

  /**
   * object_resolve_path(): an absolute path, or a partial one that must end
   * exactly one object's canonical path.
   */
  resolvePath(path: string): QomObject | undefined {
    return this.resolveTyped(path, () => true).obj;
  }

  private resolveTyped(
    path: string,
    want: (o: QomObject) => boolean,
  ): { obj?: QomObject; ambiguous: boolean } {
    const objs = this.qomObjects().filter(want);
    if (path.startsWith('/')) {
      return { obj: objs.find((o) => o.canonicalPath === path), ambiguous: false };
    }
    const parts = path.split('/').filter((p) => p !== '');
    if (parts.length === 0) return { ambiguous: false };
    const matches = objs.filter((o) => {
      const c = o.canonicalPath.split('/').filter((p) => p !== '');
      if (c.length < parts.length) return false;
      return parts.every((p, i) => c[c.length - parts.length + i] === p);
    });
    if (matches.length > 1) return { ambiguous: true };
    return matches.length === 1 ? { obj: matches[0]!, ambiguous: false } : { ambiguous: false };
  }

  /** object_resolve_link() for a link<memory-backend> property. */
  private resolveBackendLink(path: string): HostMemoryBackend {
    const typed = this.resolveTyped(path, (o) => o instanceof HostMemoryBackend);
    if (typed.ambiguous) throw new QemuError(`Path '${path}' does not uniquely identify an object`);
    if (typed.obj) return typed.obj as HostMemoryBackend;
    const any = this.resolveTyped(path, () => true);
    if (any.obj || any.ambiguous) {
      throw new QemuError("Invalid parameter type for 'memdev', expected: memory-backend");
    }
    throw deviceNotFound(path);
  }

  /** qom-set. */
  qomSet(path: string, property: string, v: Visitor): void {
    const obj = this.resolvePath(path);
    if (!obj) throw deviceNotFound(path);
    objectPropertySet(obj, property, v);
  }

  /** qom-get. */
  qomGet(path: string, property: string): QomValue {
    const obj = this.resolvePath(path);
    if (!obj) throw deviceNotFound(path);
    return objectPropertyGet(obj, property);
  }

  // ---- Queries ------------------------------------------------------------

  /** query-memory-devices: realized memory devices by address. */
  memoryDeviceInfo(): MemoryDeviceInfo[] {
    return memoryDeviceList(this).map((md) => md.fillDeviceInfo());
  }

  /** query-memory-size-summary; pluggedMemory only when the machine has device memory. */
  memorySizeSummary(): { baseMemory: bigint; pluggedMemory?: bigint } {
    return this.deviceMemory
      ? { baseMemory: this.ramSize, pluggedMemory: pluggedMemorySize(this) }
      : { baseMemory: this.ramSize };
  }

  /** query-memdev: QEMU prepends while walking /objects, so the list is the reverse of the walk. */
  memdevs(): MemdevInfo[] {
    const list: MemdevInfo[] = [];
    for (const b of this.objects.values()) {
      list.unshift({
        id: b.id,
        size: b.size,
        merge: b.merge,
        dump: b.dump,
        prealloc: b.prealloc,
        share: b.share,
        reserve: b.reserve,
        policy: b.policy,
        hostNodes: [],
      });
    }
    return list;
  }

  /** The memory part of the system address space: boot RAM and the device-memory container. */
  memoryTree(): MtreeRegion {
    const children: MtreeRegion[] = [
      {
        name: VIRT_RAM_REGION,
        addr: this.dramBase,
        size: this.ramSize,
        kind: 'ram',
        priority: 0,
        children: [],
      },
    ];
    const dm = this.deviceMemory;
    if (dm) {
      const subs: MtreeRegion[] = [];
      for (const md of this.realizedMemoryDevices()) {
        const b = md.getMemoryRegion();
        if (!b.mappedAt) continue;
        subs.push({
          name: b.id,
          addr: md.getAddr() - dm.base,
          size: b.size,
          kind: 'ram',
          priority: 0,
          children: [],
        });
      }
      children.push({
        name: 'device-memory',
        addr: dm.base,
        size: dm.size,
        kind: 'i/o',
        priority: 0,
        children: subs,
      });
    }
    return { name: 'system', addr: 0n, size: 1n << 64n, kind: 'i/o', priority: 0, children };
  }
}

function startupError(e: unknown, location: string): unknown {
  if (!(e instanceof QemuError)) return e;
  return new StartupError(`qemu-system-riscv64: ${location}${e.message}\n${e.hint ?? ''}`);
}
