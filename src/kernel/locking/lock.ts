/**
 * The kernel's sleeping and spinning locks as far as ordering goes: who
 * holds them and in which mode. In a normal run one CPU does everything, so
 * a lock is always free when taken; under the concurrency explorer the
 * scheduler makes an actor wait while another holds it.
 */
export type LockMode = 'read' | 'write';

export type LockKind = 'mutex' | 'rwsem' | 'percpu-rwsem' | 'spinlock';

export class KernelLock {
  /** Who holds it for writing (mutexes and spinlocks are always "write"). */
  writer: string | undefined = undefined;
  /** Readers by holder, with their nesting count (percpu rwsem readers may nest). */
  readonly readers = new Map<string, number>();

  constructor(
    /** The kernel's name: mem_hotplug_lock, device_hotplug_lock, init_mm.mmap_lock, ... */
    readonly name: string,
    readonly kind: LockKind,
  ) {}

  canTake(owner: string, mode: LockMode): boolean {
    if (this.writer !== undefined) return false;
    if (mode === 'write') return this.readers.size === 0;
    return true;
  }

  take(owner: string, mode: LockMode): void {
    if (mode === 'write') this.writer = owner;
    else this.readers.set(owner, (this.readers.get(owner) ?? 0) + 1);
  }

  drop(owner: string, mode: LockMode): void {
    if (mode === 'write') {
      if (this.writer === owner) this.writer = undefined;
      return;
    }
    const n = this.readers.get(owner) ?? 0;
    if (n <= 1) this.readers.delete(owner);
    else this.readers.set(owner, n - 1);
  }

  heldBy(owner: string): LockMode | undefined {
    if (this.writer === owner) return 'write';
    return this.readers.has(owner) ? 'read' : undefined;
  }
}

/** The locks hot(un)plug and its concurrent users take. */
export class KernelLocks {
  /** mem_hotplug_lock: a per-CPU rwsem; writers are hot(un)plug, readers get_online_mems(). */
  readonly memHotplug = new KernelLock('mem_hotplug_lock', 'percpu-rwsem');
  /** device_hotplug_lock: serialises add/remove and onlining from sysfs. */
  readonly deviceHotplug = new KernelLock('device_hotplug_lock', 'mutex');
  /** init_mm's mmap lock: RISC-V's __set_memory() takes it for writing. */
  readonly initMmMmap = new KernelLock('init_mm.mmap_lock', 'rwsem');
  /** init_mm.page_table_lock: taken when vmalloc allocates a kernel page table (pte_alloc_kernel, pmd_alloc). */
  readonly initMmPageTable = new KernelLock('init_mm.page_table_lock', 'spinlock');

  all(): KernelLock[] {
    return [this.memHotplug, this.deviceHotplug, this.initMmMmap, this.initMmPageTable];
  }
}
