/**
 * `BENCH explore-interleavings`: interleavings explored per second on the
 * pgd-sync scenario with 2 preemptions (riscv-6.12, where the search is
 * complete and clean). The machine is booted and set up once (reported as
 * explore-setup); every interleaving restores it from the snapshot and
 * replays its schedule, as `riscv-hotplug explore` does.
 */
import { builtinScenario } from '../src/check/explore/builtins.js';
import { ScenarioRuns, searchInterleavings } from '../src/check/explore/explorer.js';
import { strategyByName } from '../src/kernel/arch/strategies.js';

export async function run(): Promise<void> {
  const spec = builtinScenario('pgd-sync')!;
  const arch = strategyByName('riscv-6.12')!;
  const t0 = performance.now();
  const runs = new ScenarioRuns(spec, arch);
  const setupMs = performance.now() - t0;
  searchInterleavings((s) => runs.run(s), 2); // warm-up
  const rates: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    let n = 0;
    while (performance.now() - t < 1000) n += searchInterleavings((s) => runs.run(s), 2).interleavings;
    rates.push(n / ((performance.now() - t) / 1000));
  }
  rates.sort((a, b) => a - b);
  console.log(`BENCH explore-setup ${setupMs.toFixed(1)} ms`);
  console.log(`BENCH explore-interleavings ${rates[2]!.toFixed(0)} /s`);
}
