/**
 * The guest's view of virtio-mem-pci devices: PCI enumeration at boot and
 * PCIe hotplug afterwards bind each device to the virtio-mem driver as
 * virtio0, virtio1, ... (drivers/virtio/virtio.c names them in probe order),
 * and /sys/bus/{virtio,pci} list them.
 */
import type { Kernel } from '../../kernel.js';
import type { MachineDevices } from '../../../hw/devices/machine.js';
import type { VirtioMemPci } from '../../../hw/devices/virtio-mem-pci.js';
import { VirtioMemDriver } from './virtio_mem.js';
import { PciHostGeneric } from '../pci/pci_host_generic.js';
import { dynamicDir, file, link, staticDir, type VNode } from '../../fs/vfs.js';

interface Bound {
  dev: VirtioMemPci;
  driver: VirtioMemDriver;
  index: number;
  unsubscribe: () => void;
  /** The probe's -errno: the device has no driver (0 when bound). */
  probeError: number;
}

export class VirtioBus {
  private readonly bound: Bound[] = [];
  private nextIndex = 0;

  private readonly pci: PciHostGeneric | undefined;

  constructor(
    private readonly k: Kernel,
    private readonly machine: MachineDevices,
    ramBytes: bigint,
  ) {
    if (k.profile.config.PCI_HOST_GENERIC) this.pci = new PciHostGeneric(k, machine, ramBytes);
  }

  /** Boot: the PCI host probes the buses, then every virtio-mem-pci device binds, in PCI order. */
  probeAll(): void {
    this.pci?.probe();
    // Without PCI and virtio-mem in the kernel the devices stay unbound (the guest cannot see them).
    if (!this.k.profile.config.VIRTIO_MEM) return;
    for (const dev of this.machine.virtioMemDevices()) this.probe(dev);
    this.machine.addHotplugListener({
      onDeviceAdded: (dev) => {
        this.pci?.hotAdded(dev.pciAddress);
        this.probe(dev);
      },
      onUnplugRequest: (dev) => this.release(dev),
    });
  }

  private probe(dev: VirtioMemPci): void {
    const index = this.nextIndex++;
    const driver = new VirtioMemDriver(this.k, dev.vdev, index);
    const unsubscribe = dev.vdev.onConfigChange(() => driver.configChangedCb());
    const entry: Bound = { dev, driver, index, unsubscribe, probeError: 0 };
    this.bound.push(entry);
    const rc = driver.probe();
    if (rc) {
      // really_probe(): the device stays on the bus without a driver; nothing listens to it any more.
      this.k.log.err(`virtio_mem virtio${index}: probe with driver virtio_mem failed with error ${rc}`);
      entry.probeError = rc;
      unsubscribe();
    }
  }

  /** The driver bound to a device, if its probe succeeded. */
  driverFor(dev: VirtioMemPci): VirtioMemDriver | undefined {
    const b = this.bound.find((x) => x.dev === dev);
    return b && !b.probeError ? b.driver : undefined;
  }

  /** Why a device has no driver: the probe's -errno (0 when bound). */
  probeError(dev: VirtioMemPci): number {
    return this.bound.find((b) => b.dev === dev)?.probeError ?? 0;
  }

  /** pciehp asks the guest to release the device: only a device with no memory added can go. */
  private release(dev: VirtioMemPci): boolean {
    const i = this.bound.findIndex((b) => b.dev === dev);
    if (i < 0) return true;
    const b = this.bound[i]!;
    if (b.probeError) {
      this.bound.splice(i, 1);
      this.pci?.removed(dev.pciAddress);
      return true;
    }
    if (!b.driver.canRemove()) return false;
    b.unsubscribe();
    b.driver.remove();
    this.bound.splice(i, 1);
    this.pci?.removed(dev.pciAddress);
    return true;
  }

  /** Lets drivers finish work they deferred (retries after onlining or offlining). */
  tick(): void {
    for (let round = 0; round < 8; round++) {
      const pending = this.bound.filter((b) => b.driver.retryPending);
      if (!pending.length) return;
      for (const b of pending) b.driver.tick();
    }
  }

  drivers(): VirtioMemDriver[] {
    return this.bound.filter((b) => !b.probeError).map((b) => b.driver);
  }

  /** Entries of /sys/bus. */
  sysBus(): Array<[string, VNode]> {
    const virtioDevices = dynamicDir(() =>
      this.bound.map((b): [string, VNode] => [
        `virtio${b.index}`,
        link(`../../../devices/pci0000:00/${b.dev.pciAddress}/virtio${b.index}`, () => undefined),
      ]),
    );
    const virtio = staticDir({
      devices: virtioDevices,
      drivers: dynamicDir(() =>
        this.bound.length || this.machine.virtioMemDevices().length
          ? [['virtio_mem', staticDir({ uevent: file(() => '') })]]
          : [['virtio_mem', staticDir({ uevent: file(() => '') })]],
      ),
      drivers_autoprobe: file(() => '1\n'),
      drivers_probe: file(),
      uevent: file(),
    });
    const pciDevices = dynamicDir(() => {
      const names = ['0000:00:00.0', ...this.machine.pciDeviceAddresses()];
      return names.map((n): [string, VNode] => [
        n,
        link(`../../../devices/pci0000:00/${n}`, () => undefined),
      ]);
    });
    const pci = staticDir({
      devices: pciDevices,
      drivers: staticDir({}),
      uevent: file(),
    });
    return [
      ['pci', pci],
      ['virtio', virtio],
    ];
  }
}
