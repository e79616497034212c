/**
 * Where a kernel operation may be preempted. A normal run has no scheduler
 * (`Kernel.sched` is undefined) and every operation runs to completion; the
 * concurrency explorer installs one, and at each point it may let other
 * actors (vmalloc, a ptdump reader, another hart) run before the effect the
 * point announces happens. The points are the ones the review of the RISC-V
 * hotplug series argued about: page-table writes and frees, page
 * allocations, TLB flushes and lock operations.
 */
import type { KernelLock, LockMode } from '../locking/lock.js';

export type SchedPointKind = 'pte-write' | 'pt-read' | 'pt-free' | 'page-alloc' | 'tlb-flush' | 'load';

/** A page-table entry about to change: the table page, the index, the old and the new value. */
export interface PteChange {
  table: number;
  index: number;
  oldLo: number;
  oldHi: number;
  lo: number;
  hi: number;
}

export interface SchedPoint {
  kind: SchedPointKind;
  /** What is about to happen, for the timeline ("free PMD table pfn 0x8f2c1"). */
  text: string;
  pte?: PteChange;
  /** For pt-read and pt-free: the page-table page read or about to be freed. */
  table?: number;
  /** For tlb-flush: a flush of a range (flush_tlb_kernel_range), not of everything. */
  range?: boolean;
}

export interface Scheduler {
  /** Announces the next effect of the running actor; other actors may run before it returns. */
  point(p: SchedPoint): void;
  /** Returns once the running actor holds `lock` in `mode` (other actors run while it waits). */
  acquire(lock: KernelLock, mode: LockMode): void;
  release(lock: KernelLock, mode: LockMode): void;
}
