/**
 * virtio-mem-pci (QEMU hw/virtio/virtio-mem-pci.c, virtio-md-pci.c): the PCI
 * transport around a virtio-mem device. It is the memory device the machine
 * sees (address, size, plug/unplug) and the thing `device_add`/`device_del`
 * name; its properties are aliases of the inner device's, which is why
 * errors about them name type `virtio-mem`.
 */

import type { HostMemoryBackend } from './hostmem.js';
import type { MemoryDevice, MemoryDeviceInfo } from './memory-device.js';
import type { PciBus, PciDevice } from './pci.js';
import { QemuError } from './qemu-error.js';
import type { QomObject, QomProperty } from './qom.js';
import { VirtioMem } from './virtio-mem.js';

export const TYPE_VIRTIO_MEM_PCI = 'virtio-mem-pci';

export class VirtioMemPci implements MemoryDevice, PciDevice, QomObject {
  readonly typeName = TYPE_VIRTIO_MEM_PCI;
  readonly vdev: VirtioMem;
  devfn = -1;
  bus: PciBus | undefined;
  realized = false;
  /** Added with device_add after the machine was ready. */
  hotplugged = false;
  /** device_del was accepted and the guest has not released the device yet. */
  pendingDelete = false;

  constructor(
    readonly id: string | undefined,
    readonly canonicalPath: string,
    resolveBackend: (path: string) => HostMemoryBackend,
  ) {
    this.vdev = new VirtioMem(`${canonicalPath}/virtio-backend`, resolveBackend);
  }

  /** A Linux guest finds it by PCI enumeration (at boot, or after a PCIe hotplug event). */
  get guestVisible(): boolean {
    return true;
  }

  /** PCI address as Linux names it, e.g. 0000:00:01.0. */
  get pciAddress(): string {
    const bus = (this.bus?.busNumber ?? 0).toString(16).padStart(2, '0');
    const slot = (this.devfn >> 3).toString(16).padStart(2, '0');
    return `0000:${bus}:${slot}.${this.devfn & 7}`;
  }

  getAddr(): bigint {
    return this.vdev.addr;
  }

  setAddr(addr: bigint): void {
    this.vdev.addr = addr;
  }

  getMemoryRegion(): HostMemoryBackend {
    if (!this.vdev.memdev) throw new QemuError("'memdev' property must be set");
    return this.vdev.memdev;
  }

  getPluggedSize(): bigint {
    return this.vdev.size;
  }

  /** virtio_mem_pci_get_min_alignment(): the `block-size` property. */
  getMinAlignment(): bigint {
    return this.vdev.blockSizeProperty;
  }

  fillDeviceInfo(): MemoryDeviceInfo {
    return { type: 'virtio-mem', data: this.vdev.fillDeviceInfo(this.id) };
  }

  property(name: string): QomProperty | undefined {
    const p = this.vdev.property(name);
    return p ? { ...p, ownerType: p.ownerType ?? this.vdev.typeName } : undefined;
  }
}
