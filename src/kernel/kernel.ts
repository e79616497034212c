/**
 * The guest kernel's state: one object holding what Linux keeps in globals
 * (memblock, swapper_pg_dir, the node and its zones, mem_section, memory
 * blocks, the resource tree, the log). The mm/, arch/ and drivers/ modules
 * are functions over it, named after the kernel functions they model.
 */
import type { PhysMem } from '../hw/physmem.js';
import type { PagingMode } from '../hw/paging.js';
import type { KernelProfile } from './profile.js';
import type { KernelCmdline, MemmapMode, OnlineType, OnlinePolicy } from './kernel/cmdline.js';
import type { KernelLayout } from './arch/riscv/layout.js';
import type { ArchOps } from './arch/arch_ops.js';
import { newPgtableStats, type PgtableStats } from './pgtable_stats.js';
import { KernelLocks } from './locking/lock.js';
import type { Scheduler } from './sched/sched.js';

export type { PgtableStats };
import { Memblock } from './mm/memblock.js';
import { PgData } from './mm/zone.js';
import { SparseMem } from './mm/mmzone.js';
import { PfnExtents } from './mm/pfn_extents.js';
import { Resource } from './kernel/resource.js';
import { Printk } from './kernel/printk.js';
import { Workload } from './mm/workload.js';
import { VmapAreas } from './mm/vmalloc.js';
import { Slub } from './mm/slub.js';
import { PerCpuPagesets } from './mm/pcp.js';
import { KernfsCache } from './fs/kernfs.js';
import type { KernelPageTables } from './arch/riscv/pgtable.js';
import type { MemoryBlock } from './drivers/base/memory.js';
import type { MemoryGroup } from './mm/memory_hotplug.js';
import type { DevPagemap } from './mm/memremap.js';
import type { MemmapFree } from './mm/sparse.js';
import type { MemoryNotifier } from './drivers/base/memory.js';

/** What the kernel needs of the machine under it. */
export interface Machine {
  readonly mem: PhysMem;
  /** Boot DRAM as the device tree describes it. */
  readonly dramBase: bigint;
  readonly dramSize: bigint;
  readonly smp: number;
  /** Set every hart's satp to this root (MODE from the paging mode). */
  setSatpAll(mode: PagingMode, rootPfn: number): void;
  /** sfence.vma with rs1 = rs2 = x0 on every hart (flush_tlb_all). */
  flushTlbAll(): void;
  /** sfence.vma of each page of [startVpn, endVpn) on every hart (flush_tlb_kernel_range). */
  flushTlbRange(startVpn: number, endVpn: number): void;
}

/** A leaf a teardown cleared: where it was and which operation cleared it (the checker explains with it). */
export interface ClearedLeaf {
  vpn: number;
  level: number;
  pfn: number;
  /** The range [startVpn, endVpn) the teardown was asked to remove. */
  askedStart: number;
  askedEnd: number;
}

/** Injected allocation failures: the checker's way of asking "what if the N-th allocation fails". */
export interface FaultInjector {
  shouldFailAlloc(what: 'page' | 'memblock', order: number): boolean;
}

export interface HotplugParams {
  /** memory_hotplug.memmap_on_memory (memmap_mode). */
  memmapMode: MemmapMode;
  onlinePolicy: OnlinePolicy;
  autoMovableRatio: number;
  autoMovableNumaAware: boolean;
  /** mhp_default_online_type (auto_online_blocks). */
  defaultOnlineType: OnlineType;
  movableNode: boolean;
}

export class Kernel {
  readonly log = new Printk();
  readonly layout: KernelLayout;
  readonly memblock = new Memblock();
  readonly pgdat = new PgData(0);
  readonly sparse = new SparseMem();
  /** Pages with PG_reserved set at boot (memblock allocations) not yet given back. */
  readonly bootReserved = new PfnExtents();
  readonly iomem = new Resource(0n, (1n << 64n) - 1n, 'PCI mem');
  readonly memoryBlocks = new Map<number, MemoryBlock>();
  /** pgmap_array: the ZONE_DEVICE ranges memremap_pages() mapped, in the order they were mapped. */
  readonly devPagemaps: DevPagemap[] = [];
  /** Memory groups registered by drivers (virtio-mem), by id. */
  readonly memoryGroups = new Map<number, MemoryGroup>();
  readonly params: HotplugParams;
  readonly workload = new Workload();
  /** vmalloc's areas. */
  readonly vmap = new VmapAreas();
  /** The slab allocator: the kernel's own small objects, in unmovable pages (mm/slub.c). */
  readonly slub: Slub;
  /** The per-CPU page lists of every zone. */
  readonly pcp: PerCpuPagesets;
  /** Dentries and inodes of the sysfs paths looked up since /init started. */
  readonly kernfs = new KernfsCache();
  /** /init has started: the kernel's run-time objects are modelled one by one from here on. */
  running = false;
  /** Kernel stacks of the per-CPU threads beyond those the boot footprint was measured with (pages). */
  extraKernelStackPages = 0;
  /** nr_memmap_boot_pages: memmap pages of the boot sections (sparse_init), less those freed by removal. */
  memmapBootPages = 0;
  /** nr_memmap_pages: memmap pages of sections populated at run time (hot-add, memremap). */
  memmapPages = 0;
  pt!: KernelPageTables;
  /** totalram_pages(): MemTotal / 4 KiB. */
  totalramPages = 0;
  /** Pages reserved for CMA and friends: 0 here; kept for meminfo arithmetic. */
  maxPfn = 0;
  maxLowPfn = 0;
  faults: FaultInjector | undefined;
  /** register_memory_notifier() chain. */
  readonly memoryNotifiers: MemoryNotifier[] = [];
  /**
   * The online_page callback a driver installs (set_online_page_callback): which
   * parts of a range being onlined really go to the buddy allocator.
   */
  onlinePageCallback: ((pfn: number, nrPages: number) => Array<[number, number]>) | undefined;
  /** Pages a driver took out of the buddy to unplug them ("fake offline"); offlining may skip them. */
  readonly fakeOffline = new PfnExtents();
  /** The locks concurrent kernel paths order themselves with. */
  readonly locks = new KernelLocks();
  /** The concurrency explorer's scheduler; undefined in a normal run (every operation runs alone). */
  sched: Scheduler | undefined = undefined;
  /** Why the last offline failed (the kernel's pr_debug text). */
  lastOfflineFailure = '';

  constructor(
    readonly machine: Machine,
    readonly profile: KernelProfile,
    readonly mode: PagingMode,
    readonly cmdline: KernelCmdline,
    /** The architecture code the kernel was built with (a strategy). */
    readonly arch: ArchOps,
  ) {
    this.layout = arch.createLayout(mode, profile);
    // num_present_cpus() when kmem_cache_init() sizes the caches; the pagesets exist for every online CPU.
    this.slub = new Slub(Math.min(machine.smp, profile.nrCpus));
    this.pcp = new PerCpuPagesets(Math.min(machine.smp, profile.nrCpus));
    this.params = {
      memmapMode: cmdline.memmapMode,
      onlinePolicy: cmdline.onlinePolicy,
      autoMovableRatio: cmdline.autoMovableRatio,
      autoMovableNumaAware: cmdline.autoMovableNumaAware,
      defaultOnlineType: cmdline.memhpDefaultState ?? 'offline',
      movableNode: cmdline.movableNode,
    };
    if (profile.config.ZONE_DEVICE) this.pgdat.addDeviceZone();
    // Claiming a pageblock weighs the movable pages in use there.
    for (const z of this.pgdat.zones) z.free.movableInUse = (s, e) => this.workload.movableIn(s, e);
  }

  get mem(): PhysMem {
    return this.machine.mem;
  }

  /** Counters behind `compare`. */
  readonly stats: PgtableStats = newPgtableStats();
  /**
   * What the guest shell's `race` saw break while it ran operations concurrently (a read of a
   * freed page table, a fault in one of them); the checker reports it. Reset with each command.
   */
  raceFindings: Array<{ invariant: string; detail: string }> = [];
  /** Leaves cleared by teardown walks since the journal was last reset (each command resets it). */
  clearedLeaves: ClearedLeaf[] = [];
  /** Per section still holding a memmap: the last part of it section_deactivate() gave to vmemmap_free (the checker's F4 report). */
  readonly lastMemmapFree = new Map<number, MemmapFree>();
  /** Pages freed as page-table pages that never were page tables (x86's confusion on a partial PUD leaf). */
  readonly bogusTableFrees: number[] = [];

  /** Installs (or removes) the explorer's scheduler, for the kernel and its page-table writer. */
  setScheduler(s: Scheduler | undefined): void {
    this.sched = s;
    this.pt.sched = s;
  }

  flushTlbAll(): void {
    this.sched?.point({ kind: 'tlb-flush', text: 'flush_tlb_all()' });
    this.stats.flushAll++;
    this.machine.flushTlbAll();
  }

  flushTlbKernelRange(startVpn: number, endVpn: number): void {
    this.sched?.point({ kind: 'tlb-flush', text: 'flush_tlb_kernel_range()', range: true });
    this.stats.flushRange++;
    this.machine.flushTlbRange(startVpn, endVpn);
  }
}
