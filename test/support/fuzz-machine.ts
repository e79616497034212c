/** The fuzz tests' machine: fuzz's default options on the riscv-split strategy (no F1 to stop at). */
import { parseRunArgs } from '../../src/session/options.js';

export const splitFuzzMachine = parseRunArgs([
  '-m',
  '8G',
  '-append',
  'mem=2G no5lvl memory_hotplug.memmap_on_memory=1',
  '--strategy',
  'riscv-split',
]);
