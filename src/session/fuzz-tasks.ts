/**
 * The work of a fuzz campaign in units a process or a worker thread runs:
 * run sequences by index, shrink failing ones. Pure functions of a
 * structured-cloneable job, so `--jobs 1` and `--jobs J` compute the same.
 */
import { runOps, runSequence, type SequenceResult } from '../check/fuzz/runner.js';
import { shrink, DEFAULT_SHRINK_BUDGET, type ShrinkResult } from '../check/fuzz/shrink.js';
import { fuzzMachineFactory, type FuzzMachineSpec } from './fuzz-machine.js';

export interface FuzzJob {
  spec: FuzzMachineSpec;
  seed: number;
  /** Operations per sequence. */
  length: number;
  /** Candidate runs per shrink at most. */
  shrinkBudget?: number;
}

export type FuzzTask = { kind: 'run'; indices: number[] } | { kind: 'shrink'; failures: SequenceResult[] };

export interface ShrunkSequence extends ShrinkResult {
  index: number;
  originalLength: number;
}

export type FuzzMessage =
  { type: 'result'; result: SequenceResult } | { type: 'shrunk'; shrunk: ShrunkSequence };

/** Runs a task, reporting each unit as it finishes (the progress line counts them). */
export function runFuzzTask(job: FuzzJob, task: FuzzTask, report: (m: FuzzMessage) => void): void {
  const factory = fuzzMachineFactory(job.spec);
  if (task.kind === 'run') {
    for (const index of task.indices)
      report({ type: 'result', result: runSequence({ factory, seed: job.seed, length: job.length }, index) });
    return;
  }
  for (const f of task.failures) {
    if (!f.finding) continue;
    const s = shrink(
      f.ops,
      f.finding,
      (ops) => runOps(factory, ops),
      job.shrinkBudget ?? DEFAULT_SHRINK_BUDGET,
    );
    report({ type: 'shrunk', shrunk: { ...s, index: f.index, originalLength: f.ops.length } });
  }
}
