/**
 * `riscv-hotplug fuzz` as users run it: the same results with one job or
 * two, shards that add up to the campaign, shrunk scripts that `run --check`
 * replays to the same violation, and one-line errors for bad arguments.
 */
import { describe, expect, test } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../support/cli.js';

interface Summary {
  sequences: number;
  ops: number;
  failing: number;
  elapsedMs: number;
  checkedOpsPerSec: number;
  jobs: number;
  failures: Array<{ index: number; invariants: string[] }>;
  shrunk: Array<{ script: string; ops: number; from: number; replayStatus: number; lines: string[] }>;
  machine: string[];
}

const out = (): string => mkdtempSync(join(tmpdir(), 'rh-fuzz-'));

function fuzz(args: string[]): { status: number | null; summary: Summary; stderr: string } {
  const r = run(['fuzz', '--json', '--out', out(), ...args], undefined, 300_000);
  return { status: r.status, summary: JSON.parse(r.stdout) as Summary, stderr: r.stderr };
}

/** What must not depend on how the work was split: everything but time, jobs and where scripts went. */
function results(s: Summary): unknown {
  const { elapsedMs: _e, checkedOpsPerSec: _c, jobs: _j, ...rest } = s;
  return { ...rest, shrunk: rest.shrunk.map(({ script: _s, ...x }) => x) };
}

describe('riscv-hotplug fuzz', () => {
  // Seed 1's sequence 18 cuts a 1 GiB leaf on riscv 6.12 (finding F1).
  const campaign = ['--seed', '1', '--sequences', '20'];

  test('--jobs 2 gives the same results as --jobs 1, and a failure exits 4', () => {
    const one = fuzz([...campaign, '--jobs', '1']);
    const two = fuzz([...campaign, '--jobs', '2']);
    expect(one.status).toBe(4);
    expect(two.status).toBe(4);
    expect(one.summary.failing).toBeGreaterThan(0);
    expect(two.summary.jobs).toBe(2);
    expect(results(two.summary)).toEqual(results(one.summary));
  });

  test('shards are disjoint and add up to the campaign', () => {
    const whole = fuzz(campaign).summary;
    const parts = ['0/3', '1/3', '2/3'].map((s) => fuzz([...campaign, '--shard', s]).summary);
    const indices = parts.flatMap((p) => p.failures.map((f) => f.index));
    expect(new Set(indices).size).toBe(indices.length);
    expect(parts.reduce((n, p) => n + p.sequences, 0)).toBe(whole.sequences);
    expect(parts.reduce((n, p) => n + p.ops, 0)).toBe(whole.ops);
    expect(parts.flatMap((p) => p.failures).sort((a, b) => a.index - b.index)).toEqual(whole.failures);
  });

  test('the shrunk script replays through run --check to the same violation (exit 4)', () => {
    const { summary } = fuzz(campaign);
    const s = summary.shrunk[0]!;
    expect(s.ops).toBeLessThan(s.from);
    expect(s.lines).toHaveLength(2);
    const text = readFileSync(s.script, 'utf8');
    expect(text).toContain(`# replay: riscv-hotplug run --check --strategy riscv-6.12 -m 8G`);
    const r = run(['run', '--check', ...summary.machine, s.script]);
    expect(r.status).toBe(4);
    expect(r.stderr).toMatch(/\[linear-map-covers-present-memory\] remove_memory\(/);
  });

  test('a strategy without the bug runs clean, exits 0, and prints a plain summary when not on a terminal', () => {
    const r = run(['fuzz', '--strategy', 'riscv-split', '--sequences', '6', '--out', out()]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(
      /^fuzz: seed 1, strategy riscv-split, shard 0\/1: 6 sequences, \d+ operations, \d+ checked ops\/s/,
    );
    expect(r.stdout).toContain('no failures');
    expect(r.stderr).toBe('');
  });

  test.each([
    [['--shard', '2/2'], /^riscv-hotplug fuzz: --shard: shard 2 of 2 does not exist \(0 to 1\)$/, 2],
    [['--jobs', '0'], /^riscv-hotplug fuzz: --jobs: '0' is not a whole number from 1 to 256$/, 2],
    [['--seed', 'x'], /^riscv-hotplug fuzz: --seed: 'x' is not a whole number/, 2],
    [['--sequences'], /^riscv-hotplug fuzz: --sequences: requires an argument$/, 2],
    [['--check'], /^riscv-hotplug fuzz: unknown option '--check'/, 2],
    [['script.txt'], /^riscv-hotplug fuzz: takes no script/, 2],
    [['--strategy', 'nope'], /^riscv-hotplug: unknown strategy 'nope'/, 2],
    [['-m', '2G', '-append', 'mem=2G'], /^riscv-hotplug fuzz: the machine has no RAM to hot-add/, 2],
    [['-m', 'lots'], /^qemu-system-riscv64: /, 1],
  ])('fuzz %j: a one-line error', (args, message, status) => {
    const r = run(['fuzz', ...args]);
    expect(r.status).toBe(status);
    expect(r.stderr.split('\n')[0]).toMatch(message);
    expect(r.stdout).toBe('');
  });
});
