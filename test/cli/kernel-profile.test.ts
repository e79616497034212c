/**
 * -kernel: the kernel build by profile name or profile file (bin/riscv-hotplug after a build).
 */
import { describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = join(root, 'bin', 'riscv-hotplug');

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: root, timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function script(text: string): string {
  const p = join(mkdtempSync(join(tmpdir(), 'rh-')), 'script.txt');
  writeFileSync(p, text);
  return p;
}

const MEMREMAP =
  'echo -n 0x100000000 0x200000 > /sys/kernel/debug/hotplug_oracle/memremap\n' +
  'echo -n 0x100200000 0x200000 > /sys/kernel/debug/hotplug_oracle/memremap\n' +
  'echo -n 0x100000000 0x200000 > /sys/kernel/debug/hotplug_oracle/memunmap\n' +
  'echo -n 0x100200 > /sys/kernel/debug/hotplug_oracle/page\n' +
  'cat /proc/meminfo\n';

describe('-kernel', () => {
  for (const kernel of ['linux-6.12.117-virt-zdev', 'src/kernel/profiles/linux-6.12.117-virt-zdev.json']) {
    test(`${kernel}: memremap works from a script, and F4 ends the run with the oops`, () => {
      const r = run([
        'run',
        '--json',
        '-m',
        '8G',
        '-append',
        'mem=2G no5lvl',
        '-kernel',
        kernel,
        script(MEMREMAP),
      ]);
      expect(r.status).toBe(3); // the guest kernel died
      const lines = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { errno: number; stderr: string; kmsg: string[] });
      expect(lines.slice(0, 3).map((l) => l.errno)).toEqual([0, 0, 0]);
      expect(lines[3]!.kmsg.join('\n')).toMatch(/Oops \[#1\][\s\S]*badaddr: ffff8d8002008000/);
      expect(lines[4]!.stderr).toMatch(/crashed/);
    });
  }

  test('--check names F4 before the access', () => {
    const r = run([
      'run',
      '--check',
      '-m',
      '8G',
      '-append',
      'mem=2G no5lvl',
      '-kernel',
      'linux-6.12.117-virt-zdev',
      script(MEMREMAP),
    ]);
    expect(r.stderr).toMatch(/unmapped by vmemmap_free\(.*\) of a neighbouring sub-section/);
  });

  test('the plain build has no memremap file; an unknown kernel is a usage error', () => {
    const r = run(['run', '-m', '8G', '-append', 'mem=2G', script(MEMREMAP)]);
    expect(r.stderr).toMatch(/memremap/);
    const bad = run(['run', '-m', '8G', '-kernel', 'no-such-kernel', script('cat /proc/meminfo\n')]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/-kernel no-such-kernel/);
  });
});
