/**
 * The virtio-mem device (virtio 1.2 §5.15; QEMU hw/virtio/virtio-mem.c).
 *
 * The device owns a region of guest physical memory (its memory backend)
 * split into blocks of `block_size`. The host asks for `requested_size`
 * bytes; the guest driver plugs and unplugs blocks with requests on the
 * guestq and reads the result in `plugged_size`. Only the *usable region*
 * (requested size plus a margin, see usableExtent) may be plugged.
 *
 * As in QEMU 10 with dynamic-memslots=off (the default), the whole backend
 * stays mapped as RAM while the device is plugged; unplugging a block
 * discards its contents, so it reads as zero afterwards. On RISC-V QEMU
 * offers VIRTIO_MEM_F_UNPLUGGED_INACCESSIBLE: the driver promises not to
 * touch unplugged blocks, but nothing faults if it does.
 */

import type { HostMemoryBackend } from './hostmem.js';
import { HOST_PAGE_SIZE } from './hostmem.js';
import type { VirtioMEMDeviceInfo } from './memory-device.js';
import { QemuError, hex } from './qemu-error.js';
import type { QomObject, QomProperty, Visitor } from './qom.js';
import { memdevLink, readOnly, staticFieldOf, type StaticFieldTable } from './qom.js';

export const TYPE_VIRTIO_MEM = 'virtio-mem';
export const VIRTIO_ID_MEM = 24;

/** Feature bits (§5.15.3). */
export const VIRTIO_MEM_F_ACPI_PXM = 0;
export const VIRTIO_MEM_F_UNPLUGGED_INACCESSIBLE = 1;
export const VIRTIO_MEM_F_PERSISTENT_SUSPEND = 2;

/** Request types (§5.15.6). */
export const VIRTIO_MEM_REQ_PLUG = 0;
export const VIRTIO_MEM_REQ_UNPLUG = 1;
export const VIRTIO_MEM_REQ_UNPLUG_ALL = 2;
export const VIRTIO_MEM_REQ_STATE = 3;

/** Response types. */
export const VIRTIO_MEM_RESP_ACK = 0;
export const VIRTIO_MEM_RESP_NACK = 1;
export const VIRTIO_MEM_RESP_BUSY = 2;
export const VIRTIO_MEM_RESP_ERROR = 3;

/** States in a STATE response. */
export const VIRTIO_MEM_STATE_PLUGGED = 0;
export const VIRTIO_MEM_STATE_UNPLUGGED = 1;
export const VIRTIO_MEM_STATE_MIXED = 2;

export type VirtioMemRequest =
  | { readonly type: 'plug' | 'unplug' | 'state'; readonly addr: bigint; readonly nbBlocks: number }
  | { readonly type: 'unplug_all' };

export type VirtioMemResponseType = 'ack' | 'nack' | 'busy' | 'error';
export type VirtioMemBlockState = 'plugged' | 'unplugged' | 'mixed';

export interface VirtioMemResponse {
  readonly type: VirtioMemResponseType;
  /** The le16 `type` of struct virtio_mem_resp. */
  readonly code: number;
  /** Only in the ACK to a STATE request. */
  readonly state?: VirtioMemBlockState;
}

/** struct virtio_mem_config, decoded. */
export interface VirtioMemConfig {
  readonly blockSize: bigint;
  readonly nodeId: number;
  readonly addr: bigint;
  readonly regionSize: bigint;
  readonly usableRegionSize: bigint;
  readonly pluggedSize: bigint;
  readonly requestedSize: bigint;
}

export const VIRTIO_MEM_CONFIG_SIZE = 56;

const MiB = 1024n * 1024n;
/** Blocks below 1 MiB would make the tracking bitmap needlessly large. */
export const VIRTIO_MEM_MIN_BLOCK_SIZE = 1n * MiB;
/** The host's THP size (hpage_pmd_size of an x86-64 or 4K-page aarch64 host). */
export const HOST_THP_SIZE = 2n * MiB;
/**
 * How far the usable region reaches beyond the requested size. QEMU uses the
 * x86 value on RISC-V (the 2024 virt hotplug patch): two 128 MiB memory
 * blocks, so Linux can add a whole block even when only part of it gets
 * plugged.
 */
export const VIRTIO_MEM_USABLE_EXTENT = 2n * 128n * MiB;

const RESPONSE_CODE: Record<VirtioMemResponseType, number> = {
  ack: VIRTIO_MEM_RESP_ACK,
  nack: VIRTIO_MEM_RESP_NACK,
  busy: VIRTIO_MEM_RESP_BUSY,
  error: VIRTIO_MEM_RESP_ERROR,
};

function response(type: VirtioMemResponseType, state?: VirtioMemBlockState): VirtioMemResponse {
  return state === undefined
    ? { type, code: RESPONSE_CODE[type] }
    : { type, code: RESPONSE_CODE[type], state };
}

function isPowerOf2(v: bigint): boolean {
  return v > 0n && (v & (v - 1n)) === 0n;
}

/** virtio_mem_default_block_size(): the THP size for ordinary anonymous RAM. */
export function defaultBlockSize(backend: HostMemoryBackend): bigint {
  const page = backend.pageSize;
  if (page === HOST_PAGE_SIZE) return page > HOST_THP_SIZE ? page : HOST_THP_SIZE;
  return page > VIRTIO_MEM_MIN_BLOCK_SIZE ? page : VIRTIO_MEM_MIN_BLOCK_SIZE;
}

export type ConfigChangeListener = (dev: VirtioMem) => void;
export type SizeChangeListener = (dev: VirtioMem, pluggedSize: bigint) => void;

/** What realize needs from the machine. */
export interface VirtioMemRealizeContext {
  /** ms->numa_state->num_nodes: 0 when no -numa option was given. */
  readonly numaNodes: number;
}

/** virtio-mem's static properties (hw/virtio/virtio-mem.c). */
const VIRTIO_MEM_FIELDS: StaticFieldTable = {
  memaddr: ['uint64', 'addr'],
  node: ['uint32', 'node'],
  prealloc: ['bool', 'prealloc'],
};

export class VirtioMem implements QomObject {
  readonly typeName = TYPE_VIRTIO_MEM;
  /** The virtio-mem device inside virtio-mem-pci has no id of its own. */
  readonly id = undefined;

  // Properties (qdev static and dynamic).
  addr = 0n;
  node = 0;
  prealloc = false;
  memdev: HostMemoryBackend | undefined;
  requestedSize = 0n;
  /** 0 until realize picks the default, unless the user set one. */
  blockSize = 0n;
  /** VIRTIO_MEM_F_UNPLUGGED_INACCESSIBLE: always on for non-x86 targets. */
  readonly unpluggedInaccessible = true;
  readonly dynamicMemslots = false;
  readonly earlyMigration = true;

  // Device state.
  realized = false;
  /** plugged_size. */
  size = 0n;
  usableRegionSize = 0n;
  /** One bit per block, set when plugged. */
  bitmap = new Uint32Array(0);
  bitmapSize = 0;
  /**
   * virtio_mem_is_busy(): QEMU refuses state changes while a migration runs.
   * The model has no migration; this switch stands for it (fault injection).
   */
  migrationActive = false;

  private readonly configListeners = new Set<ConfigChangeListener>();
  private readonly sizeListeners = new Set<SizeChangeListener>();

  /**
   * `resolveBackend` resolves a memdev link path; it throws QEMU's error for
   * a path that names no memory backend.
   */
  constructor(
    readonly canonicalPath: string,
    private readonly resolveBackend: (path: string) => HostMemoryBackend = (path) => {
      throw new QemuError(`Device '${path}' not found`, undefined, 'DeviceNotFound');
    },
  ) {}

  /** Feature bits QEMU offers on RISC-V virt (NUMA state exists and ACPI is built in). */
  get hostFeatures(): number {
    return (1 << VIRTIO_MEM_F_ACPI_PXM) | (1 << VIRTIO_MEM_F_UNPLUGGED_INACCESSIBLE);
  }

  get regionSize(): bigint {
    return this.memdev?.size ?? 0n;
  }

  /** The `block-size` property as read before realize: the default the device would pick. */
  get blockSizeProperty(): bigint {
    if (this.blockSize !== 0n) return this.blockSize;
    return this.memdev ? defaultBlockSize(this.memdev) : HOST_THP_SIZE;
  }

  // ---- Guest side: config space and requests ----------------------------

  /** Registers a driver callback for configuration changes (virtio_notify_config). Returns an unsubscribe. */
  onConfigChange(listener: ConfigChangeListener): () => void {
    this.configListeners.add(listener);
    return () => this.configListeners.delete(listener);
  }

  /** Plugged-size changes (QEMU turns them into MEMORY_DEVICE_SIZE_CHANGE events). */
  onSizeChange(listener: SizeChangeListener): () => void {
    this.sizeListeners.add(listener);
    return () => this.sizeListeners.delete(listener);
  }

  readConfig(): VirtioMemConfig {
    return {
      blockSize: this.blockSize,
      nodeId: this.node,
      addr: this.addr,
      regionSize: this.regionSize,
      usableRegionSize: this.usableRegionSize,
      pluggedSize: this.size,
      requestedSize: this.requestedSize,
    };
  }

  /** The 56-byte little-endian config space, as the driver reads it. */
  configSpace(): Uint8Array {
    const buf = new Uint8Array(VIRTIO_MEM_CONFIG_SIZE);
    const dv = new DataView(buf.buffer);
    const c = this.readConfig();
    dv.setBigUint64(0, c.blockSize, true);
    dv.setUint16(8, c.nodeId, true);
    // bytes 10..15 are padding
    dv.setBigUint64(16, c.addr, true);
    dv.setBigUint64(24, c.regionSize, true);
    dv.setBigUint64(32, c.usableRegionSize, true);
    dv.setBigUint64(40, c.pluggedSize, true);
    dv.setBigUint64(48, c.requestedSize, true);
    return buf;
  }

  /** Handles one guestq request and returns the device's response. */
  request(req: VirtioMemRequest): VirtioMemResponse {
    if (!this.realized) throw new Error('virtio-mem: request to a device that is not realized');
    switch (req.type) {
      case 'plug':
      case 'unplug':
        return response(this.stateChange(req.addr, checkNbBlocks(req.nbBlocks), req.type === 'plug'));
      case 'unplug_all':
        return response(this.unplugAll() ? 'ack' : 'busy');
      case 'state':
        return this.stateRequest(req.addr, checkNbBlocks(req.nbBlocks));
    }
  }

  /** virtio_mem_valid_range(). */
  private validRange(gpa: bigint, size: bigint): boolean {
    if (gpa % this.blockSize !== 0n) return false;
    if (size === 0n || gpa + size >= 1n << 64n) return false;
    if (gpa < this.addr || gpa >= this.addr + this.usableRegionSize) return false;
    return gpa + size <= this.addr + this.usableRegionSize;
  }

  private stateChange(gpa: bigint, nbBlocks: number, plug: boolean): VirtioMemResponseType {
    const size = BigInt(nbBlocks) * this.blockSize;
    if (!this.validRange(gpa, size)) return 'error';
    if (plug && this.size + size > this.requestedSize) return 'nack';
    const first = this.blockIndex(gpa);
    // Every block must be in the opposite state.
    if (plug ? !this.allClear(first, nbBlocks) : !this.allSet(first, nbBlocks)) return 'error';
    if (this.migrationActive) return 'busy';
    if (!plug) this.memdev!.discard(gpa - this.addr, size);
    this.setBits(first, nbBlocks, plug);
    this.size = plug ? this.size + size : this.size - size;
    this.notifySize();
    return 'ack';
  }

  private stateRequest(gpa: bigint, nbBlocks: number): VirtioMemResponse {
    const size = BigInt(nbBlocks) * this.blockSize;
    if (!this.validRange(gpa, size)) return response('error');
    const first = this.blockIndex(gpa);
    if (this.allSet(first, nbBlocks)) return response('ack', 'plugged');
    if (this.allClear(first, nbBlocks)) return response('ack', 'unplugged');
    return response('ack', 'mixed');
  }

  /** virtio_mem_unplug_all(); false means BUSY. Also what a system reset does. */
  unplugAll(): boolean {
    if (this.size !== 0n) {
      if (this.migrationActive) return false;
      this.memdev!.discard(0n, this.regionSize);
      this.bitmap.fill(0);
      this.size = 0n;
      this.notifySize();
    }
    this.resizeUsableRegion(this.requestedSize, true);
    return true;
  }

  /** Plug state of block `i` (for checks and displays). */
  isBlockPlugged(i: number): boolean {
    return ((this.bitmap[i >>> 5]! >>> (i & 31)) & 1) === 1;
  }

  private blockIndex(gpa: bigint): number {
    return Number((gpa - this.addr) / this.blockSize);
  }

  private allSet(first: number, n: number): boolean {
    for (let i = first; i < first + n; i++) if (!this.isBlockPlugged(i)) return false;
    return true;
  }

  private allClear(first: number, n: number): boolean {
    for (let i = first; i < first + n; i++) if (this.isBlockPlugged(i)) return false;
    return true;
  }

  private setBits(first: number, n: number, on: boolean): void {
    for (let i = first; i < first + n; i++) {
      if (on) this.bitmap[i >>> 5]! |= 1 << (i & 31);
      else this.bitmap[i >>> 5]! &= ~(1 << (i & 31));
    }
  }

  private notifySize(): void {
    for (const l of this.sizeListeners) l(this, this.size);
  }

  private notifyConfig(): void {
    for (const l of this.configListeners) l(this);
  }

  /** virtio_mem_resize_usable_region(). */
  private resizeUsableRegion(requested: bigint, canShrink: boolean): void {
    let newsize = requested + VIRTIO_MEM_USABLE_EXTENT;
    if (this.regionSize < newsize) newsize = this.regionSize;
    newsize = ((newsize + this.blockSize - 1n) / this.blockSize) * this.blockSize;
    if (requested === 0n) newsize = 0n;
    if (newsize < this.usableRegionSize && !canShrink) return;
    this.usableRegionSize = newsize;
  }

  // ---- Host side: realize, properties, unplug ---------------------------

  /** virtio_mem_device_realize(): the checks in QEMU's order, then the initial state. */
  realize(ctx: VirtioMemRealizeContext): void {
    const md = this.memdev;
    if (!md) throw new QemuError("'memdev' property is not set");
    if (md.mapped) throw new QemuError(`'memdev' property specifies a busy memdev: ${md.id}`);
    if (md.prealloc) {
      throw new QemuError(
        `'memdev' property specifies a memdev with preallocation enabled: ${md.id}. Instead, specify 'prealloc=on' for the virtio-mem device. `,
      );
    }
    const nodes = ctx.numaNodes;
    if ((nodes && this.node >= nodes) || (!nodes && this.node)) {
      // QEMU's message lacks the space between "exceeds" and "the".
      throw new QemuError(
        `'node' property has value '${this.node}', which exceedsthe number of numa nodes: ${nodes || 1}`,
      );
    }
    if (this.blockSize === 0n) this.blockSize = defaultBlockSize(md);
    if (this.blockSize < md.pageSize) {
      throw new QemuError(`'block-size' property has to be at least the page size (0x${hex(md.pageSize)})`);
    }
    if (this.requestedSize % this.blockSize !== 0n) {
      throw new QemuError(
        `'requested-size' property has to be multiples of 'block-size' (0x${hex(this.blockSize)})`,
      );
    }
    if (this.addr % this.blockSize !== 0n) {
      throw new QemuError(
        `'memaddr' property has to be multiples of 'block-size' (0x${hex(this.blockSize)})`,
      );
    }
    if (md.size % this.blockSize !== 0n) {
      // QEMU's message lacks the space before 'block-size'.
      throw new QemuError(
        `'memdev' property memdev size has to be multiples of'block-size' (0x${hex(this.blockSize)})`,
      );
    }
    md.discard(0n, md.size); // start from a clean slate, as QEMU does
    this.resizeUsableRegion(this.requestedSize, true);
    this.bitmapSize = Number(md.size / this.blockSize);
    this.bitmap = new Uint32Array(Math.ceil(this.bitmapSize / 32));
    this.size = 0n;
    md.mapped = true;
    this.realized = true;
  }

  /** virtio_mem_device_unrealize(). */
  unrealize(): void {
    if (this.memdev) this.memdev.mapped = false;
    this.realized = false;
  }

  /** virtio_mem_unplug_request_check(): may device_del start? */
  unplugRequestCheck(): void {
    if (!this.unpluggedInaccessible) {
      throw new QemuError("virtio-mem device cannot get unplugged while 'unplugged-inaccessible' != 'on'");
    }
    // QEMU 9.1 and later no longer name the "size" property (libvirt calls something else size).
    if (this.size !== 0n)
      throw new QemuError('virtio-mem device cannot get unplugged while some of its memory is still plugged');
    if (this.requestedSize !== 0n) {
      throw new QemuError("virtio-mem device cannot get unplugged while 'requested-size' != '0'");
    }
  }

  /** qom-set requested-size on a realized device: checks, resize, config interrupt. */
  setRequestedSize(value: bigint): void {
    if (value % this.blockSize !== 0n) {
      throw new QemuError(`'requested-size' has to be multiples of 'block-size' (0x${hex(this.blockSize)})`);
    }
    if (value > this.regionSize) {
      throw new QemuError(
        `'requested-size' cannot exceed the memory backend size(0x${hex(this.regionSize)})`,
      );
    }
    if (value !== this.requestedSize) {
      this.resizeUsableRegion(value, false);
      this.requestedSize = value;
    }
    // QEMU notifies even when nothing changed (useful for debugging drivers).
    this.notifyConfig();
  }

  /** virtio_mem_fill_device_info(). */
  fillDeviceInfo(id: string | undefined): VirtioMEMDeviceInfo {
    return {
      id,
      memaddr: this.addr,
      requestedSize: this.requestedSize,
      size: this.size,
      maxSize: this.regionSize,
      blockSize: this.blockSize,
      node: this.node,
      memdev: this.memdev?.canonicalPath ?? '',
    };
  }

  /** The device's QOM properties (virtio-mem-pci aliases them all). */
  property(name: string): QomProperty | undefined {
    const field = staticFieldOf(this, name, VIRTIO_MEM_FIELDS);
    if (field) return field;
    switch (name) {
      case 'unplugged-inaccessible':
        return { type: 'OnOffAuto', get: () => (this.unpluggedInaccessible ? 'on' : 'off') };
      case 'early-migration':
        return { type: 'bool', get: () => this.earlyMigration };
      case 'dynamic-memslots':
        return { type: 'bool', get: () => this.dynamicMemslots };
      case 'memdev':
        return memdevLink(this, name, this.resolveBackend);
      case 'size':
        return readOnly('size', () => this.size);
      case 'requested-size':
        return {
          type: 'size',
          get: () => this.requestedSize,
          set: (v: Visitor) => {
            const value = v.size(name);
            // Block size and backend are only fixed at realize, which checks then.
            if (this.realized) this.setRequestedSize(value);
            else this.requestedSize = value;
          },
        };
      case 'block-size':
        return {
          type: 'size',
          get: () => this.blockSizeProperty,
          set: (v: Visitor) => {
            if (this.realized) throw new QemuError(`'${name}' cannot be changed`);
            const value = v.size(name);
            if (value < VIRTIO_MEM_MIN_BLOCK_SIZE) {
              throw new QemuError(
                `'${name}' property has to be at least 0x${hex(VIRTIO_MEM_MIN_BLOCK_SIZE)}`,
              );
            }
            if (!isPowerOf2(value)) throw new QemuError(`'${name}' property has to be a power of two`);
            this.blockSize = value;
          },
        };
      default:
        return undefined;
    }
  }
}

function checkNbBlocks(n: number): number {
  // nb_blocks is an le16 on the wire: a driver cannot ask for more.
  if (!Number.isInteger(n) || n < 0 || n > 0xffff)
    throw new RangeError(`virtio-mem: nb_blocks ${n} is not a u16`);
  return n;
}
