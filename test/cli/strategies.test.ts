/**
 * The strategies from the command line, on the partial removal of a 1 GiB leaf (Sv48: add 1 GiB at
 * 0x100000000, remove the first 128 MiB, online memory33, then hot-add more so the kernel takes a
 * page from memory33) and on Sv39's add_memory far above RAM (F2).
 */
import { describe, expect, test } from 'vitest';
import { run, script } from '../support/cli.js';

const ORACLE = '/sys/kernel/debug/hotplug_oracle';
const PARTIAL = script(
  [
    `echo 0x100000000 0x40000000 > ${ORACLE}/add`,
    `echo 0x100000000 0x8000000 > ${ORACLE}/remove`,
    'echo 1 > /sys/devices/system/memory/memory33/online',
  ].join('\n') + '\n',
);
const SV48 = ['-m', '8G', '-append', 'mem=2G no5lvl'];

describe('--strategy on the partial removal of a 1 GiB leaf', () => {
  test.each([
    ['riscv-6.12', [], 4],
    ['riscv-v1-2023', [], 4],
    ['arm64-6.12', ['-append', 'mem=2G no5lvl rodata=on'], 4],
    ['riscv-split', [], 0],
    ['riscv-reject', [], 0],
    ['arm64-6.12', [], 0],
    ['arm64-7.1', [], 0],
  ] as const)('%s %j: --check exits %i', (strategy, extra, status) => {
    const r = run(['run', ...SV48, ...extra, '--strategy', strategy, '--check', PARTIAL]);
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.status).toBe(status);
    if (status === 4)
      expect(r.stderr).toMatch(
        /cleared the 1 GiB PUD leaf at VA 0x[0-9a-f]+ \(PA 0x100000000–0x13fffffff\); sections 33–39 are present and no longer mapped/,
      );
  });

  test('x86-6.12: the remove itself ends in a kernel oops', () => {
    const r = run(['run', ...SV48, '--strategy', 'x86-6.12', PARTIAL]);
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/Unable to handle kernel paging request at virtual address/);
    expect(r.stderr).toMatch(/oops: free_pagetable/);
  });

  test('riscv-6.12 without --check: the oops comes when memory from the onlined block is first used', () => {
    const more = script(
      [
        `echo 0x100000000 0x40000000 > ${ORACLE}/add`,
        `echo 0x100000000 0x8000000 > ${ORACLE}/remove`,
        'echo 1 > /sys/devices/system/memory/memory33/online',
        `echo 0x200000000 0x8000000 > ${ORACLE}/add`,
      ].join('\n') + '\n',
    );
    const r = run(['run', ...SV48, more]);
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/Oops \[#1\]/);
    expect(r.stderr).toMatch(/badaddr: ffffaf8088000000/);
  });

  test('unknown strategies are refused in one line', () => {
    const r = run(['run', '--strategy', 'sparc', PARTIAL]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/unknown strategy 'sparc' \(one of: riscv-6.12, /);
  });
});

test('Sv39: add_memory(0x4000000000, 128 MiB) is mapped outside the linear-map window and --check says so (F2)', () => {
  const r = run([
    'run',
    '-m',
    '8G',
    '-append',
    'mem=2G no4lvl',
    '--check',
    script(`echo 0x4000000000 0x8000000 > ${ORACLE}/add\n`),
  ]);
  expect(r.status).toBe(4);
  expect(r.stderr).toMatch(/linear-map-inside-window/);
  expect(r.stderr).toMatch(/in the user half of the address space/);
});

describe('riscv-hotplug compare', () => {
  test('prints a column per strategy: what riscv-6.12 loses, what the others keep', () => {
    const r = run(['compare', '--strategy', 'riscv-6.12,riscv-split,arm64-6.12,x86-6.12', ...SV48, PARTIAL]);
    expect(r.status).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/riscv-6.12\s+riscv-split\s+arm64-6.12\s+x86-6.12/);
    expect(r.stdout).toMatch(/present but unmapped\s+896 MiB\s+0\s+0\s+0/);
    expect(r.stdout).toMatch(/^echo 0x100000000 0x8000000 .*\s+ok\s+ok\s+ok\s+oops/m);
  });

  test('--json gives the same as data', () => {
    const r = run(['compare', '--json', '--strategy', 'riscv-6.12,riscv-split', ...SV48, PARTIAL]);
    expect(r.status).toBe(0);
    const c = JSON.parse(r.stdout) as {
      strategies: string[];
      rows: Array<{ cells: Array<{ presentUnmapped: number; result: string }> }>;
    };
    expect(c.strategies).toEqual(['riscv-6.12', 'riscv-split']);
    expect(c.rows).toHaveLength(3);
    expect(c.rows[1]!.cells.map((x) => x.presentUnmapped)).toEqual([896 * 2 ** 20, 0]);
  });

  test('a bad strategy list is one line and exit 2', () => {
    const r = run(['compare', '--strategy', 'riscv-6.12,nope', PARTIAL]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown strategy 'nope'/);
  });
});

describe('F4 (ZONE_DEVICE sub-sections sharing a vmemmap leaf) under the strategies', () => {
  test("riscv-6.12 and arm64-6.12 lose the neighbour's struct pages; x86 (unused tracking) and arm64-7.1 (base pages) keep them", () => {
    const f4 = script(
      [
        `echo 0x100000000 0x200000 > ${ORACLE}/memremap`,
        `echo 0x100200000 0x200000 > ${ORACLE}/memremap`,
        `echo 0x100000000 0x200000 > ${ORACLE}/memunmap`,
        `echo 0x100200 > ${ORACLE}/page`,
      ].join('\n') + '\n',
    );
    const names = ['riscv-6.12', 'arm64-6.12', 'x86-6.12', 'arm64-7.1', 'riscv-split'];
    const r = run([
      'compare',
      '--json',
      '--strategy',
      names.join(','),
      '-kernel',
      'linux-6.12.117-virt-zdev',
      ...SV48,
      f4,
    ]);
    expect(r.status).toBe(0);
    const c = JSON.parse(r.stdout) as {
      rows: Array<{ cells: Array<{ result: string; violations: string[] }> }>;
    };
    expect(c.rows[2]!.cells.map((x) => x.violations.includes('vmemmap-mapped-for-present-sections'))).toEqual(
      [true, true, false, false, false],
    );
    expect(c.rows[3]!.cells.map((x) => x.result)).toEqual(['oops', 'oops', 'ok', 'ok', 'ok']);
  });
});
