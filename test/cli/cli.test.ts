/**
 * The command line as users run it: bin/riscv-hotplug after a build.
 * (npm test builds first; these tests spawn the real executable.)
 */
import { describe, expect, test } from 'vitest';
import { bin, root, run, script } from '../support/cli.js';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

describe('riscv-hotplug run', () => {
  test('--json prints one object per script line with cmd, stdout, stderr and errno', () => {
    const s = script(
      '# a comment\ncat /sys/devices/system/memory/block_size_bytes\necho -n 0x80000000 0x8000000 > /sys/kernel/debug/hotplug_oracle/add\n\nls /sys/devices/system/memory\n',
    );
    const r = run(['run', '--json', '-m', '8G', '-append', 'mem=2G', s]);
    expect(r.status).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { cmd: string; stdout: string; stderr: string; errno: number });
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatchObject({
      cmd: 'cat /sys/devices/system/memory/block_size_bytes',
      stdout: '8000000\n',
      errno: 0,
    });
    expect(lines[1]).toMatchObject({ errno: 17, stderr: 'bash: echo: write error: File exists\n' });
    expect(lines[2]!.stdout).toContain('memory16/\n');
  });

  test('a failed write prints what bash prints and the script goes on', () => {
    const s = script('echo offline > /sys/devices/system/memory/memory16/state\necho still here\n');
    const r = run(['run', '-m', '8G', '-append', 'mem=2G', s]);
    expect(r.stderr).toContain('bash: echo: write error: Device or resource busy');
    expect(r.stdout).toContain('still here');
  });

  test('the README example with a virtio-mem device works as written', () => {
    const s = script(
      [
        '(qemu) qom-set vm0 requested-size 1G',
        'echo 1 > /sys/devices/system/memory/memory144/online',
        '(qemu) info memory-devices',
        'cat /proc/meminfo',
        '(qemu) qom-set vm0 requested-size 0',
        '(qemu) info memory-devices',
      ].join('\n'),
    );
    const r = run([
      'run',
      '-m',
      '16G,slots=3,maxmem=32G',
      '-smp',
      '8',
      '-object',
      'memory-backend-ram,id=vmem0,size=2G',
      '-device',
      'virtio-mem-pci,id=vm0,memdev=vmem0,node=0',
      s,
    ]);
    expect(r.status).toBe(0);
    expect(r.stderr).not.toContain('bash:');
    expect(r.stdout).toContain('Memory device [virtio-mem]: "vm0"');
    expect(r.stdout).toContain('  memaddr: 0x480000000');
    expect(r.stdout).toContain('  size: 1073741824');
    expect(r.stdout).toContain('  size: 0');
    expect(r.stdout).toMatch(/MemTotal:\s+\d+ kB/);
  });

  test('bad options are one readable line and a non-zero exit, never a stack trace', () => {
    for (const args of [
      ['run', '-m', 'lots', '-'],
      ['run', '--frobnicate', 'x'],
      ['run', '-device', 'virtio-mem-pci,id=vm0', '-'],
      ['run', '/nonexistent/script'],
      ['run', '-m', '8G', '-append', 'mem=2G', '-device', 'virtio-mem-pci,id=vm0', '-'],
      ['nonsense'],
    ]) {
      const r = run(args, '');
      expect(r.status, args.join(' ')).not.toBe(0);
      expect(r.stderr).toMatch(/^(riscv-hotplug|qemu-system-riscv64)[ :]/);
      expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/);
      expect(r.stdout).toBe('');
    }
  });

  test('--check stops at the first invariant violation with a readable report', () => {
    // Removing 128 MiB of a range mapped with a 1 GiB leaf clears the whole leaf (the kernel's behaviour).
    const s = script(
      [
        'echo -n 0x100000000 0x40000000 > /sys/kernel/debug/hotplug_oracle/add',
        'echo -n 0x108000000 0x8000000 > /sys/kernel/debug/hotplug_oracle/remove',
        'echo not reached',
      ].join('\n'),
    );
    const r = run(['run', '--check', '-m', '8G', '-append', 'mem=2G no5lvl', s]);
    expect(r.status).toBe(4);
    // One paragraph for the cause, naming the call, the cleared leaf and the sections that lost their mapping.
    expect(r.stderr).toContain(
      '[linear-map-covers-present-memory] remove_memory(0x108000000, 128 MiB) cleared the 1 GiB PUD leaf at VA',
    );
    expect(r.stderr).toMatch(/sections 32, 34–39 are present and no longer mapped/);
    expect(r.stdout).not.toContain('not reached');
  });

  test('--sysroot mirrors the memory files so the real lsmem reads the model', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rh-sysroot-'));
    const s = script(
      'echo -n 0x100000000 0x40000000 > /sys/kernel/debug/hotplug_oracle/add\necho online_movable > /sys/devices/system/memory/memory33/state\n',
    );
    const r = run(['run', '-m', '8G', '-append', 'mem=2G', '--sysroot', dir, s]);
    expect(r.status).toBe(0);
    expect(readFileSync(join(dir, 'sys/devices/system/memory/memory33/state'), 'utf8')).toBe('online\n');
    expect(existsSync(join(dir, 'proc/iomem'))).toBe(true);
    const lsmem = spawnSync('lsmem', ['--sysroot', dir], { encoding: 'utf8' });
    if (lsmem.error) return; // util-linux missing: the mirror itself was checked above
    expect(lsmem.stdout).toContain('0x0000000080000000-0x00000000ffffffff    2G  online       yes 16-31');
    expect(lsmem.stdout).toContain('0x0000000108000000-0x000000010fffffff  128M  online       yes    33');
    expect(lsmem.stdout).toContain('Total offline memory:    896M');
  });
});

describe('riscv-hotplug demo', () => {
  test('runs the built-in scenario in seconds and ends with every invariant holding', () => {
    const t0 = Date.now();
    const r = run(['demo']);
    expect(r.status).toBe(0);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(r.stdout).toContain('all invariants hold');
    expect(r.stdout).toContain('kernel_page_tables is identical to the one at boot');
  });
});

describe('interactive session through a pseudo-terminal', () => {
  const py = spawnSync('python3', ['--version']);
  const maybe = py.error ? test.skip : test;
  maybe('guest shell, (qemu) lines, Ctrl-A C to the monitor and back, tab completion, exit', () => {
    const steps: Array<[string, string]> = [
      ['', '~ # '],
      ['cat /sys/devices/system/memory/block_size_bytes\r', '8000000'],
      ['(qemu) info memory-devices\r', '~ # '],
      ['\x01c', '(qemu) '],
      ['info memory_size_summary\r', 'base memory: 4294967296'],
      ['\x01c', '~ # '],
      ['cat /sys/devices/system/memory/auto_onl\t', 'auto_online_blocks'],
      ['\r', 'offline'],
      ['exit\r', ''],
    ];
    const r = spawnSync(
      'python3',
      [join(root, 'test', 'cli', 'pty-drive.py'), JSON.stringify(steps), '--', process.execPath, bin],
      {
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(r.stdout).toContain('8000000');
    expect(r.stdout).toContain('base memory: 4294967296');
    expect(r.stdout).toContain('auto_online_blocks');
    expect(r.status, r.stdout).toBe(0);
  });
});
