/**
 * The memory-device interface and the device-memory region (QEMU
 * hw/mem/memory-device.c, hw/core/machine.c machine_memory_devices_init).
 *
 * Memory devices (pc-dimm, virtio-mem) live in one window of guest physical
 * address space, "device memory". Before a device is realized, pre_plug
 * checks that it fits (total size within maxmem - ram_size, alignment) and
 * picks its address: the user's `addr=`/`memaddr=` if it is free, else the
 * first gap, in address order, where the device fits at its alignment. plug
 * maps the device's whole backend there.
 */

import type { PhysMem } from '../physmem.js';
import type { HostMemoryBackend } from './hostmem.js';
import { QemuError, hex } from './qemu-error.js';

export interface PCDIMMDeviceInfo {
  readonly id: string | undefined;
  readonly addr: bigint;
  readonly slot: number;
  readonly node: number;
  readonly size: bigint;
  readonly memdev: string;
  readonly hotplugged: boolean;
  readonly hotpluggable: boolean;
}

export interface VirtioMEMDeviceInfo {
  readonly id: string | undefined;
  readonly memaddr: bigint;
  readonly requestedSize: bigint;
  readonly size: bigint;
  readonly maxSize: bigint;
  readonly blockSize: bigint;
  readonly node: number;
  readonly memdev: string;
}

/** QAPI MemoryDeviceInfo (query-memory-devices). */
export type MemoryDeviceInfo =
  | { readonly type: 'dimm'; readonly data: PCDIMMDeviceInfo }
  | { readonly type: 'virtio-mem'; readonly data: VirtioMEMDeviceInfo };

/** MemoryDeviceClass: what every memory device provides. */
export interface MemoryDevice {
  readonly id: string | undefined;
  readonly realized: boolean;
  getAddr(): bigint;
  setAddr(addr: bigint): void;
  /** get_memory_region(): the backend whose RAM the device maps; throws when memdev is unset. */
  getMemoryRegion(): HostMemoryBackend;
  getPluggedSize(): bigint;
  /** get_min_alignment(), if the device has one (virtio-mem: its block size). */
  getMinAlignment?(): bigint;
  fillDeviceInfo(): MemoryDeviceInfo;
}

/** DeviceMemoryState: the window and how much of it realized devices take. */
export class DeviceMemory {
  usedRegionSize = 0n;
  constructor(
    readonly base: bigint,
    readonly size: bigint,
  ) {}
}

/** What the memory-device code needs from the machine. */
export interface MemoryDeviceMachine {
  readonly ramSize: bigint;
  readonly maxRamSize: bigint;
  readonly deviceMemory: DeviceMemory | undefined;
  readonly physmem: PhysMem;
  /** Realized memory devices in QOM tree walk order (ties in address keep this order reversed). */
  realizedMemoryDevices(): readonly MemoryDevice[];
}

/** A 1 GiB boundary: where the RISC-V virt board puts device memory above boot RAM. */
export const GiB = 1024n * 1024n * 1024n;

/** Device memory of the RISC-V virt board with the 2024 hotplug patch. */
export function virtDeviceMemory(
  dramBase: bigint,
  ramSize: bigint,
  maxRamSize: bigint,
): DeviceMemory | undefined {
  const size = maxRamSize - ramSize;
  if (size <= 0n) return undefined;
  const base = alignUp(dramBase + ramSize, GiB);
  return new DeviceMemory(base, size);
}

export function alignUp(v: bigint, align: bigint): bigint {
  return ((v + align - 1n) / align) * align;
}

const U64_MAX = (1n << 64n) - 1n;

/**
 * memory_device_build_list(): realized devices sorted by address. Like
 * g_slist_insert_sorted, a device goes before the first one whose address is
 * not lower, so equal addresses come out in reverse walk order.
 */
export function memoryDeviceList(ms: MemoryDeviceMachine): MemoryDevice[] {
  const list: MemoryDevice[] = [];
  for (const md of ms.realizedMemoryDevices()) {
    const addr = md.getAddr();
    let i = 0;
    while (i < list.length && list[i]!.getAddr() < addr) i++;
    list.splice(i, 0, md);
  }
  return list;
}

/** get_plugged_memory_size(). */
export function pluggedMemorySize(ms: MemoryDeviceMachine): bigint {
  let size = 0n;
  for (const md of ms.realizedMemoryDevices()) size += md.getPluggedSize();
  return size;
}

function checkAddable(ms: MemoryDeviceMachine, dm: DeviceMemory, size: bigint): void {
  // TCG without vhost: no memslot limits, only the space check.
  const total = ms.maxRamSize - ms.ramSize;
  const used = dm.usedRegionSize;
  if (used + size > U64_MAX || used + size > total) {
    throw new QemuError(
      `not enough space, currently 0x${hex(used)} in use of total space for memory devices 0x${hex(total)}`,
    );
  }
}

function getFreeAddr(
  ms: MemoryDeviceMachine,
  dm: DeviceMemory,
  hint: bigint | undefined,
  align: bigint,
  size: bigint,
): bigint {
  const asStart = dm.base;
  const asEnd = dm.base + dm.size; // exclusive
  // An alignment above the window's own alignment only warns in QEMU (on stderr).
  if (hint !== undefined && hint % align !== 0n) {
    throw new QemuError(`address must be aligned to 0x${hex(align)} bytes`);
  }
  let start: bigint;
  if (hint !== undefined) {
    if (size === 0n || hint + size - 1n > U64_MAX || hint < asStart || hint + size > asEnd) {
      throw new QemuError(
        `can't add memory device [0x${hex(hint)}:0x${hex(size)}], usable range for memory devices [0x${hex(asStart)}:0x${hex(dm.size)}]`,
      );
    }
    start = hint;
  } else {
    start = alignUp(asStart, align);
    if (size === 0n || start + size - 1n > U64_MAX)
      throw new QemuError("can't add memory device, device too big");
  }
  let empty = false;
  for (const md of memoryDeviceList(ms)) {
    const mdStart = md.getAddr();
    const mdSize = md.getMemoryRegion().size;
    const overlaps = mdStart < start + size && start < mdStart + mdSize;
    if (overlaps) {
      if (hint !== undefined) {
        throw new QemuError(`address range conflicts with memory device id='${md.id ?? '(unnamed)'}'`);
      }
      const next = alignUp(mdStart + mdSize, align);
      if (next > U64_MAX || next + size - 1n > U64_MAX) {
        empty = true;
        break;
      }
      start = next;
    } else if (mdStart > start + size - 1n) {
      break;
    }
  }
  if (empty || start < asStart || start + size > asEnd) {
    throw new QemuError(
      'could not find position in guest address space for memory device - memory fragmented due to alignments',
    );
  }
  return start;
}

/** memory_device_pre_plug(): checks that the device fits and sets its address. */
export function memoryDevicePrePlug(ms: MemoryDeviceMachine, md: MemoryDevice): void {
  const dm = ms.deviceMemory;
  if (!dm) {
    throw new QemuError(
      'the configuration is not prepared for memory devices (e.g., for memory hotplug), consider specifying the maxmem option',
    );
  }
  const mr = md.getMemoryRegion();
  checkAddable(ms, dm, mr.size);
  // A 1G+1 byte DIMM makes no sense: the region size must be a multiple of its alignment.
  if (mr.size % mr.alignment !== 0n) {
    throw new QemuError(`backend memory size must be multiple of 0x${hex(mr.alignment)}`);
  }
  let align = md.getMinAlignment?.() ?? 0n;
  if (mr.alignment > align) align = mr.alignment;
  const addr = md.getAddr();
  md.setAddr(getFreeAddr(ms, dm, addr === 0n ? undefined : addr, align, mr.size));
}

/** memory_device_plug(): maps the whole backend at the device's address. */
export function memoryDevicePlug(ms: MemoryDeviceMachine, md: MemoryDevice): void {
  const mr = md.getMemoryRegion();
  const dm = ms.deviceMemory;
  if (!dm) throw new Error('memory_device_plug without device memory');
  dm.usedRegionSize += mr.size;
  mr.map(ms.physmem, md.getAddr());
}

/** memory_device_unplug(). */
export function memoryDeviceUnplug(ms: MemoryDeviceMachine, md: MemoryDevice): void {
  const mr = md.getMemoryRegion();
  const dm = ms.deviceMemory;
  if (!dm) throw new Error('memory_device_unplug without device memory');
  mr.unmap();
  dm.usedRegionSize -= mr.size;
}
