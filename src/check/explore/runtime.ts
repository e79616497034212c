/**
 * One run of a scenario under a given schedule: the kernel's scheduler
 * (sched.ts) for the operation actors, and the loop that steps the step
 * actors. JavaScript cannot suspend a call stack, so an operation that is
 * preempted stays on the stack and the actors chosen at its scheduling
 * point run inside that point: step actors one step at a time, another
 * operation nested until it finishes. This is the bounded search of the
 * explorer, not an approximation of it, for every interleaving in which
 * two operations nest; an operation that would have to wait for one below
 * it on the stack cannot be expressed and is counted as pruned (the same
 * interleaving with the waiting operation started later is explored).
 *
 * The schedule is a list of actor names, one per decision; past its end
 * the run continues without preemption (the running actor keeps running,
 * else the first enabled one in scenario order).
 */
import type { Kernel } from '../../kernel/kernel.js';
import type { KernelLock, LockMode } from '../../kernel/locking/lock.js';
import type { PteChange, Scheduler, SchedPoint } from '../../kernel/sched/sched.js';
import { KernelBug } from '../../kernel/errno.js';
import { AccessFault } from '../../hw/physmem.js';
import type { Actor, ExploreViolation, StepAnnounce } from './actor.js';

export interface Decision {
  options: string[];
  chosen: string;
  /** The actor that ran last, if it could have gone on. */
  current: string | undefined;
  /** Preemptions before this decision. */
  preemptions: number;
}

export interface TimelineEntry {
  actor: string;
  cpu: number;
  text: string;
  /** Locks the actor holds at that moment. */
  locks: string[];
  pte?: PteChange;
}

export interface RunResult {
  decisions: Decision[];
  timeline: TimelineEntry[];
  violation: ExploreViolation | undefined;
  /** The schedule asked an operation to wait for one below it on the stack. */
  pruned: boolean;
  /** A hash of the state after each step (page tables, actors' progress, locks). */
  states: number[];
  preemptions: number;
  /** The scenario's observations (RunChecks.notes) at the end of the run. */
  notes: string[];
}

/** What the scenario checks while a run goes on. */
export interface RunChecks {
  /** After every step: the invariants that must hold at all times. */
  step(): ExploreViolation | undefined;
  /** At a scheduling point of an operation, before its effect (e.g. reading a freed table). */
  point?(actor: string, p: SchedPoint): ExploreViolation | undefined;
  /** When every actor is done: the machine's invariants. */
  end(): ExploreViolation | undefined;
  /** Observations that break no invariant. */
  notes?(): string[];
}

class Stop extends Error {
  constructor(readonly violation: ExploreViolation) {
    super(violation.invariant);
  }
}

class Prune extends Error {}

/** A schedule that does not fit the scenario (a replay file for another scenario or strategy). */
export class ScheduleMismatch extends Error {}

interface ActorState {
  actor: Actor;
  status: 'new' | 'running' | 'done';
  gen?: Generator<StepAnnounce, void, void>;
  next?: StepAnnounce;
  progress: number;
}

// Zobrist-style mixing of one page-table entry's value, so the key follows the tables' contents.
function mix(table: number, index: number, lo: number, hi: number): number {
  let h = Math.imul(table ^ 0x9e3779b1, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35);
  h = Math.imul(h ^ lo, 0x27d4eb2f) ^ Math.imul(hi + 0x165667b1, 0x9e3779b1);
  return (h ^ (h >>> 15)) >>> 0;
}

export class Runtime implements Scheduler {
  private readonly states = new Map<string, ActorState>();
  private readonly order: string[];
  private readonly stack: string[] = [];
  private current: string | undefined = undefined;
  private inStep: string | undefined = undefined;
  private preemptions = 0;
  private pteHash = 0;
  private lastWriteTable: number | undefined = undefined;
  private lastWriter: string | undefined = undefined;
  private halted = false;
  private readonly stuck: string[] = [];
  private readonly result: RunResult = {
    decisions: [],
    timeline: [],
    violation: undefined,
    pruned: false,
    states: [],
    preemptions: 0,
    notes: [],
  };

  constructor(
    private readonly k: Kernel,
    actors: Actor[],
    private readonly schedule: readonly string[],
    private readonly checks: RunChecks,
    /** Past the schedule: who runs next (default: no preemption). The guest's `race` picks at random. */
    private readonly choose?: (options: readonly string[], current: string | undefined) => string,
  ) {
    this.order = actors.map((a) => a.name);
    for (const a of actors) this.states.set(a.name, { actor: a, status: 'new', progress: 0 });
  }

  run(): RunResult {
    this.k.setScheduler(this);
    try {
      for (const st of this.states.values()) {
        if (st.actor.kind === 'steps') {
          st.gen = st.actor.steps();
          const r = st.gen.next();
          if (r.done) st.status = 'done';
          else st.next = r.value;
        }
      }
      for (;;) {
        const opts = this.enabled();
        if (opts.length === 0) break;
        this.dispatch(this.decide(opts));
      }
      for (const st of this.states.values())
        if (st.status !== 'done')
          this.stuck.push(
            `${st.actor.name} never finished: '${st.next?.text ?? st.actor.text}' was never possible`,
          );
      const v = this.checks.end();
      if (v) this.result.violation = v;
    } catch (e) {
      if (e instanceof Stop) this.result.violation = e.violation;
      else if (e instanceof Prune) this.result.pruned = true;
      else throw e;
    } finally {
      this.k.setScheduler(undefined);
    }
    this.result.preemptions = this.preemptions;
    this.result.notes = [...this.stuck, ...(this.checks.notes?.() ?? [])];
    return this.result;
  }

  // ---- Scheduler (called by the kernel code of the operation on top of the stack) ----

  point(p: SchedPoint): void {
    if (this.inStep !== undefined) return; // a step is atomic
    const name = this.stack[this.stack.length - 1]!;
    // Writes to one table page in a row are one step: the first write of the run is the point.
    // (Another actor could only see the table half written, which no invariant is about; this
    // keeps a 4 KiB-page teardown from multiplying the interleavings by 512 per table.)
    // A range flush of what the run just wrote (arm64 flushes each leaf it clears) stays in it.
    const rangeFlush = p.kind === 'tlb-flush' && p.range === true;
    const table = p.kind === 'pte-write' ? p.pte!.table : rangeFlush ? this.lastWriteTable : undefined;
    const sameRun = table !== undefined && this.lastWriteTable === table && this.lastWriter === name;
    this.lastWriteTable = table;
    this.lastWriter = name;
    if (!sameRun) {
      this.check();
      for (;;) {
        const c = this.decide([name, ...this.enabled()]);
        if (c === name) break;
        this.dispatch(c);
      }
    }
    // Checked just before the effect, after whatever ran in between.
    const v = this.checks.point?.(name, p);
    if (v) this.stop(name, p.text, v);
    if (p.pte) {
      const { table, index, oldLo, oldHi, lo, hi } = p.pte;
      this.pteHash ^= mix(table, index, oldLo, oldHi) ^ mix(table, index, lo, hi);
    }
    this.current = name;
    this.record(name, p.text, p.pte);
  }

  acquire(lock: KernelLock, mode: LockMode): void {
    if (this.inStep !== undefined) {
      // Kernel code inside a step (vmalloc's table lock from a step actor) never waits.
      if (!lock.canTake(this.inStep, mode))
        throw new KernelBug(`${lock.name} contended inside an atomic step`);
      lock.take(this.inStep, mode);
      return;
    }
    const name = this.stack[this.stack.length - 1]!;
    this.check();
    for (;;) {
      const free = lock.canTake(name, mode);
      if (!free && this.heldBelow(lock)) throw this.halt(new Prune());
      const opts = this.enabled();
      if (free) opts.unshift(name);
      if (opts.length === 0) {
        this.stop(name, `wait for ${lock.name}`, {
          invariant: 'no-deadlock',
          detail: `${name} waits for ${lock.name} and no other actor can run`,
        });
      }
      const c = this.decide(opts);
      if (c === name) break;
      this.dispatch(c);
    }
    lock.take(name, mode);
    this.current = name;
    this.record(name, `${mode === 'read' ? 'down_read' : 'lock'}(${lock.name})`);
  }

  release(lock: KernelLock, mode: LockMode): void {
    // A run that ended unwinds the kernel's stack through its unlocks: they are not steps.
    if (this.halted) return;
    const name = this.inStep ?? this.stack[this.stack.length - 1]!;
    lock.drop(name, mode);
    if (this.inStep === undefined)
      this.record(name, `${mode === 'read' ? 'up_read' : 'unlock'}(${lock.name})`);
  }

  // ---- scheduling ----

  /** Actors that could take the next step, other than the operation on top of the stack. */
  private enabled(): string[] {
    const out: string[] = [];
    for (const name of this.order) {
      const st = this.states.get(name)!;
      if (st.status === 'done') continue;
      if (st.actor.kind === 'op') {
        if (st.status === 'new' && !(this.choose && this.stackHoldsLock())) out.push(name);
        continue;
      }
      const n = st.next!;
      if (n.ready && !n.ready()) continue;
      if (n.lock && !n.lock.lock.canTake(name, n.lock.mode)) continue;
      out.push(name);
    }
    return out;
  }

  private decide(options: string[]): string {
    const i = this.result.decisions.length;
    // The actor that ran last, if it could go on: leaving it is a preemption.
    const current = this.current !== undefined && options.includes(this.current) ? this.current : undefined;
    let chosen: string;
    if (i < this.schedule.length) {
      chosen = this.schedule[i]!;
      if (!options.includes(chosen))
        throw new ScheduleMismatch(
          `decision ${i + 1}: ${chosen} cannot run here (enabled: ${options.join(', ')})`,
        );
    } else if (this.choose) {
      chosen = this.choose(options, this.current);
    } else {
      chosen = current ?? options[0]!;
    }
    this.result.decisions.push({ options, chosen, current, preemptions: this.preemptions });
    if (current !== undefined && chosen !== current) this.preemptions++;
    return chosen;
  }

  private dispatch(name: string): void {
    this.lastWriteTable = undefined;
    const st = this.states.get(name)!;
    if (st.actor.kind === 'steps') this.runStep(st);
    else this.runOp(st);
  }

  private runStep(st: ActorState): void {
    const name = st.actor.name;
    const ann = st.next!;
    if (ann.lock) ann.lock.lock.take(name, ann.lock.mode);
    this.current = name;
    this.record(name, ann.text);
    this.inStep = name;
    let r: IteratorResult<StepAnnounce, void>;
    try {
      r = st.gen!.next();
    } catch (e) {
      this.inStep = undefined;
      throw this.asStop(name, e);
    }
    this.inStep = undefined;
    st.progress++;
    if (r.done) st.status = 'done';
    else st.next = r.value;
    this.check();
  }

  private runOp(st: ActorState): void {
    if (st.actor.kind !== 'op') return;
    const name = st.actor.name;
    st.status = 'running';
    this.stack.push(name);
    this.current = name;
    this.record(name, `begin ${st.actor.text}`);
    let ret: number;
    try {
      ret = st.actor.run();
    } catch (e) {
      throw this.asStop(name, e);
    }
    this.stack.pop();
    st.status = 'done';
    st.progress++;
    this.current = name;
    this.record(name, `end ${st.actor.text}${ret < 0 ? ` = ${ret}` : ''}`);
    this.check();
  }

  private asStop(name: string, e: unknown): unknown {
    if (e instanceof Stop || e instanceof Prune || e instanceof ScheduleMismatch) return e;
    if (e instanceof KernelBug || e instanceof AccessFault) {
      const v = { invariant: 'no-kernel-fault', detail: `${name}: ${e.message}` };
      this.record(name, e.message);
      return this.halt(new Stop(v));
    }
    return e;
  }

  private halt<E extends Error>(e: E): E {
    this.halted = true;
    return e;
  }

  /**
   * An operation on the stack holds a lock. A random run (`choose`, the guest's `race`) starts no
   * operation there: it could need that lock and wait for an operation below it, which the stack
   * cannot express, and a random run has no other schedule to fall back on. (This also leaves out
   * operations that take none of the holder's locks; the explorer's search covers those.)
   */
  private stackHoldsLock(): boolean {
    for (const lock of this.k.locks.all())
      for (const n of this.stack) if (lock.heldBy(n) !== undefined) return true;
    return false;
  }

  /** The lock's holder is an operation deeper in the stack than the one that wants it. */
  private heldBelow(lock: KernelLock): boolean {
    return this.stack.slice(0, -1).some((n) => lock.heldBy(n) !== undefined);
  }

  private check(): void {
    this.result.states.push(this.stateKey());
    const v = this.checks.step();
    if (v) throw this.halt(new Stop(v));
  }

  private stop(name: string, text: string, v: ExploreViolation): never {
    this.record(name, text);
    throw this.halt(new Stop(v));
  }

  private stateKey(): number {
    let h = this.pteHash;
    for (const name of this.order) h = Math.imul(h ^ this.states.get(name)!.progress, 0x01000193) >>> 0;
    for (const l of this.k.locks.all()) {
      const holder = (l.writer ?? '') + [...l.readers.keys()].join('+');
      for (let i = 0; i < holder.length; i++) h = Math.imul(h ^ holder.charCodeAt(i), 0x01000193) >>> 0;
      h = Math.imul(h ^ 0xff, 0x01000193) >>> 0;
    }
    return h;
  }

  private record(actor: string, text: string, pte?: PteChange): void {
    const st = this.states.get(actor)!;
    const locks = this.k.locks
      .all()
      .filter((l) => l.heldBy(actor) !== undefined)
      .map((l) => l.name);
    const e: TimelineEntry = { actor, cpu: st.actor.cpu, text, locks };
    if (pte) e.pte = pte;
    this.result.timeline.push(e);
  }
}
