/**
 * The search itself: with step actors only (no kernel code), the schedules
 * the explorer runs must be exactly the interleavings of the actors' steps
 * with at most N preemptions, each once — computed here independently by
 * enumerating every merge of the step sequences.
 */
import { describe, expect, test } from 'vitest';
import { GuestSystem } from '../../kernel/system.js';
import type { Actor, StepAnnounce } from './actor.js';
import { Runtime, type RunChecks } from './runtime.js';
import { searchInterleavings } from './explorer.js';

const g = new GuestSystem({ ramBytes: 1n << 30n, smp: 1, append: '', initrdSize: 0 });
const quiet: RunChecks = { step: () => undefined, end: () => undefined };

function stepper(name: string, n: number, log: string[]): Actor {
  return {
    kind: 'steps',
    name,
    cpu: 0,
    text: name,
    *steps(): Generator<StepAnnounce, void, void> {
      for (let i = 1; i <= n; i++) {
        yield { text: `${name}${i}` };
        log.push(`${name}${i}`);
      }
    },
  };
}

/** Every merge of the actors' step sequences, as step-name lists, with its preemption count. */
function merges(lengths: Record<string, number>): Array<{ trace: string; preemptions: number }> {
  const names = Object.keys(lengths);
  const out: Array<{ trace: string; preemptions: number }> = [];
  const go = (done: Record<string, number>, trace: string[], last: string | undefined, pre: number): void => {
    const open = names.filter((n) => done[n]! < lengths[n]!);
    if (open.length === 0) {
      out.push({ trace: trace.join(' '), preemptions: pre });
      return;
    }
    for (const n of open) {
      // Leaving an actor that still had steps is a preemption.
      const p = last !== undefined && last !== n && done[last]! < lengths[last]! ? 1 : 0;
      go({ ...done, [n]: done[n]! + 1 }, [...trace, `${n}${done[n]! + 1}`], n, pre + p);
    }
  };
  go(Object.fromEntries(names.map((n) => [n, 0])), [], undefined, 0);
  return out;
}

/** The explorer's enumeration over a scenario of step actors. */
function explored(lengths: Record<string, number>, bound: number): string[] {
  const traces: string[] = [];
  searchInterleavings((schedule) => {
    const log: string[] = [];
    const actors = Object.entries(lengths).map(([n, len]) => stepper(n, len, log));
    const run = new Runtime(g.kernel, actors, schedule, quiet).run();
    traces.push(log.join(' '));
    return run;
  }, bound);
  return traces;
}

describe('iterative context bounding over step actors', () => {
  const cases: Array<Record<string, number>> = [
    { a: 2, b: 2 },
    { a: 3, b: 1, c: 2 },
  ];
  for (const lengths of cases) {
    for (const bound of [0, 1, 2, 3]) {
      test(`${JSON.stringify(lengths)} with at most ${bound} preemptions`, () => {
        const want = merges(lengths)
          .filter((m) => m.preemptions <= bound)
          .map((m) => m.trace)
          .sort();
        const got = explored(lengths, bound).sort();
        expect(got).toEqual(want);
      });
    }
  }
});
