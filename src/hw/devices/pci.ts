/**
 * Just enough PCI Express for memory devices: the root bus `pcie.0` of the
 * virt board's GPEX host (no hotplug there), and `pcie-root-port` devices
 * whose secondary bus takes one hot-pluggable device in slot 0.
 *
 * QEMU hw/pci/pci.c (device registration, devfn choice) and
 * hw/pci-bridge/pcie_root_port.c.
 */

import { QemuError } from './qemu-error.js';
import type { QomObject, QomProperty } from './qom.js';
import { staticFieldOf, type StaticFieldTable } from './qom.js';

export const TYPE_PCIE_BUS = 'PCIE';
export const TYPE_PCIE_ROOT_PORT = 'pcie-root-port';
const PCI_FUNC_MAX = 8;
const PCI_DEVFN_MAX = 256;

export interface PciDevice {
  /** pci_dev->name: the device's type name. */
  readonly typeName: string;
  readonly id: string | undefined;
  devfn: number;
  bus: PciBus | undefined;
}

export function pciSlot(devfn: number): number {
  return devfn >> 3;
}

export function pciFunc(devfn: number): number {
  return devfn & 7;
}

export class PciBus {
  readonly typeName = TYPE_PCIE_BUS;
  readonly devices: (PciDevice | undefined)[] = new Array<PciDevice | undefined>(PCI_DEVFN_MAX);

  constructor(
    /** Bus name: `pcie.0`, or the id of the root port that owns it. */
    readonly name: string,
    readonly hotpluggable: boolean,
    /** Behind a downstream/root port: only device 0 exists for the guest. */
    readonly behindPort: boolean,
    readonly busNumber: number,
  ) {}

  /** do_pci_register_device()'s devfn choice and checks. */
  register(dev: PciDevice, hotplugged: boolean): void {
    let devfn = -1;
    for (let d = 0; d < PCI_DEVFN_MAX; d += PCI_FUNC_MAX) {
      if (!this.devices[d]) {
        devfn = d;
        break;
      }
    }
    if (devfn < 0) {
      throw new QemuError(`PCI: no slot/function available for ${dev.typeName}, all in use or reserved`);
    }
    // The guest scans function 0 of the slot; behind a port that is device 0.
    const fn0 = this.behindPort ? this.devices[0] : this.devices[devfn & ~7];
    if (hotplugged && fn0) {
      throw new QemuError(
        `PCI: slot ${pciSlot(fn0.devfn)} function 0 already occupied by ${fn0.typeName}, new func ${dev.typeName} cannot be exposed to guest.`,
      );
    }
    this.devices[devfn] = dev;
    dev.devfn = devfn;
    dev.bus = this;
  }

  unregister(dev: PciDevice): void {
    if (this.devices[dev.devfn] === dev) this.devices[dev.devfn] = undefined;
    dev.bus = undefined;
  }
}

/** The GPEX host bridge that sits in 00:00.0 of pcie.0. */
export class GpexRoot implements PciDevice {
  readonly typeName = 'gpex-root';
  readonly id = undefined;
  devfn = 0;
  bus: PciBus | undefined;
}

/** pcie-root-port's static properties (hw/pci-bridge/pcie_root_port.c and its parents). */
const ROOT_PORT_FIELDS: StaticFieldTable = { chassis: ['uint8', 'chassis'], slot: ['uint16', 'slot'] };

export class PcieRootPort implements PciDevice, QomObject {
  readonly typeName = TYPE_PCIE_ROOT_PORT;
  devfn = -1;
  bus: PciBus | undefined;
  chassis = 0;
  slot = 0;
  realized = false;
  secondary: PciBus | undefined;

  constructor(
    readonly id: string | undefined,
    readonly canonicalPath: string,
  ) {}

  property(name: string): QomProperty | undefined {
    return staticFieldOf(this, name, ROOT_PORT_FIELDS);
  }
}
