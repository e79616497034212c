/**
 * The actors of a concurrency scenario. An operation actor runs kernel code
 * (a hot-remove, vmalloc, set_memory_ro, a ptdump read) to completion and
 * is preempted only at the kernel's scheduling points (sched.ts). A step
 * actor is a list of atomic steps with no kernel stack: a hart's loads and
 * speculative walks through its own MMU, TLB and page-walk cache.
 */
import type { KernelLock, LockMode } from '../../kernel/locking/lock.js';

export interface OpActor {
  kind: 'op';
  name: string;
  cpu: number;
  /** What it does, for the timeline ("remove_memory(0x100000000, 128 MiB)"). */
  text: string;
  /** Runs the kernel code; a negative errno is recorded in the timeline. */
  run(): number;
}

/** The next step a step actor will take when scheduled. */
export interface StepAnnounce {
  text: string;
  /** The step may run only when this holds (e.g. "the memory is online"). */
  ready?: () => boolean;
  lock?: { lock: KernelLock; mode: LockMode };
}

export interface StepActor {
  kind: 'steps';
  name: string;
  cpu: number;
  text: string;
  /** Yields the announcement of each step; resuming performs it. */
  steps(): Generator<StepAnnounce, void, void>;
}

export type Actor = OpActor | StepActor;

/** A broken invariant found while exploring. */
export interface ExploreViolation {
  invariant: string;
  detail: string;
}
