/**
 * `riscv-hotplug fuzz`: a campaign of random hot(un)plug sequences with every
 * invariant checked after each operation; failing sequences shrunk to minimal
 * scripts `riscv-hotplug run --check` replays. `--shard I/N` runs a disjoint,
 * reproducible part (one per machine of a batch system), `--jobs J` spreads a
 * process's part over worker threads; the results do not depend on either.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import cliProgress from 'cli-progress';
import { parseRunArgs, UsageError, type RunOptions } from '../session/options.js';
import { fuzzMachineFactory, type FuzzMachineSpec } from '../session/fuzz-machine.js';
import {
  runFuzzTask,
  type FuzzJob,
  type FuzzMessage,
  type FuzzTask,
  type ShrunkSequence,
} from '../session/fuzz-tasks.js';
import { hotplugWindow } from '../check/fuzz/machine.js';
import { parseShard, shardIndices, splitForJobs, tally, type Shard } from '../check/fuzz/campaign.js';
import { signature, type SequenceResult } from '../check/fuzz/runner.js';
import { failureScript, replayStatus, shellWord } from '../check/fuzz/script.js';
import { MAX_SEED } from '../check/fuzz/rng.js';
import { opLine } from '../check/fuzz/ops.js';
import { initrdSizeOf, kernelProfileFile } from './files.js';

/** The machine fuzz boots unless told otherwise: 8 GiB, Sv48, 6 GiB of it to hot-add. */
export const FUZZ_MACHINE = [
  '-m',
  '8G',
  '-smp',
  '2',
  '-append',
  'mem=2G no5lvl memory_hotplug.memmap_on_memory=1',
];

export interface FuzzOptions {
  seed: number;
  sequences: number;
  length: number;
  shard: Shard;
  jobs: number;
  out: string;
  json: boolean;
  machine: RunOptions;
  /** The options `run` needs for the same machine (written into each script's replay line). */
  machineArgs: string[];
}

const FUZZ_USAGE =
  'usage: riscv-hotplug fuzz [--strategy S] [--seed N] [--sequences N] [--length N] [--shard I/N] [--jobs J] [--out DIR] [--json] [MACHINE OPTIONS]';

function count(flag: string, text: string | undefined, min: number, max: number): number {
  if (text === undefined) throw new UsageError(`riscv-hotplug fuzz: ${flag}: requires an argument`);
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < min || n > max)
    throw new UsageError(
      `riscv-hotplug fuzz: ${flag}: '${text}' is not a whole number from ${min} to ${max === MAX_SEED ? '2^53-1' : max}`,
    );
  return n;
}

/** The machine options `run` takes (QEMU's and --strategy); the rest are fuzz's own or refused. */
const MACHINE_FLAGS = new Set([
  '-m',
  '--m',
  '-smp',
  '--smp',
  '-append',
  '--append',
  '-initrd',
  '--initrd',
  '-kernel',
  '-M',
  '-machine',
  '--strategy',
]);

export function parseFuzzArgs(argv: string[]): FuzzOptions {
  const o = {
    seed: 1,
    sequences: 100,
    length: 24,
    shard: { index: 0, count: 1 },
    jobs: 1,
    out: 'fuzz-out',
    json: false,
  };
  const machineArgv: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    switch (a) {
      case '--seed':
        o.seed = count(a, argv[++i], 0, MAX_SEED);
        break;
      case '--sequences':
        o.sequences = count(a, argv[++i], 1, 10_000_000);
        break;
      case '--length':
        o.length = count(a, argv[++i], 1, 10_000);
        break;
      case '--jobs':
        o.jobs = count(a, argv[++i], 1, 256);
        break;
      case '--shard': {
        const v = argv[++i];
        if (v === undefined) throw new UsageError('riscv-hotplug fuzz: --shard: requires an argument (I/N)');
        const s = parseShard(v);
        if (typeof s === 'string') throw new UsageError(`riscv-hotplug fuzz: ${s}`);
        o.shard = s;
        break;
      }
      case '--out': {
        const v = argv[++i];
        if (v === undefined || v === '')
          throw new UsageError('riscv-hotplug fuzz: --out: requires a directory');
        o.out = v;
        break;
      }
      case '--json':
        o.json = true;
        break;
      case '-object':
      case '--object':
      case '-device':
      case '--device':
        throw new UsageError(
          `riscv-hotplug fuzz: ${a}: memory devices are not fuzzed yet (fuzz hot-adds RAM through the test driver)`,
        );
      default: {
        if (MACHINE_FLAGS.has(a)) {
          const v = argv[++i];
          if (v === undefined) throw new UsageError(`riscv-hotplug fuzz: ${a}: requires an argument`);
          machineArgv.push(a, v);
          break;
        }
        if (a.startsWith('-'))
          throw new UsageError(`riscv-hotplug fuzz: unknown option '${a}' (${FUZZ_USAGE})`);
        throw new UsageError(
          `riscv-hotplug fuzz: takes no script ('${a}'): it writes the failing ones itself`,
        );
      }
    }
  }
  // Fuzz's machine first, so what the user gives replaces it option by option (-append as a whole).
  const machineArgs = [...FUZZ_MACHINE, ...machineArgv];
  const machine = parseRunArgs(machineArgs);
  return { ...o, machine, machineArgs: canonicalArgs(machine) };
}

/** The run options that make `machine`: each once, as the last occurrence gave it. */
function canonicalArgs(m: RunOptions): string[] {
  const args = ['--strategy', m.strategy, '-m', m.memText, '-smp', m.smpText, '-append', m.append];
  if (m.kernel !== undefined) args.push('-kernel', m.kernel);
  if (m.initrd !== undefined) args.push('-initrd', m.initrd);
  return args;
}

/** Runs tasks in worker threads, feeding every message to `onMessage`; resolves when all have ended. */
function inWorkers(job: FuzzJob, tasks: FuzzTask[], onMessage: (m: FuzzMessage) => void): Promise<void> {
  const url = new URL('./fuzz-worker.js', import.meta.url);
  return Promise.all(
    tasks.map(
      (task) =>
        new Promise<void>((resolve, reject) => {
          const w = new Worker(url, { workerData: { job, task } });
          w.on('message', onMessage);
          w.on('error', reject);
          w.on('exit', (code) =>
            code === 0 ? resolve() : reject(new Error(`a fuzz worker exited with status ${code}`)),
          );
        }),
    ),
  ).then(() => undefined);
}

/** Runs tasks here (one job) or in worker threads (several); the same results either way. */
async function runTasks(
  job: FuzzJob,
  tasks: FuzzTask[],
  jobs: number,
  onMessage: (m: FuzzMessage) => void,
): Promise<void> {
  if (jobs === 1) {
    for (const t of tasks) runFuzzTask(job, t, onMessage);
    return;
  }
  await inWorkers(job, tasks, onMessage);
}

/** The progress line: on a terminal only, redrawn at most a few times a second. */
class Progress {
  private readonly bar: cliProgress.SingleBar | undefined;

  constructor(on: boolean, total: number) {
    if (!on) return;
    this.bar = new cliProgress.SingleBar(
      {
        stream: process.stderr,
        format:
          'fuzz [{bar}] {value}/{total} sequences | {ops} ops | {failing} failing | {rate} ops/s | {phase}',
        barsize: 24,
        fps: 5,
        hideCursor: false, // an interrupted campaign must not leave the terminal without a cursor
        clearOnComplete: true,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(total, 0, { ops: 0, failing: 0, rate: 0, phase: 'running' });
  }

  update(done: number, ops: number, failing: number, rate: number, phase: string): void {
    this.bar?.update(done, { ops, failing, rate: Math.round(rate), phase });
  }

  stop(): void {
    this.bar?.stop();
  }
}

interface ShrunkReport extends ShrunkSequence {
  signature: string;
  path: string;
  replayStatus: number;
}

export async function fuzzCommand(argv: string[]): Promise<number> {
  const o = parseFuzzArgs(argv);
  const spec: FuzzMachineSpec = {
    machine: o.machine,
    initrdSize: initrdSizeOf(o.machine),
    profile: kernelProfileFile(o.machine.kernel),
  };
  // Boot once here: QEMU's refusals and a machine with nothing to hot-add are said before any work.
  const probe = fuzzMachineFactory(spec)();
  if (!hotplugWindow(probe.system))
    throw new UsageError(
      'riscv-hotplug fuzz: the machine has no RAM to hot-add: give -m more than the mem= of -append (e.g. -m 8G -append mem=2G)',
    );
  const job: FuzzJob = { spec, seed: o.seed, length: o.length };
  const indices = shardIndices(o.sequences, o.shard);
  const jobs = Math.min(o.jobs, Math.max(1, indices.length));
  const progress = new Progress(!o.json && process.stderr.isTTY === true, indices.length);

  const results: SequenceResult[] = [];
  let ops = 0;
  let failing = 0;
  const t0 = performance.now();
  await runTasks(
    job,
    splitForJobs(indices, jobs).map((part) => ({ kind: 'run', indices: part })),
    jobs,
    (m) => {
      if (m.type !== 'result') return;
      results.push(m.result);
      ops += m.result.ops.length;
      if (m.result.finding) failing++;
      progress.update(results.length, ops, failing, (ops * 1000) / (performance.now() - t0), 'running');
    },
  );
  const runMs = performance.now() - t0;
  const t = tally(results);

  // One shrink per kind of failure: the lowest-index sequence that shows it.
  const shrunk: ShrunkSequence[] = [];
  if (t.representatives.length) {
    progress.update(
      results.length,
      ops,
      failing,
      (ops * 1000) / runMs,
      `shrinking ${t.representatives.length}`,
    );
    await runTasks(
      job,
      splitForJobs(
        t.representatives.map((_, k) => k),
        Math.min(jobs, t.representatives.length),
      ).map((ks) => ({ kind: 'shrink', failures: ks.map((k) => t.representatives[k]!) })),
      Math.min(jobs, t.representatives.length),
      (m) => {
        if (m.type === 'shrunk') shrunk.push(m.shrunk);
      },
    );
  }
  progress.stop();
  shrunk.sort((a, b) => a.index - b.index);
  const reports = writeScripts(o, shrunk);
  const summary = {
    seed: o.seed,
    strategy: o.machine.strategy,
    machine: o.machineArgs,
    shard: `${o.shard.index}/${o.shard.count}`,
    jobs,
    length: o.length,
    sequences: t.sequences,
    ops: t.ops,
    elapsedMs: Math.round(runMs),
    checkedOpsPerSec: Math.round((t.ops * 1000) / runMs),
    failing: t.failing,
    bySignature: t.bySignature,
    byInvariant: t.byInvariant,
    failures: results
      .filter((r) => r.finding)
      .sort((a, b) => a.index - b.index)
      .map((r) => ({
        index: r.index,
        step: r.finding!.step,
        invariants: r.finding!.invariants,
        line: opLine(r.ops[r.finding!.step]!),
      })),
    shrunk: reports.map((r) => ({
      index: r.index,
      signature: r.signature,
      from: r.originalLength,
      ops: r.ops.length,
      tries: r.tries,
      minimal: !r.exhausted,
      script: r.path,
      replayStatus: r.replayStatus,
      lines: r.ops.map(opLine),
    })),
  };
  if (o.json) process.stdout.write(JSON.stringify(summary) + '\n');
  else process.stdout.write(textSummary(summary, reports, o));
  return t.failing ? 4 : 0;
}

function writeScripts(o: FuzzOptions, shrunk: ShrunkSequence[]): ShrunkReport[] {
  if (!shrunk.length) return [];
  try {
    mkdirSync(o.out, { recursive: true });
  } catch (e) {
    throw new UsageError(
      `riscv-hotplug fuzz: --out ${o.out}: cannot create it (${(e as NodeJS.ErrnoException).code})`,
    );
  }
  return shrunk.map((s) => {
    const path = join(o.out, `fuzz-seed${o.seed}-seq${s.index}.txt`);
    const text = failureScript(
      s.ops,
      s.finding,
      {
        seed: o.seed,
        index: s.index,
        strategy: o.machine.strategy,
        machineArgs: o.machineArgs,
        originalLength: s.originalLength,
      },
      path,
    );
    writeFileSync(path, text);
    return { ...s, signature: signature(s.finding), path, replayStatus: replayStatus(s.finding) };
  });
}

interface Summary {
  seed: number;
  strategy: string;
  shard: string;
  jobs: number;
  sequences: number;
  ops: number;
  elapsedMs: number;
  checkedOpsPerSec: number;
  failing: number;
  bySignature: Record<string, number>;
  byInvariant: Record<string, number>;
  failures: Array<{ index: number; invariants: string[] }>;
}

function textSummary(s: Summary, reports: ShrunkReport[], o: FuzzOptions): string {
  const out: string[] = [];
  out.push(
    `fuzz: seed ${s.seed}, strategy ${s.strategy}, shard ${s.shard}: ${s.sequences} sequences, ${s.ops} operations, ` +
      `${s.checkedOpsPerSec} checked ops/s (${(s.elapsedMs / 1000).toFixed(1)} s, ${s.jobs} job${s.jobs > 1 ? 's' : ''})`,
  );
  if (!s.failing) {
    out.push('no failures: every invariant held after every operation');
    return out.join('\n') + '\n';
  }
  out.push(`failing sequences: ${s.failing} of ${s.sequences}`);
  const w = Math.max(...Object.keys(s.byInvariant).map((k) => k.length));
  out.push('by invariant:');
  for (const [inv, n] of Object.entries(s.byInvariant).sort())
    out.push(`  ${inv.padEnd(w)}  ${n} sequence${n > 1 ? 's' : ''}`);
  out.push('shrunk (one per kind of failure):');
  for (const r of reports) {
    const same = s.bySignature[r.signature] ?? 1;
    out.push(
      `  ${r.path}: ${r.signature}, ${r.ops.length} operation${r.ops.length > 1 ? 's' : ''} (sequence ${r.index}, from ${r.originalLength}` +
        `${r.exhausted ? '; shrink budget ran out' : ''}; ${same} sequence${same > 1 ? 's' : ''} failed this way)`,
    );
    for (const l of r.ops.map(opLine)) out.push(`      ${l}`);
  }
  out.push(
    `replay: riscv-hotplug run --check ${o.machineArgs.map(shellWord).join(' ')} SCRIPT (exit status ${[...new Set(reports.map((r) => r.replayStatus))].join('/')})`,
  );
  return out.join('\n') + '\n';
}
