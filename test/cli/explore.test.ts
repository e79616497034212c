/** `riscv-hotplug explore` as a user runs it: list, explore, save, replay, own scenario files, errors. */
import { describe, expect, test } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'rh-explore-'));

describe('riscv-hotplug explore', () => {
  test('--list names every built-in scenario', () => {
    const r = run(['explore', '--list']);
    expect(r.status).toBe(0);
    for (const n of ['pgd-sync', 'vmalloc-vmemmap', 'free-before-flush', 'ptdump-remove', 'split-remove'])
      expect(r.stdout).toMatch(new RegExp(`^${n} `, 'm'));
  });

  test('a clean complete search exits 0 and says how much it explored', () => {
    const r = run(['explore', 'pgd-sync']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^explored \d+ interleavings, \d+ distinct states$/m);
    expect(r.stdout).toContain('no invariant broken');
  });

  test('a violation exits 4 with a timeline, and the saved script replays to the same violation', () => {
    const file = join(dir, 'pgd.replay.json');
    const r = run(['explore', 'pgd-sync', '--strategy', 'riscv-no-prealloc', '--save', file]);
    expect(r.status).toBe(4);
    expect(r.stdout).toMatch(/^VIOLATION kernel-access-translates: /m);
    expect(r.stdout).toMatch(/cpu1 fork +end pgd_alloc p1/);
    expect(r.stdout).toContain(`replay: riscv-hotplug explore --replay ${file}`);
    const replay = run(['explore', '--replay', file]);
    expect(replay.status).toBe(4);
    const v = /^VIOLATION .*$/m.exec(r.stdout)![0];
    expect(replay.stdout).toContain(v);
  });

  test('--json gives the result as data', () => {
    const r = run(['explore', 'ptdump-remove-nolock', '--json']);
    expect(r.status).toBe(4);
    const o = JSON.parse(r.stdout) as { interleavings: number; violation: { invariant: string; schedule: string[] } };
    expect(o.interleavings).toBeGreaterThan(1);
    expect(o.violation.invariant).toBe('walk-only-live-tables');
    expect(o.violation.schedule.length).toBeGreaterThan(0);
  });

  test('a scenario file of ones own', () => {
    const file = join(dir, 'mine.json');
    writeFileSync(
      file,
      JSON.stringify({
        name: 'mine',
        summary: 'vmalloc while memory is added',
        machine: { memory: '1G', append: 'no5lvl' },
        actors: [
          { name: 'add', cpu: 0, op: 'add_memory 0x100000000 128M; online 0x100000000 128M' },
          { name: 'v', cpu: 1, op: 'vmalloc a 2' },
          { name: 'h', cpu: 2, hart: ['load vmalloc:a', 'load linear:0x100000000'] },
        ],
      }),
    );
    const r = run(['explore', file, '--preemptions', '1']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^mine under riscv-6.12, at most 1 preemption:/m);
  });

  test('--limit stops early with exit 5 and says the search is not complete', () => {
    const r = run(['explore', 'free-before-flush', '--limit', '3']);
    expect(r.status).toBe(5);
    expect(r.stdout).toContain('explored 3 interleavings');
    expect(r.stdout).toContain('not complete');
  });

  test.each([
    [['explore'], /^usage: riscv-hotplug explore/],
    [['explore', 'nope'], /no scenario 'nope'/],
    [['explore', 'pgd-sync', '--strategy', 'mips'], /unknown strategy 'mips'/],
    [['explore', 'pgd-sync', '--preemptions', '-1'], /--preemptions needs an integer >= 0/],
    [['explore', '--replay', '/nonexistent.json'], /cannot read replay script \/nonexistent.json \(ENOENT\)/],
    [['explore', 'pgd-sync', '--bogus'], /unknown option --bogus/],
    [
      ['explore', 'pgd-sync', '--strategy', 'riscv-no-prealloc', '--save', '/nonexistent/dir/x.json'],
      /cannot write \/nonexistent\/dir\/x.json \(ENOENT\)/,
    ],
  ])('%j: one line, exit 2', (args, msg) => {
    const r = run(args);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(msg);
    expect(r.stdout).toBe('');
  });

  test('broken scenario and replay files are refused with what is wrong', () => {
    const bad = (name: string, text: string): string => {
      const f = join(dir, name);
      writeFileSync(f, text);
      return f;
    };
    const cases: Array<[string, RegExp]> = [
      [bad('a.json', '{'), /not JSON|JSON/],
      [bad('b.json', '{"name":"x","machine":{"memory":"1G"},"actors":[]}'), /"actors" must be a non-empty list/],
      [
        bad('c.json', '{"name":"x","machine":{"memory":"1G"},"actors":[{"name":"a","cpu":0,"op":"frobnicate"}]}'),
        /unknown command/,
      ],
      [
        bad('d.json', '{"name":"x","machine":{"memory":"1G"},"actors":[{"name":"a","cpu":0,"op":"add_memory 12 x"}]}'),
        /is not a size/,
      ],
      [bad('e.json', '{"name":"x","machine":{"memory":"lots"},"actors":[{"name":"a","cpu":0,"hart":[]}]}'), /machine.memory/],
    ];
    for (const [f, msg] of cases) {
      const r = run(['explore', f]);
      expect(r.status, f).toBe(2);
      expect(r.stderr).toMatch(msg);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    const scenario = { name: 'x', machine: { memory: '1G' }, actors: [{ name: 'a', cpu: 0, op: 'vmalloc v 1' }] };
    const replay = bad('r.json', JSON.stringify({ scenario, strategy: 'riscv-6.12', schedule: ['zz'] }));
    const r = run(['explore', '--replay', replay]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/decision 1: zz cannot run here/);
  });
});
