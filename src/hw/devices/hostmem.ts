/**
 * memory-backend-ram (QEMU backends/hostmem.c, hostmem-ram.c): the host RAM
 * behind boot memory, a pc-dimm or a virtio-mem device.
 *
 * In the model the contents live in PhysMem while a device maps the backend
 * into the guest address space; an unmapped backend holds nothing. Discarding
 * a range (ram_block_discard_range, MADV_DONTNEED in QEMU) makes it read as
 * zero again.
 */

import type { PhysMem } from '../physmem.js';
import { PAGE_SHIFT } from '../physmem.js';
import { QemuError } from './qemu-error.js';
import type { QomObject, QomProperty, QomValue, Visitor } from './qom.js';

export const TYPE_MEMORY_BACKEND_RAM = 'memory-backend-ram';

export const HOST_PAGE_SIZE = 4096n;
/**
 * QEMU_VMALLOC_ALIGN on a Linux x86-64/aarch64 host: anonymous RAM is
 * mmap()ed 2 MiB aligned, and memory_region_get_alignment() reports that,
 * so memory devices are placed and sized in multiples of it.
 */
export const QEMU_VMALLOC_ALIGN = 2n * 1024n * 1024n;

export type HostMemPolicy = 'default' | 'preferred' | 'bind' | 'interleave';
export const HOST_MEM_POLICIES: readonly HostMemPolicy[] = ['default', 'preferred', 'bind', 'interleave'];

/** The QAPI MemoryBackendProperties a user can give to -object / object_add. */
export interface MemoryBackendOptions {
  readonly id: string;
  readonly size: bigint;
  readonly merge?: boolean;
  readonly dump?: boolean;
  readonly prealloc?: boolean;
  readonly share?: boolean;
  readonly reserve?: boolean;
  readonly policy?: HostMemPolicy;
}

export class HostMemoryBackend implements QomObject {
  readonly typeName = TYPE_MEMORY_BACKEND_RAM;
  size = 0n;
  merge = true;
  dump = true;
  prealloc = false;
  share = false;
  reserve = true;
  policy: HostMemPolicy = 'default';
  /** host_memory_backend_is_mapped(): a device (or the machine) uses it; object_del refuses. */
  mapped = false;
  /** The memory region exists (user_creatable_complete ran); size can no longer change. */
  initialized = false;
  private mapping: { physmem: PhysMem; basePfn: number } | undefined;

  constructor(readonly id: string) {}

  get canonicalPath(): string {
    return `/objects/${this.id}`;
  }

  /** memory_region_get_alignment() of the backend's region. */
  get alignment(): bigint {
    return QEMU_VMALLOC_ALIGN;
  }

  /** qemu_ram_pagesize(): anonymous RAM uses the host base page. */
  get pageSize(): bigint {
    return HOST_PAGE_SIZE;
  }

  /** Where the guest sees the RAM, if a device mapped it. */
  get mappedAt(): { physmem: PhysMem; basePfn: number } | undefined {
    return this.mapping;
  }

  /** memory_region_add_subregion() of the whole backend at `addr`. */
  map(physmem: PhysMem, addr: bigint): void {
    const basePfn = Number(addr >> BigInt(PAGE_SHIFT));
    const pages = Number((this.size + HOST_PAGE_SIZE - 1n) >> BigInt(PAGE_SHIFT));
    physmem.addRegion({ name: this.id, kind: 'ram', basePfn, pages });
    this.mapping = { physmem, basePfn };
  }

  unmap(): void {
    if (!this.mapping) return;
    this.mapping.physmem.removeRegion(this.id);
    this.mapping = undefined;
  }

  /** ram_block_discard_range(): the range reads as zero afterwards. */
  discard(offset: bigint, length: bigint): void {
    if (!this.mapping) return;
    const { physmem, basePfn } = this.mapping;
    if (offset === 0n && length >= this.size) {
      // Dropping and re-adding the region frees all its frames in one go.
      const region = physmem.removeRegion(this.id);
      physmem.addRegion(region);
      return;
    }
    const first = basePfn + Number(offset >> BigInt(PAGE_SHIFT));
    const count = Number(length >> BigInt(PAGE_SHIFT));
    // isZero is a map lookup; only frames that hold data need dropping.
    for (let p = first; p < first + count; p++) if (!physmem.isZero(p)) physmem.zero(p);
  }

  property(name: string): QomProperty | undefined {
    const bool = (get: () => boolean, set: (b: boolean) => void): QomProperty => ({
      type: 'bool',
      get,
      set: (v: Visitor) => set(v.bool(name)),
    });
    switch (name) {
      case 'size':
        return {
          type: 'size',
          get: () => this.size,
          set: (v: Visitor) => {
            if (this.initialized) throw new QemuError(`cannot change property ${name} of ${this.typeName} `);
            const value = v.size(name);
            if (value === 0n) {
              throw new QemuError(`property '${name}' of ${this.typeName} doesn't take value '0'`);
            }
            this.size = value;
          },
        };
      case 'merge':
        return bool(
          () => this.merge,
          (b) => (this.merge = b),
        );
      case 'dump':
        return bool(
          () => this.dump,
          (b) => (this.dump = b),
        );
      case 'prealloc':
        return bool(
          () => this.prealloc,
          (b) => (this.prealloc = b),
        );
      case 'share':
      case 'reserve':
        // Both are fixed once the backend's memory exists (host_memory_backend_set_share/_reserve).
        return bool(
          () => this[name],
          (b) => {
            if (this.initialized) throw new QemuError('cannot change property value');
            this[name] = b;
          },
        );
      case 'policy':
        return { type: 'HostMemPolicy', get: (): QomValue => this.policy };
      case 'host-nodes':
        return { type: 'int', get: (): QomValue => [] };
      case 'type':
        return { type: 'string', get: () => this.typeName };
      default:
        return undefined;
    }
  }
}

/** Applies object_add options in order and completes the object (user_creatable_add_type). */
export function applyBackendOptions(b: HostMemoryBackend, o: MemoryBackendOptions): void {
  if (o.size === 0n) throw new QemuError(`property 'size' of ${b.typeName} doesn't take value '0'`);
  b.size = o.size;
  if (o.merge !== undefined) b.merge = o.merge;
  if (o.dump !== undefined) b.dump = o.dump;
  if (o.prealloc !== undefined) b.prealloc = o.prealloc;
  if (o.share !== undefined) b.share = o.share;
  if (o.reserve !== undefined) b.reserve = o.reserve;
  if (o.policy !== undefined) b.policy = o.policy;
}
