/**
 * `riscv-hotplug explore NAME|FILE [--strategy S] [--preemptions N] [--json] [--save FILE]`,
 * `riscv-hotplug explore --list` and `riscv-hotplug explore --replay FILE`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { UsageError } from '../session/options.js';
import { DEFAULT_STRATEGY, STRATEGIES, strategyByName } from '../kernel/arch/strategies.js';
import { BUILTIN_SCENARIOS, builtinScenario } from '../check/explore/builtins.js';
import { explore, runSchedule } from '../check/explore/explorer.js';
import { formatResult, formatTimeline } from '../check/explore/timeline.js';
import { parseReplay, replayScript } from '../check/explore/replay.js';
import { ScenarioError, validateScenario, type ScenarioSpec } from '../check/explore/scenario.js';
import { ScheduleMismatch } from '../check/explore/runtime.js';

const USAGE =
  'usage: riscv-hotplug explore NAME|FILE [--strategy S] [--preemptions N] [--limit N] [--json] [--save FILE]\n' +
  '       riscv-hotplug explore --list | --replay FILE';

function readText(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`riscv-hotplug explore: cannot read ${what} ${file}${code ? ` (${code})` : ''}`);
  }
}

function scenarioFrom(arg: string): ScenarioSpec {
  const builtin = builtinScenario(arg);
  if (builtin) return builtin;
  if (!arg.endsWith('.json'))
    throw new UsageError(
      `riscv-hotplug explore: no scenario '${arg}' (built-in: ${BUILTIN_SCENARIOS.map((s) => s.name).join(', ')}; or a .json file)`,
    );
  const text = readText(arg, 'scenario');
  try {
    return validateScenario(JSON.parse(text));
  } catch (e) {
    throw new UsageError(`riscv-hotplug explore: ${arg}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function strategyOf(name: string): NonNullable<ReturnType<typeof strategyByName>> {
  const arch = strategyByName(name);
  if (!arch)
    throw new UsageError(`riscv-hotplug explore: unknown strategy '${name}' (one of: ${[...STRATEGIES.keys()].join(', ')})`);
  return arch;
}

function intArg(flag: string, v: string | undefined, min: number): number {
  if (v === undefined || !/^\d+$/.test(v) || Number(v) < min)
    throw new UsageError(`riscv-hotplug explore: ${flag} needs an integer >= ${min}`);
  return Number(v);
}

export function runExplore(argv: string[], out: (s: string) => void): number {
  let strategy = DEFAULT_STRATEGY;
  let preemptions = 2;
  let limit: number | undefined;
  let json = false;
  let save: string | undefined;
  let replay: string | undefined;
  let list = false;
  const names: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--strategy') strategy = argv[++i] ?? '';
    else if (a === '--preemptions') preemptions = intArg(a, argv[++i], 0);
    else if (a === '--limit') limit = intArg(a, argv[++i], 1);
    else if (a === '--json') json = true;
    else if (a === '--save') save = argv[++i] ?? '';
    else if (a === '--replay') replay = argv[++i] ?? '';
    else if (a === '--list') list = true;
    else if (a.startsWith('-')) throw new UsageError(`riscv-hotplug explore: unknown option ${a}\n${USAGE}`);
    else names.push(a);
  }
  if (list) {
    for (const s of BUILTIN_SCENARIOS) out(`${s.name.padEnd(24)} ${s.summary}\n`);
    return 0;
  }
  if (save === '') throw new UsageError('riscv-hotplug explore: --save needs a file name');
  if (replay !== undefined) {
    if (replay === '' || names.length > 0) throw new UsageError(USAGE);
    let r;
    try {
      r = parseReplay(readText(replay, 'replay script'));
    } catch (e) {
      if (e instanceof ScenarioError) throw new UsageError(`riscv-hotplug explore: ${replay}: ${e.message}`);
      throw e;
    }
    let run;
    try {
      run = runSchedule(r.scenario, strategyOf(r.strategy), r.schedule);
    } catch (e) {
      if (e instanceof ScheduleMismatch || e instanceof ScenarioError)
        throw new UsageError(`riscv-hotplug explore: ${replay}: ${e.message}`);
      throw e;
    }
    if (json) out(JSON.stringify({ violation: run.violation ?? null, timeline: run.timeline }) + '\n');
    else {
      out(formatTimeline(run.timeline).join('\n') + '\n');
      out(run.violation ? `VIOLATION ${run.violation.invariant}: ${run.violation.detail}\n` : 'no invariant broken\n');
    }
    return run.violation ? 4 : 0;
  }
  if (names.length !== 1) throw new UsageError(USAGE);
  const spec = scenarioFrom(names[0]!);
  let result;
  try {
    result = explore(spec, { arch: strategyOf(strategy), preemptions, ...(limit ? { limit } : {}) });
  } catch (e) {
    if (e instanceof ScenarioError) throw new UsageError(`riscv-hotplug explore: ${spec.name}: ${e.message}`);
    throw e;
  }
  const script = result.violation ? replayScript(spec, strategy, result.violation.schedule) : undefined;
  if (script && save) {
    try {
      writeFileSync(save, script);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new UsageError(`riscv-hotplug explore: cannot write ${save}${code ? ` (${code})` : ''}`);
    }
  }
  if (json) {
    const { violation, ...rest } = result;
    out(
      JSON.stringify({
        ...rest,
        violation: violation
          ? { ...violation.run.violation, schedule: violation.schedule, timeline: violation.run.timeline }
          : null,
      }) + '\n',
    );
  } else {
    out(formatResult(result));
    if (script)
      out(
        save
          ? `replay: riscv-hotplug explore --replay ${save}\n`
          : 'save this interleaving with --save FILE, replay it with riscv-hotplug explore --replay FILE\n',
      );
  }
  if (result.violation) return 4;
  return result.complete ? 0 : 5;
}
