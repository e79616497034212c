/**
 * The PCIe host bridge of the virt board as Linux 6.12 sets it up
 * (drivers/pci/controller/pci-host-generic.c, drivers/pci/setup-bus.c): the
 * ECAM window, the two memory windows from the device tree, and the BARs and
 * bridge windows it assigns at boot (largest first, each in its window in
 * turn) and when a device is hot-plugged into a root port. virtio-pci claims
 * the BAR holding the virtio capabilities as "virtio-pci-modern".
 */
import type { Kernel } from '../../kernel.js';
import type { MachineDevices, PciFunctionInfo } from '../../../hw/devices/machine.js';
import { IORESOURCE_BUSY, IORESOURCE_MEM, Resource } from '../../kernel/resource.js';

const ECAM_BASE = 0x30000000n;
const ECAM_SIZE = 0x10000000n;
const MMIO32_BASE = 0x40000000n;
const MMIO32_SIZE = 0x40000000n;
const GiB = 1n << 30n;
const IORESOURCE_PREFETCH = 0x2000;
const IORESOURCE_MEM_64 = 0x00100000;
/** pci_hotplug_mmio_size / pci_hotplug_mmio_pref_size defaults for a hotplug bridge. */
const HOTPLUG_WINDOW = 2n << 20n;
/** The virtio-mem-pci function's BARs in QEMU: BAR1 is the MSI-X table, BAR4 the virtio "modern" region. */
const VIRTIO_BAR1 = 0x1000n;
const VIRTIO_BAR4 = 0x4000n;
const ROOT_PORT_BAR0 = 0x1000n;

interface Assignment {
  owner: string;
  name: string;
  size: bigint;
  pref64: boolean;
  /** For bridge windows: the bus behind it. */
  bridgeBus?: number;
  resource?: Resource;
}

export class PciHostGeneric {
  private readonly mmio32: Resource;
  private readonly mmio64: Resource;
  /** Each root port's windows, by secondary bus number. */
  private readonly busWindows = new Map<number, { mem: Resource; pref: Resource }>();
  private readonly deviceResources = new Map<string, Resource[]>();

  constructor(
    private readonly k: Kernel,
    private readonly machine: MachineDevices,
    ramBytes: bigint,
  ) {
    const base64 = ((0x80000000n + ramBytes + 16n * GiB - 1n) / (16n * GiB)) * (16n * GiB);
    this.mmio32 = new Resource(MMIO32_BASE, MMIO32_BASE + MMIO32_SIZE - 1n, 'pci@30000000', IORESOURCE_MEM);
    this.mmio64 = new Resource(
      base64,
      base64 + 16n * GiB - 1n,
      'pci@30000000',
      IORESOURCE_MEM | IORESOURCE_MEM_64 | IORESOURCE_PREFETCH,
    );
  }

  /** Probe at boot: claim ECAM and the windows, size and assign everything found on the buses. */
  probe(): void {
    const io = this.k.iomem;
    io.request(
      new Resource(ECAM_BASE, ECAM_BASE + ECAM_SIZE - 1n, 'PCI ECAM', IORESOURCE_MEM | IORESOURCE_BUSY),
    );
    io.request(this.mmio32);
    io.request(this.mmio64);
    const fns = this.machine.pciFunctions();
    // Resources of bus 0 in discovery order, then assigned largest first (a stable sort keeps the order of equals).
    const todo: Assignment[] = [];
    for (const f of fns) {
      if (f.bus !== 0) continue;
      if (f.kind === 'root-port') {
        const bus = `PCI Bus 0000:${f.secondaryBus.toString(16).padStart(2, '0')}`;
        todo.push({ owner: f.address, name: f.address, size: ROOT_PORT_BAR0, pref64: false });
        todo.push({
          owner: f.address,
          name: bus,
          size: HOTPLUG_WINDOW,
          pref64: false,
          bridgeBus: f.secondaryBus,
        });
        todo.push({
          owner: f.address,
          name: bus,
          size: HOTPLUG_WINDOW,
          pref64: true,
          bridgeBus: f.secondaryBus,
        });
      } else {
        todo.push({ owner: f.address, name: f.address, size: VIRTIO_BAR1, pref64: false });
        todo.push({ owner: f.address, name: f.address, size: VIRTIO_BAR4, pref64: true });
      }
    }
    todo.sort((a, b) => (a.size === b.size ? 0 : a.size > b.size ? -1 : 1));
    const next = { mem: this.mmio32.start, pref: this.mmio64.start };
    for (const a of todo) {
      const key = a.pref64 ? 'pref' : 'mem';
      const start = (next[key] + a.size - 1n) & ~(a.size - 1n);
      next[key] = start + a.size;
      const r = new Resource(
        start,
        start + a.size - 1n,
        a.name,
        IORESOURCE_MEM | (a.pref64 ? IORESOURCE_PREFETCH | IORESOURCE_MEM_64 : 0),
      );
      (a.pref64 ? this.mmio64 : this.mmio32).request(r);
      a.resource = r;
      if (a.bridgeBus !== undefined) {
        const w = this.busWindows.get(a.bridgeBus) ?? { mem: r, pref: r };
        if (a.pref64) w.pref = r;
        else w.mem = r;
        this.busWindows.set(a.bridgeBus, w);
      } else {
        const list = this.deviceResources.get(a.owner) ?? [];
        list.push(r);
        this.deviceResources.set(a.owner, list);
      }
    }
    // Endpoints behind root ports at boot sit at the start of their bus's windows.
    for (const f of fns) if (f.bus !== 0 && f.kind === 'virtio-mem-pci') this.assignBehindPort(f);
    for (const f of fns) if (f.kind === 'virtio-mem-pci') this.claimVirtioBar(f.address);
  }

  private assignBehindPort(f: PciFunctionInfo): void {
    const w = this.busWindows.get(f.bus);
    if (!w) return;
    const bar4 = new Resource(
      w.pref.start,
      w.pref.start + VIRTIO_BAR4 - 1n,
      f.address,
      IORESOURCE_MEM | IORESOURCE_PREFETCH | IORESOURCE_MEM_64,
    );
    const bar1 = new Resource(w.mem.start, w.mem.start + VIRTIO_BAR1 - 1n, f.address, IORESOURCE_MEM);
    w.pref.request(bar4);
    w.mem.request(bar1);
    this.deviceResources.set(f.address, [bar4, bar1]);
  }

  /** virtio-pci: pci_request_selected_regions() of the BAR with the virtio capabilities. */
  private claimVirtioBar(address: string): void {
    if (!this.k.profile.config.VIRTIO_PCI) return;
    const bar4 = this.deviceResources.get(address)?.find((r) => r.end - r.start + 1n === VIRTIO_BAR4);
    bar4?.request(new Resource(bar4.start, bar4.end, 'virtio-pci-modern', IORESOURCE_MEM | IORESOURCE_BUSY));
  }

  /** pciehp: a device arrived in a root port's slot. */
  hotAdded(address: string): void {
    const f = this.machine.pciFunctions().find((x) => x.address === address);
    if (!f || this.deviceResources.has(address)) return;
    this.assignBehindPort(f);
    this.claimVirtioBar(address);
  }

  /** pciehp: the slot was powered off; the device's BARs are released. */
  removed(address: string): void {
    for (const r of this.deviceResources.get(address) ?? []) r.release();
    this.deviceResources.delete(address);
  }
}
