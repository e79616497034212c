/**
 * A scenario's machine and what its actors share: the booted guest, the
 * processes created by pgd_alloc, the vmalloc areas by name, and the
 * violation a hart step found (the runtime's step check reports it).
 */
import { GuestSystem } from '../../kernel/system.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { ArchOps } from '../../kernel/arch/arch_ops.js';
import type { VmArea } from '../../kernel/mm/vmalloc.js';
import { PageWalkCache } from '../../hw/walk_cache.js';
import type { ExploreViolation } from './actor.js';

export interface MachineSpec {
  /** -m, in bytes. */
  ramBytes: bigint;
  /** -append. */
  append: string;
  /** -smp: one hart per CPU the scenario's actors name. */
  smp: number;
}

export interface WorldState {
  procs: Array<[string, number]>;
  vmAreas: Array<[string, VmArea]>;
}

export class World {
  readonly g: GuestSystem;
  /** Processes by name: the pfn of their PGD. */
  readonly procs = new Map<string, number>();
  readonly vmAreas = new Map<string, VmArea>();
  /** Set by a hart step that saw a wrong translation; reported after the step. */
  pending: ExploreViolation | undefined = undefined;
  /** Things a run saw that break no invariant but belong in the report (counted per interleaving). */
  readonly notes = new Set<string>();
  /** The vmemmap ranges [startVpn, endVpn) of memory a remove command took away. */
  readonly removedMemmaps: Array<[number, number]> = [];
  /** Page-table pages the kernel freed during the run, in order. */
  readonly freedTables: number[] = [];

  /** A world over a machine that is already running (the guest shell's `race`). */
  constructor(g: GuestSystem) {
    this.g = g;
  }

  /** A fresh machine for a scenario; its harts keep non-leaf entries, as the privileged spec allows. */
  static boot(machine: MachineSpec, arch: ArchOps): World {
    const w = new World(
      new GuestSystem({
        ramBytes: machine.ramBytes,
        smp: machine.smp,
        append: machine.append,
        initrdSize: 0,
        arch,
      }),
    );
    for (const h of w.g.board.harts) h.walkCache = new PageWalkCache();
    return w;
  }

  /** The world's own bookkeeping (the machine is snapshotted separately), for `restore`. */
  save(): WorldState {
    return { procs: [...this.procs], vmAreas: [...this.vmAreas] };
  }

  /** Back to a saved state and nothing seen yet (the machine must be restored with it). */
  restore(s: WorldState): void {
    this.procs.clear();
    for (const [k, v] of s.procs) this.procs.set(k, v);
    this.vmAreas.clear();
    for (const [k, v] of s.vmAreas) this.vmAreas.set(k, v);
    this.pending = undefined;
    this.notes.clear();
    this.freedTables.length = 0;
    this.removedMemmaps.length = 0;
  }

  /** Is pfn a page table of a process (its PGD: the kernel half is shared by pointer)? */
  isProcessTable(pfn: number): boolean {
    for (const pgd of this.procs.values()) if (pgd === pfn) return true;
    return false;
  }

  get k(): Kernel {
    return this.g.kernel;
  }
}
