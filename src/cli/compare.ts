/** `riscv-hotplug compare [--strategy A,B,...] [QEMU options] [--json] SCRIPT`. */
import { parseRunArgs, UsageError } from '../session/options.js';
import { compareStrategies, formatComparison } from '../session/compare.js';
import { STRATEGIES } from '../kernel/arch/strategies.js';
import { readScript, initrdSizeOf } from './files.js';

export function runCompare(argv: string[]): number {
  const rest: string[] = [];
  let names = [...STRATEGIES.keys()];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--strategy') {
      const v = argv[++i];
      if (v === undefined)
        throw new UsageError('riscv-hotplug compare: --strategy needs a list: NAME[,NAME...]');
      names = v.split(',').filter((n) => n !== '');
      const bad = names.find((n) => !STRATEGIES.has(n));
      if (bad !== undefined || names.length === 0)
        throw new UsageError(
          `riscv-hotplug compare: unknown strategy '${bad ?? v}' (one of: ${[...STRATEGIES.keys()].join(', ')})`,
        );
    } else rest.push(argv[i]!);
  }
  const opts = parseRunArgs(rest);
  if (opts.check || opts.sysroot !== undefined)
    throw new UsageError(
      'riscv-hotplug compare: --check and --sysroot belong to run (compare always checks)',
    );
  const text = readScript(opts.script, 'compare');
  const result = compareStrategies(opts, names, text, initrdSizeOf(opts));
  process.stdout.write(opts.json ? JSON.stringify(result) + '\n' : formatComparison(result));
  return 0;
}
