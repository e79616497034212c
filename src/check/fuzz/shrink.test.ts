/**
 * The shrinker cuts a failing sequence to a minimal one that fails the same
 * way, deterministically; the result, as a script, fails the same way when
 * run line by line as `riscv-hotplug run --check` runs it.
 */
import { describe, expect, test } from 'vitest';
import { fuzzMachineFactory } from '../../session/fuzz-machine.js';
import { splitFuzzMachine } from '../../../test/support/fuzz-machine.js';
import { Session } from '../../session/session.js';
import { checkInvariants, type Violation } from '../invariants.js';
import { ZONE_MOVABLE } from '../../kernel/mm/zone.js';
import type { GuestSystem } from '../../kernel/system.js';
import { runOps, runSequence, signature, type ExtraCheck, type Finding, type RunOutcome } from './runner.js';
import { shrink } from './shrink.js';
import type { FuzzOp } from './ops.js';
import { failureScript } from './script.js';

const BLOCK = 0x8000000n;

/** A pure stand-in for a machine: fails (with "planted") once op `a` has run and then op `b`. */
function pairTest(a: (op: FuzzOp) => boolean, b: (op: FuzzOp) => boolean) {
  return (ops: readonly FuzzOp[]): RunOutcome => {
    let seenA = false;
    for (let i = 0; i < ops.length; i++) {
      if (seenA && b(ops[i]!))
        return { ops: ops.slice(0, i + 1), finding: { step: i, invariants: ['planted'], details: [] } };
      if (a(ops[i]!)) seenA = true;
    }
    return { ops: [...ops], finding: undefined };
  };
}

describe('the shrinker', () => {
  test('delta debugging leaves exactly the two operations that fail together', () => {
    const noise: FuzzOp[] = Array.from({ length: 30 }, (_, i) => ({ kind: 'free', id: i + 1 }));
    const ops: FuzzOp[] = [
      ...noise.slice(0, 10),
      { kind: 'state', block: 40, value: 'online_movable' },
      ...noise.slice(10, 20),
      { kind: 'alloc', type: 'pinned', pages: 4096, zone: 'Normal' },
      ...noise.slice(20),
    ];
    const test = pairTest(
      (op) => op.kind === 'state' && op.value === 'online_movable',
      (op) => op.kind === 'alloc' && op.type === 'pinned',
    );
    const first = test(ops);
    const s = shrink(first.ops, first.finding!, test);
    // The pinned allocation also lost its zone and most of its pages: neither matters to the failure.
    expect(s.ops).toEqual([
      { kind: 'state', block: 40, value: 'online_movable' },
      { kind: 'alloc', type: 'pinned', pages: 1 },
    ]);
    expect(s.exhausted).toBe(false);
    expect(shrink(first.ops, first.finding!, test)).toEqual(s);
  });

  test('a budget bounds the work and says it ran out', () => {
    const ops: FuzzOp[] = Array.from({ length: 40 }, (_, i) => ({ kind: 'free', id: i }));
    const test = pairTest(
      (op) => op.kind === 'free' && op.id === 3,
      (op) => op.kind === 'free' && op.id === 39,
    );
    const s = shrink(ops, test(ops).finding!, test, 5);
    expect(s.tries).toBe(5);
    expect(s.exhausted).toBe(true);
  });
});

/** Planted: a long-term pin exists while a hot-added block is online in ZONE_MOVABLE. */
const planted: ExtraCheck = (sys: GuestSystem, line: string): Violation[] => {
  const k = sys.kernel;
  const pinned = k.workload.pages().some((p) => p.kind === 'pinned');
  const movable = [...k.memoryBlocks.values()].some(
    (m) => m.id >= 16 && m.state === 'online' && m.zone?.idx === ZONE_MOVABLE,
  );
  return pinned && movable
    ? [{ invariant: 'planted-pin-with-movable', address: '0x0', detail: 'planted', op: line }]
    : [];
};

const machine = splitFuzzMachine;
const factory = fuzzMachineFactory({ machine, initrdSize: 0 });

/** The first sequence of seed 1 that the planted check fails. */
function plantedFailure(): { ops: FuzzOp[]; finding: Finding; index: number } {
  for (let i = 0; i < 200; i++) {
    const r = runSequence({ factory, seed: 1, length: 24, extra: planted }, i);
    if (r.finding) return { ops: r.ops, finding: r.finding, index: i };
  }
  throw new Error('no sequence of seed 1 set off the planted failure');
}

describe('shrinking a planted failure on a real machine', () => {
  test('the random sequence shrinks to add, online_movable and a one-page pin', () => {
    const f = plantedFailure();
    expect(signature(f.finding)).toBe('planted-pin-with-movable');
    expect(f.ops.length).toBeGreaterThan(3);
    const s = shrink(f.ops, f.finding, (ops) => runOps(factory, ops, planted));
    expect(signature(s.finding)).toBe('planted-pin-with-movable');
    expect(s.exhausted).toBe(false);
    const kinds = s.ops.map((op) => (op.kind === 'state' ? `state ${op.value}` : op.kind)).sort();
    expect(kinds).toEqual(['add', 'alloc', 'state online_movable']);
    const add = s.ops.find((op) => op.kind === 'add')!;
    const online = s.ops.find((op) => op.kind === 'state')!;
    // The plain add_memory(); its size can only shrink from the end, so it reaches the block onlined.
    expect(add).toMatchObject({ how: 'add' });
    if (add.kind !== 'add' || online.kind !== 'state') throw new Error('unreachable');
    expect(add.start + add.size).toBe((BigInt(online.block) + 1n) * BLOCK);
    expect(s.ops.find((op) => op.kind === 'alloc')).toEqual({ kind: 'alloc', type: 'pinned', pages: 1 });
    // 1-minimal: without any one of the three it passes.
    for (let i = 0; i < s.ops.length; i++)
      expect(runOps(factory, [...s.ops.slice(0, i), ...s.ops.slice(i + 1)], planted).finding).toBeUndefined();
  });

  test("riscv 6.12's partial removal (F1) shrinks to a script run --check stops on at its last line", () => {
    const f6 = fuzzMachineFactory({ machine: { ...machine, strategy: 'riscv-6.12' }, initrdSize: 0 });
    let found: RunOutcome | undefined;
    let index = 0;
    for (; index < 100 && !found; index++) {
      const r = runSequence({ factory: f6, seed: 1, length: 24 }, index);
      if (r.finding) found = r;
    }
    const s = shrink(found!.ops, found!.finding!, (ops) => runOps(f6, ops));
    expect(s.ops.map((op) => op.kind)).toEqual(['add', 'remove']);
    expect(s.finding.invariants).toContain('linear-map-covers-present-memory');
    // The script, line by line through a session with the checker after each, as run --check does.
    const text = failureScript(s.ops, s.finding, {
      seed: 1,
      index,
      strategy: 'riscv-6.12',
      machineArgs: [],
      originalLength: found!.ops.length,
    });
    const session = new Session({ ...machine, strategy: 'riscv-6.12' });
    const lines = text.split('\n').filter((l) => l && !l.startsWith('#'));
    const violatedAt = lines.map((l) => checkInvariants(session.system, session.execute(l)!.cmd).length > 0);
    expect(violatedAt).toEqual([false, true]);
  });
});
