/**
 * `BENCH explore-interleavings`: interleavings explored per second on the
 * pgd-sync scenario with 2 preemptions (riscv-6.12, where the search is
 * complete and clean), each run replayed from the scenario's start.
 */
import { builtinScenario } from '../src/check/explore/builtins.js';
import { explore } from '../src/check/explore/explorer.js';
import { strategyByName } from '../src/kernel/arch/strategies.js';

export async function run(): Promise<void> {
  const spec = builtinScenario('pgd-sync')!;
  const arch = strategyByName('riscv-6.12')!;
  explore(spec, { arch, preemptions: 2, limit: 5 }); // warm-up
  const rates: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const r = explore(spec, { arch, preemptions: 2 });
    rates.push(r.interleavings / ((performance.now() - t0) / 1000));
  }
  rates.sort((a, b) => a - b);
  console.log(`BENCH explore-interleavings ${rates[1]!.toFixed(1)} /s`);
}
