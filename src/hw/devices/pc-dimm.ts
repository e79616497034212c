/**
 * pc-dimm (QEMU hw/mem/pc-dimm.c): a DIMM whose whole memory backend is
 * mapped into device memory at plug time, in one of `-m ...,slots=N` slots.
 *
 * On the RISC-V virt board (QEMU 10 with the 2024 memory-hotplug patch) the
 * machine has no hotplug handler for pc-dimm: `device_add pc-dimm` is
 * refused, and a pc-dimm given on the command line is realized but never
 * pre-plugged or plugged, so it gets no slot, no address and no mapping. Nor
 * is there ACPI to announce a DIMM to Linux. `guestVisible` says so for the
 * CLI.
 */

import type { HostMemoryBackend } from './hostmem.js';
import type { MemoryDevice, MemoryDeviceInfo } from './memory-device.js';
import { QemuError } from './qemu-error.js';
import type { QomObject, QomProperty } from './qom.js';
import { memdevLink, readOnly, staticFieldOf, type StaticFieldTable } from './qom.js';

export const TYPE_PC_DIMM = 'pc-dimm';
export const PC_DIMM_UNASSIGNED_SLOT = -1;

/** pc-dimm's static properties (hw/mem/pc-dimm.c). */
const PC_DIMM_FIELDS: StaticFieldTable = {
  addr: ['uint64', 'addr'],
  node: ['uint32', 'node'],
  slot: ['int32', 'slot'],
};

export class PCDIMMDevice implements MemoryDevice, QomObject {
  readonly typeName = TYPE_PC_DIMM;
  addr = 0n;
  node = 0;
  slot = PC_DIMM_UNASSIGNED_SLOT;
  memdev: HostMemoryBackend | undefined;
  realized = false;
  /** Added with device_add after the machine was ready. */
  hotplugged = false;
  /** The machine pre-plugged and plugged it (assigned slot and address, mapped the backend). */
  plugged = false;

  constructor(
    readonly id: string | undefined,
    readonly canonicalPath: string,
    private readonly resolveBackend: (path: string) => HostMemoryBackend,
  ) {}

  /**
   * Whether a Linux guest can ever use this memory: only if the board plugged
   * it and could tell the guest (ACPI). The RISC-V virt board does neither.
   */
  get guestVisible(): boolean {
    return false;
  }

  getAddr(): bigint {
    return this.addr;
  }

  setAddr(addr: bigint): void {
    this.addr = addr;
  }

  getMemoryRegion(): HostMemoryBackend {
    if (!this.memdev) throw new QemuError("'memdev' property must be set");
    return this.memdev;
  }

  getPluggedSize(): bigint {
    return this.getMemoryRegion().size;
  }

  fillDeviceInfo(): MemoryDeviceInfo {
    return {
      type: 'dimm',
      data: {
        id: this.id,
        addr: this.addr,
        slot: this.slot,
        node: this.node,
        size: this.memdev?.size ?? 0n,
        memdev: this.memdev?.canonicalPath ?? '',
        hotplugged: this.hotplugged,
        hotpluggable: true,
      },
    };
  }

  /** pc_dimm_realize(). */
  realize(numaNodes: number): void {
    if ((numaNodes > 0 && this.node >= numaNodes) || (!numaNodes && this.node)) {
      throw new QemuError(
        `'DIMM property node has value ${this.node}' which exceeds the number of numa nodes: ${numaNodes || 1}`,
      );
    }
    if (!this.memdev) throw new QemuError("'memdev' property is not set");
    if (this.memdev.mapped) throw new QemuError(`can't use already busy memdev: ${this.memdev.id}`);
    this.memdev.mapped = true;
    this.realized = true;
  }

  unrealize(): void {
    if (this.memdev) this.memdev.mapped = false;
    this.realized = false;
  }

  property(name: string): QomProperty | undefined {
    const field = staticFieldOf(this, name, PC_DIMM_FIELDS);
    if (field) return field;
    switch (name) {
      case 'size':
        return readOnly('uint64', () => this.memdev?.size ?? 0n);
      case 'memdev':
        return memdevLink(this, name, this.resolveBackend);
      default:
        return undefined;
    }
  }
}

/**
 * pc_dimm_pre_plug()'s slot choice, for boards that plug DIMMs (x86 pc/q35,
 * arm virt with ACPI): the requested slot if valid and free, else the first
 * free one. `used` are the slots of realized DIMMs.
 */
export function pcDimmAssignSlot(requested: number, ramSlots: number, used: ReadonlySet<number>): number {
  if ((requested < 0 || requested >= ramSlots) && requested !== PC_DIMM_UNASSIGNED_SLOT) {
    throw new QemuError(`invalid slot number ${requested}, valid range is [0-${ramSlots - 1}]`);
  }
  if (ramSlots <= 0) throw new QemuError("no slots where allocated, please specify the 'slots' option");
  if (requested !== PC_DIMM_UNASSIGNED_SLOT) {
    if (used.has(requested)) throw new QemuError(`slot ${requested} is busy`);
    return requested;
  }
  for (let s = 0; s < ramSlots; s++) if (!used.has(s)) return s;
  throw new QemuError('no free slots available');
}
