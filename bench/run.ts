/**
 * `npm run bench`: every benchmark, each printing `BENCH <name> <value> <unit>`
 * lines. Targets (2-core machine): mmu-walk >= 30 M walks/s,
 * physmem-bytes-per-frame <= 4608 B, boot-64g-sv57 <= 50 ms,
 * hotplug-1t-{sv48,sv57} <= 20 ms with <= 64 MiB extra heap, fuzz-checked-ops >= 5000 ops/s,
 * snapshot-restore <= 200 us; explore-interleavings (pgd-sync, 2 preemptions) is reported, no target.
 */
import { run as mmuWalk } from './mmu-walk.js';
import { run as physmem } from './physmem.js';
import { run as hotplug } from './hotplug.js';
import { run as exploreBench } from './explore.js';
import { run as fuzz } from './fuzz.js';
import { run as snapshot } from './snapshot.js';

async function main(): Promise<void> {
  const only = process.argv[2];
  const all: Array<[string, () => Promise<void>]> = [
    ['mmu-walk', mmuWalk],
    ['physmem', physmem],
    ['hotplug', hotplug],
    ['explore', exploreBench],
    ['fuzz', fuzz],
    ['snapshot', snapshot],
  ];
  const gc = (globalThis as { gc?: () => void }).gc;
  for (const [name, fn] of all) {
    if (only && only !== name) continue;
    // Each benchmark starts from a collected heap: the garbage of the one before is not its cost.
    gc?.();
    await fn();
  }
}

await main();
