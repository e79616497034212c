/**
 * The interactive session on a terminal: Ctrl-C cancels the line, `quit` ends it
 * wherever completion offers it, Ctrl-A h and Ctrl-A x do what QEMU's do.
 */
import { describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = join(root, 'bin', 'riscv-hotplug');

function drive(steps: Array<[string, string]>): { stdout: string; status: number | null } {
  const r = spawnSync(
    'python3',
    [join(root, 'test', 'cli', 'pty-drive.py'), JSON.stringify(steps), '--', process.execPath, bin],
    { encoding: 'utf8', timeout: 60_000 },
  );
  return { stdout: r.stdout, status: r.status };
}

const py = spawnSync('python3', ['--version']);
const maybe = py.error ? test.skip : test;

describe('interactive session', () => {
  maybe('Ctrl-C cancels the line being typed and the session goes on', () => {
    const r = drive([
      ['', '~ # '],
      ['cat /proc/mem\x03', '^C'],
      ['echo still-here\r', 'still-here'],
      ['exit\r', ''],
    ]);
    expect(r.stdout).toContain('still-here');
    expect(r.status, r.stdout).toBe(0);
  });

  maybe('quit in the monitor, and (qemu) quit at the guest prompt, end the session', () => {
    const a = drive([
      ['', '~ # '],
      ['(qemu) quit\r', ''],
    ]);
    expect(a.status, a.stdout).toBe(0);
    expect(a.stdout).not.toContain('unknown command');
    const b = drive([
      ['', '~ # '],
      ['\x01c', '(qemu) '],
      ['quit\r', ''],
    ]);
    expect(b.status, b.stdout).toBe(0);
  });

  maybe("Ctrl-A h prints QEMU's escape help; Ctrl-A x terminates", () => {
    const r = drive([
      ['', '~ # '],
      ['\x01h', 'C-a c    switch between console and monitor'],
      ['\x01x', 'QEMU: Terminated'],
    ]);
    expect(r.stdout).toContain('C-a h    print this help');
    expect(r.stdout).toContain('C-a x    exit emulator');
    expect(r.status, r.stdout).toBe(0);
  });
});
