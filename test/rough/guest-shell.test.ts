/**
 * The guest shell a new user types into: pipes, lists, for loops, grep's
 * options, cd/pwd, and one clear line for what it does not run.
 */
import { describe, expect, test } from 'vitest';
import { Session } from '../../src/session/session.js';
import { parseRunArgs } from '../../src/session/options.js';

const s = new Session(parseRunArgs(['-m', '2G']));
const sh = (line: string) => s.execute(line)!;

describe('pipes', () => {
  test('cat FILE | head -2 prints two lines (it used to print the file and "cat: |: No such file")', () => {
    const r = sh('cat /proc/meminfo | head -2');
    expect(r.stdout.split('\n')).toHaveLength(3);
    expect(r.stdout).toMatch(/^MemTotal: .*\nMemFree: .*\n$/);
    expect(r.stderr).toBe('');
  });

  test('tail, grep, wc and sort read a pipe', () => {
    expect(sh('cat /proc/meminfo | tail -n 1').stdout).toMatch(/^\S+:\s+\d+ kB\n$/);
    expect(sh('cat /proc/meminfo | grep -c kB').stdout).toMatch(/^\d+\n$/);
    expect(sh('ls /sys/devices/system/memory | grep memory | wc -l').stdout).toBe('16\n');
    expect(sh('echo b; echo a').stdout).toBe('b\na\n');
    expect(sh('ls /sys/devices/system/memory | grep ^memory | sort | head -3').stdout).toBe(
      'memory16/\nmemory17/\nmemory18/\n',
    );
    expect(sh('ls /sys/devices/system/memory | grep ^memory | sort -r | head -1').stdout).toBe('memory31/\n');
    expect(sh('echo one two | wc').stdout).toBe('      1       2       8\n');
  });
});

describe('lists and loops', () => {
  test('; && || run as bash runs them, with $?', () => {
    expect(sh('false && echo no; echo $?').stdout).toBe('1\n');
    expect(sh('false || echo yes').stdout).toBe('yes\n');
    expect(sh('true && echo yes || echo no').stdout).toBe('yes\n');
    expect(sh('cat /nope || echo fallback').stdout).toBe('fallback\n');
  });

  test('for X in ...; do ...; done with globs and variables', () => {
    const r = sh(
      'for f in /sys/devices/system/memory/memory1[6]/state /sys/devices/system/memory/memory17/state; do echo $f; cat $f; done',
    );
    expect(r.stdout).toContain('/sys/devices/system/memory/memory17/state\nonline\n');
    const g = sh('for b in /sys/devices/system/memory/memory1*; do echo -n "$b "; done');
    expect(g.stdout.trim().split(' ')).toHaveLength(4);
  });
});

describe('grep options', () => {
  test('-i, -q, -c, -e, -v', () => {
    expect(sh('grep -i memtotal /proc/meminfo').stdout).toMatch(/^MemTotal:/);
    expect(sh('grep -q MemTotal /proc/meminfo')).toMatchObject({ stdout: '', status: 0 });
    expect(sh('grep -q Nothing /proc/meminfo').errno).toBe(0);
    expect(sh('grep -c -e MemTotal -e MemFree /proc/meminfo').stdout).toBe('2\n');
    expect(sh('grep -v kB /proc/meminfo').stdout).toMatch(/HugePages_Total/);
  });
});

describe('cd and pwd', () => {
  test('cd changes the directory for the following lines; relative paths and globs follow it', () => {
    expect(sh('cd /sys/devices/system/memory').stderr).toBe('');
    expect(sh('pwd').stdout).toBe('/sys/devices/system/memory\n');
    expect(sh('cat block_size_bytes').stdout).toBe('8000000\n');
    expect(sh('cat memory16/state').stdout).toBe('online\n');
    expect(sh('echo memory1?').stdout).toBe('memory16 memory17 memory18 memory19\n');
    expect(sh('cd ../../..; pwd').stdout).toBe('/sys\n');
    expect(sh('cd /nope').stderr).toBe('bash: cd: /nope: No such file or directory\n');
    sh('cd /');
  });
});

describe('what the shell does not run is said in one line', () => {
  test.each([
    ['echo a &', 'sh: background jobs (&): not supported\n'],
    ['echo $(cat /proc/meminfo)', 'sh: command substitution: not supported\n'],
    ['if true; then echo a; fi', 'sh: if: not supported\n'],
    ['while true; do echo; done', 'sh: while: not supported\n'],
    ['(echo a)', 'sh: (: not supported\n'],
  ])('%s', (line, err) => {
    expect(sh(line)).toMatchObject({ stdout: '', stderr: err, status: 2 });
  });
});
