/** Shared by tests that run the real executable: bin/riscv-hotplug after `npm run build`. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const bin = join(root, 'bin', 'riscv-hotplug');

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs riscv-hotplug with `args` (and `input` on standard input), as a user would. */
export function run(args: string[], input?: string, timeout = 120_000): RunResult {
  const r = spawnSync(process.execPath, [bin, ...args], { input, encoding: 'utf8', cwd: root, timeout });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A script file with `text`, in a fresh temporary directory. */
export function script(text: string): string {
  const p = join(mkdtempSync(join(tmpdir(), 'rh-')), 'script.txt');
  writeFileSync(p, text);
  return p;
}
