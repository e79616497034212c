/**
 * Fault injection from the command line (--fail-alloc N, --fail-alloc-after N)
 * and the documented exit statuses.
 */
import { describe, expect, test } from 'vitest';
import { run, script } from '../support/cli.js';

const ADD = script(
  'echo 0x100000000 0x8000000 > /sys/kernel/debug/hotplug_oracle/add\ncat /sys/kernel/debug/hotplug_oracle/last\n',
);

describe('--fail-alloc', () => {
  test('--fail-alloc 1: the first run-time page allocation fails; the model says where it hit', () => {
    // The first allocation of add_memory() is a linear-map page table: RISC-V 6.12 BUG()s on that failure.
    const r = run(['run', '-m', '8G', '-append', 'mem=2G', '--fail-alloc', '1', ADD]);
    expect(r.stderr).toContain('kernel BUG: arch/riscv/mm/init.c (page-table allocation failed');
    expect(r.stderr).toContain(
      'riscv-hotplug: --fail-alloc: page allocation #1 failed (line 1: echo 0x100000000',
    );
    expect(r.status).toBe(3);
    const hog = run(['run', '-m', '2G', '--fail-alloc', '3', script('memhog 1M\nmemhog 1M\n')]);
    expect(hog.stderr).toContain(
      'memhog: cannot allocate 1 MiB of movable memory: out of memory after 2 pages',
    );
    expect(hog.stdout).toMatch(/^memhog: #1 movable 1 MiB: 256 pages/);
    expect(hog.status).toBe(0);
  });

  test('--fail-alloc-after N: N allocations succeed, every later one fails', () => {
    const ok = run(['run', '-m', '8G', '-append', 'mem=2G', '--fail-alloc-after', '100000', ADD]);
    expect(ok.stdout).toMatch(/rc=0/);
    const hog = run(['run', '-m', '2G', '--fail-alloc-after', '256', script('memhog 1M\nmemhog 4K\n')]);
    expect(hog.stdout).toMatch(/^memhog: #1 movable 1 MiB/);
    expect(hog.stderr).toContain(
      'memhog: cannot allocate 4 KiB of movable memory: out of memory after 0 pages',
    );
    expect(hog.stderr).toContain(
      '--fail-alloc-after: page allocation #257 failed (line 2: memhog 4K), and every later one fails',
    );
  });

  test('a bad count is a usage error (status 2) and nothing runs', () => {
    const r = run(['run', '--fail-alloc', 'x', ADD]);
    expect(r).toMatchObject({ status: 2, stdout: '' });
    expect(r.stderr).toBe("riscv-hotplug: --fail-alloc: 'x' is not a positive allocation number\n");
  });
});

describe('exit statuses', () => {
  test('0 ok, 1 QEMU refused the options, 2 usage, 3 the guest crashed', () => {
    expect(run(['run', '-m', '2G', script('true\n')]).status).toBe(0);
    expect(run(['run', '-smp', '3,sockets=2', script('true\n')]).status).toBe(1);
    expect(run(['run', '--bogus', script('true\n')]).status).toBe(2);
    expect(run(['run', '-m', '12M', script('true\n')]).status).toBe(3);
  });
});
