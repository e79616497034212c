/**
 * `riscv-hotplug explore`: every interleaving of a scenario's actors with at
 * most N preemptions (iterative context bounding: a preemption is a switch
 * away from an actor that could have gone on; switches after an actor ends
 * or waits are free), invariants after every step.
 *
 * Each interleaving is a replay from the scenario's starting state (a fresh
 * world), so the search keeps no kernel state of its own: after a run, every
 * decision past the replayed prefix is branched on each alternative the
 * bound allows. That enumerates each schedule once.
 */
import type { ArchOps } from '../../kernel/arch/arch_ops.js';
import { checkInvariants, type Violation } from '../invariants.js';
import { InvariantChecker } from '../incremental.js';
import { restoreSystem, snapshotSystem, type SystemSnapshot } from '../../kernel/snapshot.js';
import { MachineStartError } from '../../kernel/system.js';
import { KernelBug, errnoName } from '../../kernel/errno.js';
import { AccessFault } from '../../hw/physmem.js';
import { LEVEL_PAGES } from '../../kernel/arch/riscv/pgtable.js';
import { Runtime, type RunChecks, type RunResult } from './runtime.js';
import {
  buildActors,
  compileOp,
  machineOf,
  ScenarioError,
  vmallocToPfn,
  type ScenarioSpec,
} from './scenario.js';
import { World, type WorldState } from './world.js';

export interface ExploreOptions {
  arch: ArchOps;
  preemptions: number;
  /** Stop after this many interleavings (the result says the search was cut short). */
  limit?: number;
  /** Called with every run (tests, progress). */
  onRun?: (run: RunResult) => void;
}

export interface ExploreResult extends SearchResult {
  scenario: string;
  strategy: string;
  preemptions: number;
}

/** Builds the world for one run: boot, setup commands, then the actors. */
export function prepare(spec: ScenarioSpec, arch: ArchOps): World {
  const machine = machineOf(spec);
  let w: World;
  try {
    w = World.boot(machine, arch);
  } catch (e) {
    if (
      e instanceof MachineStartError ||
      e instanceof KernelBug ||
      e instanceof AccessFault ||
      e instanceof RangeError
    )
      throw new ScenarioError(`machine ${spec.machine.memory}: ${e.message}`);
    throw e;
  }
  for (const cmd of spec.setup ?? []) {
    const op = compileOp(w, cmd);
    let ret: number;
    try {
      ret = op();
    } catch (e) {
      if (e instanceof KernelBug || e instanceof AccessFault)
        throw new ScenarioError(`setup command '${cmd}' crashed the kernel: ${e.message}`);
      throw e;
    }
    if (ret < 0) throw new ScenarioError(`setup command '${cmd}' failed with -${errnoName(-ret)}`);
  }
  return w;
}

/**
 * The scenario's checks. `machine` checks the machine-wide invariants at the end of a run
 * (checkInvariants or an incremental checker's equivalent); without it they are left to the caller.
 */
export function checksFor(
  w: World,
  machine: ((op: string) => Violation[]) | false = (op) => checkInvariants(w.g, op),
): RunChecks {
  const k = w.k;
  const isTable = (pfn: number): boolean =>
    pfn === k.pt.rootPfn || k.pt.tablePages.has(pfn) || w.isProcessTable(pfn);
  return {
    notes: () => [...w.notes, ...sharingNotes(w)],
    step() {
      const v = w.pending;
      w.pending = undefined;
      return v;
    },
    point(actor, p) {
      if (p.kind === 'pt-free' && p.table !== undefined) w.freedTables.push(p.table);
      if (p.kind === 'pt-read' && p.table !== undefined && !isTable(p.table))
        return {
          invariant: 'walk-only-live-tables',
          detail: `${actor} reads pfn 0x${p.table.toString(16)} as a page table, but it was freed`,
        };
      return undefined;
    },
    end() {
      if (!machine) return undefined;
      const vs = machine('explore');
      if (vs.length > 0)
        return { invariant: vs[0]!.invariant, detail: `${vs[0]!.address}: ${vs[0]!.detail}` };
      for (const [name, a] of w.vmAreas) {
        for (let i = 0; i < a.pages; i++) {
          if (vmallocToPfn(k, a.startVpn + i) !== a.pfns[i])
            return {
              invariant: 'vmalloc-mapping-intact',
              detail: `page ${i} of vmalloc area ${name} (va 0x${(BigInt(a.startVpn + i) << 12n).toString(16)}) lost its mapping`,
            };
        }
      }
      for (const h of w.g.board.harts) {
        const stale = h.tlb.staleEntries(k.mem);
        if (stale.length > 0)
          return {
            invariant: 'tlb-coherent',
            detail: `hart ${h.id} still caches va 0x${(BigInt(stale[0]!.vpn) << 12n).toString(16)} (${stale[0]!.reason}) after every actor finished`,
          };
        for (const e of h.walkCache?.entries() ?? []) {
          if (!isTable(e.tablePpn))
            return {
              invariant: 'walk-cache-coherent',
              detail: `hart ${h.id}'s walk cache still points at pfn 0x${e.tablePpn.toString(16)} for va 0x${(BigInt(e.vpn) << 12n).toString(16)} (${LEVEL_PAGES[e.level + 1]! * 4} KiB), which is no page table any more`,
            };
        }
      }
      return undefined;
    },
  };
}

/**
 * Whether vmalloc's areas and the struct pages a remove took away go through a common page-table
 * page below the root, i.e. whether freeing the vmemmap's tables can touch vmalloc's.
 */
function sharingNotes(w: World): string[] {
  const out: string[] = [];
  const pt = w.k.pt;
  for (const [name, a] of w.vmAreas) {
    for (const [s, e] of w.removedMemmaps) {
      const near = a.startVpn >= e ? e - 1 : s; // the removed memmap page nearest to the area
      let level = 0;
      while (
        level < pt.rootLevel &&
        Math.floor(near / LEVEL_PAGES[level + 1]!) !== Math.floor(a.startVpn / LEVEL_PAGES[level + 1]!)
      )
        level++;
      out.push(
        level >= pt.rootLevel
          ? `vmalloc area ${name} and the removed struct pages share no page-table page below the PGD`
          : `vmalloc area ${name} and the removed struct pages share a ${pt.levelName(level)} table (it maps ${(LEVEL_PAGES[level + 1]! * 4) / 1024} MiB)`,
      );
    }
  }
  return out;
}

/**
 * Runs of one scenario: the machine is booted and set up once, snapshotted, and restored in place
 * before every interleaving (docs/snapshot.md); one incremental checker follows it throughout.
 */
export class ScenarioRuns {
  private readonly w: World;
  private readonly snap: SystemSnapshot;
  private readonly saved: WorldState;
  private readonly checker: InvariantChecker;
  private used = false;

  constructor(
    private readonly spec: ScenarioSpec,
    arch: ArchOps,
  ) {
    this.w = prepare(spec, arch);
    this.checker = new InvariantChecker(this.w.g);
    this.snap = snapshotSystem(this.w.g);
    this.saved = this.w.save();
  }

  /** One interleaving: `schedule`, then no further preemption. */
  run(schedule: readonly string[]): RunResult {
    if (this.used) {
      restoreSystem(this.w.g, this.snap);
      this.w.restore(this.saved);
    }
    this.used = true;
    const checks = checksFor(this.w, (op) => this.checker.check(op));
    return new Runtime(this.w.k, buildActors(this.w, this.spec.actors), schedule, checks).run();
  }
}

/** One interleaving on a fresh machine (a replay). */
export function runSchedule(spec: ScenarioSpec, arch: ArchOps, schedule: readonly string[]): RunResult {
  return new ScenarioRuns(spec, arch).run(schedule);
}

/** What the bounded search found, whatever the runs are of. */
export interface SearchResult {
  interleavings: number;
  distinctStates: number;
  pruned: number;
  complete: boolean;
  notes: Array<{ note: string; interleavings: number }>;
  violation?: { schedule: string[]; run: RunResult };
}

/**
 * Iterative context bounding by replay: run a schedule prefix (no preemption past it), then
 * branch every later decision on each alternative within the bound. Each schedule is run once.
 */
export function searchInterleavings(
  runOnce: (schedule: readonly string[]) => RunResult,
  bound: number,
  limit = Infinity,
  onRun?: (run: RunResult) => void,
): SearchResult {
  const states = new Set<number>();
  const notes = new Map<string, number>();
  // A branch to try: the first `at` choices of an earlier run's schedule, then `alt`.
  const work: Array<{ base: readonly string[]; at: number; alt: string | undefined }> = [
    { base: [], at: 0, alt: undefined },
  ];
  let interleavings = 0;
  let pruned = 0;
  let best: SearchResult['violation'];
  while (work.length > 0 && interleavings < limit) {
    const item = work.pop()!;
    const prefix = item.alt === undefined ? [] : [...item.base.slice(0, item.at), item.alt];
    const run = runOnce(prefix);
    interleavings++;
    onRun?.(run);
    if (run.pruned) pruned++;
    for (const s of run.states) states.add(s);
    for (const n of run.notes) notes.set(n, (notes.get(n) ?? 0) + 1);
    const schedule = run.decisions.map((d) => d.chosen);
    if (run.violation && (!best || run.timeline.length < best.run.timeline.length)) best = { schedule, run };
    // Alternatives pushed in reverse keep the order depth-first.
    for (let i = run.decisions.length - 1; i >= prefix.length; i--) {
      const d = run.decisions[i]!;
      for (let j = d.options.length - 1; j >= 0; j--) {
        const alt = d.options[j]!;
        if (alt === d.chosen) continue;
        const cost = d.preemptions + (d.current !== undefined && alt !== d.current ? 1 : 0);
        if (cost > bound) continue;
        work.push({ base: schedule, at: i, alt });
      }
    }
  }
  const result: SearchResult = {
    interleavings,
    distinctStates: states.size,
    pruned,
    complete: work.length === 0,
    notes: [...notes].map(([note, count]) => ({ note, interleavings: count })),
  };
  if (best) result.violation = best;
  return result;
}

export function explore(spec: ScenarioSpec, opts: ExploreOptions): ExploreResult {
  const runs = new ScenarioRuns(spec, opts.arch);
  const found = searchInterleavings(
    (schedule) => runs.run(schedule),
    opts.preemptions,
    opts.limit,
    opts.onRun,
  );
  return { scenario: spec.name, strategy: opts.arch.name, preemptions: opts.preemptions, ...found };
}
