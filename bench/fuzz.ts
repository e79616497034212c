/**
 * Fuzzing throughput: random operations with every invariant checked after
 * each, on fuzz's default machine (8 GiB, Sv48, 6 GiB to hot-add), in one
 * thread. Each sequence boots its machine, as the campaign does, so the
 * figure is what `riscv-hotplug fuzz` achieves per core. Target: 5,000 ops/s.
 */
import { parseRunArgs } from '../src/session/options.js';
import { fuzzMachineFactory } from '../src/session/fuzz-machine.js';
import { runSequence } from '../src/check/fuzz/runner.js';
import { FUZZ_MACHINE } from '../src/cli/fuzz.js';

/** Checked operations per second over `sequences` sequences of seed 1 (after a warm-up). */
export function benchFuzz(sequences = 40): number {
  const factory = fuzzMachineFactory({ machine: parseRunArgs(FUZZ_MACHINE), initrdSize: 0 });
  const setup = { factory, seed: 1, length: 24 };
  // The first sequences also pay for JIT compilation.
  for (let i = 0; i < 3; i++) runSequence(setup, 1_000_000 + i);
  let ops = 0;
  const t0 = performance.now();
  for (let i = 0; i < sequences; i++) ops += runSequence(setup, i).ops.length;
  return (ops * 1000) / (performance.now() - t0);
}

export async function run(): Promise<void> {
  console.log(`BENCH fuzz-checked-ops ${benchFuzz().toFixed(0)} ops/s`);
}
