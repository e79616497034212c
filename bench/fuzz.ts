/**
 * Fuzzing throughput: random operations with every invariant checked after
 * each, on fuzz's default machine (8 GiB, Sv48, 6 GiB to hot-add), in one
 * thread. Each sequence starts from the booted machine, as the campaign's do,
 * so the figure is what `riscv-hotplug fuzz` achieves per core once it runs
 * (a campaign runs thousands of sequences: JIT warm-up is left out). Like the
 * other benchmarks, the figure is the best of several batches (this VM's
 * speed varies from second to second); the median is printed too.
 * Target: 5,000 ops/s.
 */
import { parseRunArgs } from '../src/session/options.js';
import { fuzzMachineFactory } from '../src/session/fuzz-machine.js';
import { runSequence, type SequenceSetup } from '../src/check/fuzz/runner.js';
import { FUZZ_MACHINE } from '../src/cli/fuzz.js';

/** Checked operations per second over sequences [first, first + count) of seed 1. */
function batch(setup: SequenceSetup, first: number, count: number): number {
  let ops = 0;
  const t0 = performance.now();
  for (let i = first; i < first + count; i++) ops += runSequence(setup, i).ops.length;
  return (ops * 1000) / (performance.now() - t0);
}

/** [best, median] checked operations per second of `batches` runs of sequences 0..`sequences` - 1. */
export function benchFuzz(sequences = 40, batches = 5, warmup = 150): [number, number] {
  const factory = fuzzMachineFactory({ machine: parseRunArgs(FUZZ_MACHINE), initrdSize: 0 });
  const setup = { factory, seed: 1, length: 24 };
  // Warm-up sequences (JIT compilation) from another part of the campaign.
  batch(setup, 1_000_000, warmup);
  const rates: number[] = [];
  // The same sequences each time: batches differ by the machine's speed, not by their operations.
  for (let b = 0; b < batches; b++) rates.push(batch(setup, 0, sequences));
  rates.sort((a, b) => a - b);
  return [rates[rates.length - 1]!, rates[Math.floor(rates.length / 2)]!];
}

export async function run(): Promise<void> {
  const [best, median] = benchFuzz();
  console.log(`BENCH fuzz-checked-ops ${best.toFixed(0)} ops/s`);
  console.log(`BENCH fuzz-checked-ops-median ${median.toFixed(0)} ops/s`);
}
