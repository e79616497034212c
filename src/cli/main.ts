/**
 * riscv-hotplug's command line: `run` a script, `demo`, or (no arguments) an
 * interactive session. Every error is one readable line and a non-zero exit.
 */
import { parseRunArgs, UsageError } from '../session/options.js';
import { type LineResult } from '../session/session.js';
import { openSession, readScript } from './files.js';
import { KernelError } from '../kernel/errno.js';
import { explainViolations } from '../check/invariants.js';
import { InvariantChecker } from '../check/incremental.js';
import { writeSysroot } from './sysroot.js';
import { interactive } from './interactive.js';
import { runDemo } from './demo.js';
import { runCompare } from './compare.js';
import { mountCommand } from './mount.js';
import { webCommand } from './web.js';
import { runExplore } from './explore.js';
import { fuzzCommand } from './fuzz.js';

const HELP = `riscv-hotplug: Linux 6.12 memory hot(un)plug on a RISC-V QEMU virt machine, modelled bit-exactly

usage:
  riscv-hotplug                     interactive guest shell on the default machine
  riscv-hotplug run [OPTIONS] SCRIPT|-
  riscv-hotplug compare [--strategy A,B,...] [OPTIONS] SCRIPT|-
                                    the script under several strategies, side by side
  riscv-hotplug explore NAME|FILE [--strategy S] [--preemptions N] [--json] [--save FILE]
                                    every interleaving of a concurrency scenario within N preemptions;
                                    --list names the built-in scenarios, --replay FILE replays one
  riscv-hotplug fuzz [--strategy S] [--seed N] [--sequences N] [--length N] [--shard I/N] [--jobs J]
                    [--out DIR] [--json] [MACHINE OPTIONS]
                                    random hot(un)plug sequences, every invariant checked after each
                                    operation; failures shrunk to scripts for run --check (docs/fuzz.md)
  riscv-hotplug demo                the built-in scenario, explained
  riscv-hotplug mount DIR [OPTIONS] the guest's /sys and /proc live under DIR (FUSE), for real tools;
                                    "(qemu) CMD" lines on standard input, Ctrl-C or quit unmounts
  riscv-hotplug web [--port N]      serve the browser view on 127.0.0.1 (npm run web:build first)
  riscv-hotplug --help | --version

OPTIONS (as QEMU's): -m SIZE[,slots=N,maxmem=SIZE]  -smp N  -append "KERNEL CMDLINE"
  -initrd FILE  -object memory-backend-ram,id=ID,size=SIZE  -device virtio-mem-pci,...
  -kernel PROFILE (a kernel build: linux-6.12.117-virt-zdev for ZONE_DEVICE, or a profile file)
model options: --json (one JSON object per command)  --check (invariants after each command)
  --sysroot DIR (mirror /sys and /proc for lsmem --sysroot DIR)
  --strategy NAME (the architecture code: riscv-6.12 (default), riscv-v1-2023, riscv-no-prealloc,
  arm64-6.12, arm64-7.1, x86-6.12, riscv-split, riscv-reject)
  --fail-alloc N (the N-th page allocation after boot fails)  --fail-alloc-after N (all after the first N fail)

script lines: guest shell commands (echo [-n] TEXT [> FILE], cat, ls, grep, head, tail, wc, sort,
  cd, pwd, dmesg; pipes, ; && ||, for loops), the model's memhog, workload, ptwalk and race, or
  "(qemu) COMMAND" for the QEMU monitor; # starts a comment.
exit status: 0 ran to the end, 1 QEMU refused the options, 2 usage error, 3 the guest crashed,
  4 --check or explore found a violation (fuzz: found a failure), 5 explore stopped at --limit,
  70 internal error.
`;

function printResult(r: LineResult, json: boolean): void {
  if (json) {
    process.stdout.write(
      JSON.stringify({ cmd: r.cmd, stdout: r.stdout, stderr: r.stderr, errno: r.errno, kmsg: r.kmsg }) + '\n',
    );
    return;
  }
  for (const l of r.kmsg) process.stderr.write(l + '\n');
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
}

async function runCommand(argv: string[]): Promise<number> {
  const opts = parseRunArgs(argv);
  const text = readScript(opts.script);
  const session = openSession(opts);
  for (const n of session.notes) process.stderr.write(n + '\n');
  if (opts.failAlloc) session.failAllocations(opts.failAlloc);
  let status = 0;
  // Checks after every line re-examine only what the line changed (the same violations as checkInvariants).
  const checker = opts.check ? new InvariantChecker(session.system) : undefined;
  const lines = text.split('\n');
  const progress = new Progress(lines.length, opts.json);
  for (const [i, line] of lines.entries()) {
    progress.update(i);
    const r = session.execute(line);
    if (!r) continue;
    printResult(r, opts.json);
    if (session.quit) break;
    if (session.dead) status = 3;
    if (checker && !session.dead) {
      const v = checker.check(r.cmd);
      if (v.length) {
        progress.done();
        const causes = explainViolations(session.system.kernel, v);
        if (opts.json)
          process.stdout.write(JSON.stringify({ check: { line: i + 1, causes, violations: v } }) + '\n');
        process.stderr.write(
          `riscv-hotplug: --check: ${v.length} invariant violation(s) after line ${i + 1}, ${causes.length} cause(s):\n`,
        );
        for (const c of causes) process.stderr.write(`  [${c.invariant}] ${c.text}\n`);
        if (opts.sysroot) writeSysroot(session.system.vfs, opts.sysroot);
        return 4;
      }
    }
  }
  progress.done();
  if (opts.sysroot) writeSysroot(session.system.vfs, opts.sysroot);
  return status;
}

/** A progress line on a terminal for long scripts; silent when output is piped. */
class Progress {
  private readonly on: boolean;
  private last = 0;

  constructor(
    private readonly total: number,
    json: boolean,
  ) {
    this.on = !json && process.stderr.isTTY === true && total > 200;
  }

  update(i: number): void {
    if (!this.on) return;
    const now = Date.now();
    if (now - this.last < 200) return;
    this.last = now;
    process.stderr.write(`\r[${i}/${this.total} lines]`);
  }

  done(): void {
    if (this.on) process.stderr.write('\r\x1b[K');
  }
}

export async function main(argv: string[]): Promise<number> {
  try {
    const [cmd, ...rest] = argv;
    if (cmd === '--help' || cmd === '-h' || cmd === 'help') {
      process.stdout.write(HELP);
      return 0;
    }
    if (cmd === '--version') {
      process.stdout.write('riscv-hotplug 0.1.0 (models Linux 6.12.117 on QEMU virt)\n');
      return 0;
    }
    if (cmd === 'run') return await runCommand(rest);
    if (cmd === 'compare') return runCompare(rest);
    if (cmd === 'explore') return runExplore(rest, (s) => process.stdout.write(s));
    if (cmd === 'demo') return runDemo(process.stdout);
    if (cmd === 'fuzz') return await fuzzCommand(rest);
    if (cmd === 'mount') return await mountCommand(rest);
    if (cmd === 'web') return await webCommand(rest, process.stdout);
    if (cmd === undefined || cmd.startsWith('-')) {
      const opts = parseRunArgs(argv);
      if (opts.script !== undefined)
        throw new UsageError(
          `riscv-hotplug: to run a script use: riscv-hotplug run [OPTIONS] ${opts.script}`,
        );
      return await interactive(
        opts,
        { input: process.stdin, output: process.stdout, terminal: process.stdin.isTTY === true },
        (s) => {
          if (opts.sysroot) writeSysroot(s.system.vfs, opts.sysroot);
        },
      );
    }
    throw new UsageError(`riscv-hotplug: unknown command '${cmd ?? ''}' (see riscv-hotplug --help)`);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(e.message + '\n');
      return e.status;
    }
    if (e instanceof KernelError) {
      process.stderr.write(`riscv-hotplug: ${e.message}\n`);
      return 1;
    }
    const msg = e instanceof Error ? e.message : String(e);
    process.stderr.write(`riscv-hotplug: internal error: ${msg}\n`);
    return 70;
  }
}
