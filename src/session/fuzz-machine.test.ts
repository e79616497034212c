/** The fuzzer's machine factory: every machine starts as just booted, and runs lines as `run` does. */
import { describe, expect, test } from 'vitest';
import { parseRunArgs } from './options.js';
import { fuzzMachineFactory } from './fuzz-machine.js';
import { Session } from './session.js';

const machine = parseRunArgs(['-m', '8G', '-append', 'mem=2G no5lvl']);

describe('fuzzMachineFactory', () => {
  test('each machine starts fresh: no blocks added, allocation ids from #1', () => {
    const fresh = fuzzMachineFactory({ machine, initrdSize: 0 });
    const a = fresh();
    expect(a.run('echo 0x100000000 0x8000000 > /sys/kernel/debug/hotplug_oracle/add')).toEqual({
      status: 0,
      errno: 0,
    });
    expect(a.run('workload alloc pinned 64K')).toEqual({ status: 0, errno: 0 });
    expect(a.allocationIds()).toEqual([1]);
    const b = fresh();
    // The same guest, restored in place to just after boot.
    expect(b.system).toBe(a.system);
    expect(b.allocationIds()).toEqual([]);
    expect(b.system.kernel.memoryBlocks.has(32)).toBe(false);
    // A failed write gives its errno, as the shell reports it.
    expect(b.run('echo offline > /sys/devices/system/memory/memory16/state')).toEqual({
      status: 1,
      errno: 16,
    });
  });

  test('a session over a guest booted elsewhere numbers its own allocations', () => {
    const first = new Session(machine);
    first.execute('workload alloc movable 4K');
    const second = new Session(machine, 0, undefined, first.system);
    expect(second.execute('workload alloc movable 4K')!.stdout).toMatch(/^workload: #1 movable/);
  });
});
