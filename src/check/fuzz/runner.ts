/**
 * The runner: operations applied one by one to a freshly booted machine,
 * every invariant checked after each, the sequence stopped at its first
 * finding. A finding is what `riscv-hotplug run --check` stops on or reports
 * the same way: invariant violations (exit 4), a kernel crash (exit 3), or an
 * exception out of the model itself (exit 70).
 */
import type { GuestSystem } from '../../kernel/system.js';
import { formatViolation, type Violation } from '../invariants.js';
import { FuzzRng } from './rng.js';
import { SequenceGenerator } from './generate.js';
import { hotplugWindow, type FuzzMachine, type MachineFactory } from './machine.js';
import { opLine, type FuzzOp } from './ops.js';

export interface Finding {
  /** The operation (0-based) after which it was found. */
  step: number;
  /** The invariants violated, sorted; or one `kernel-crash:KIND` or `model-error`. */
  invariants: string[];
  /** The first violations (or the crash's or error's message), for the report. */
  details: string[];
}

/** What makes two findings the same failure (the shrinker keeps it, campaigns count by it). */
export function signature(f: Finding): string {
  return f.invariants.join('+');
}

/** A check on top of the invariants (tests plant failures with one). */
export type ExtraCheck = (sys: GuestSystem, line: string) => Violation[];

export interface RunOutcome {
  /** The operations run: all of them, or up to and including the one the finding followed. */
  ops: FuzzOp[];
  finding: Finding | undefined;
}

const MAX_DETAILS = 3;

/** Checks after one operation; the finding, if any. */
function afterStep(
  m: FuzzMachine,
  death: string | undefined,
  line: string,
  step: number,
  extra: ExtraCheck | undefined,
): Finding | undefined {
  if (death !== undefined)
    return {
      step,
      invariants: [`kernel-crash:${death}`],
      details: [`the guest died (${death}) after "${line}"`],
    };
  const v = m.check(line);
  if (extra) v.push(...extra(m.system, line));
  if (!v.length) return undefined;
  return {
    step,
    invariants: [...new Set(v.map((x) => x.invariant))].sort(),
    details: v.slice(0, MAX_DETAILS).map(formatViolation),
  };
}

function modelError(step: number, line: string, e: unknown): Finding {
  const msg = e instanceof Error ? e.message : String(e);
  return { step, invariants: ['model-error'], details: [`the model threw after "${line}": ${msg}`] };
}

/** Runs given operations on a fresh machine (the shrinker's test). */
export function runOps(factory: MachineFactory, ops: readonly FuzzOp[], extra?: ExtraCheck): RunOutcome {
  const m = factory();
  for (let i = 0; i < ops.length; i++) {
    const line = opLine(ops[i]!);
    let finding: Finding | undefined;
    try {
      m.run(line);
      finding = afterStep(m, m.death, line, i, extra);
    } catch (e) {
      finding = modelError(i, line, e);
    }
    if (finding) return { ops: ops.slice(0, i + 1), finding };
  }
  return { ops: [...ops], finding: undefined };
}

export interface SequenceResult extends RunOutcome {
  index: number;
}

export interface SequenceSetup {
  factory: MachineFactory;
  seed: number;
  /** Operations per sequence (fewer when a finding stops it). */
  length: number;
  extra?: ExtraCheck;
}

/** Sequence `index` of the campaign: generated from (seed, index) while it runs, so each draw sees the machine. */
export function runSequence(setup: SequenceSetup, index: number): SequenceResult {
  const m = setup.factory();
  const window = hotplugWindow(m.system);
  if (!window) throw new RangeError('the machine has no RAM to hot-add (give -m more than mem=)');
  const gen = new SequenceGenerator(new FuzzRng(setup.seed, index), m, window);
  const ops: FuzzOp[] = [];
  for (let i = 0; i < setup.length; i++) {
    const op = gen.next();
    ops.push(op);
    const line = opLine(op);
    let finding: Finding | undefined;
    try {
      gen.observe(op, m.run(line));
      finding = afterStep(m, m.death, line, i, setup.extra);
    } catch (e) {
      finding = modelError(i, line, e);
    }
    if (finding) return { index, ops, finding };
  }
  return { index, ops, finding: undefined };
}
