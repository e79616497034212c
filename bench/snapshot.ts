/**
 * Snapshot and restore of a booted 8 GiB Sv48 machine after a 1 GiB hot-add
 * (add_memory + online of eight blocks), and the cost of one invariant check
 * of it. Target: snapshot + restore <= 200 us.
 *
 * - snapshot-restore: mean of snapshotSystem() + restoreSystem() back to back;
 * - snapshot-restore-changed: mean of restoreSystem() alone, after an
 *   offline_and_remove_memory() of one 128 MiB block (the operation is not
 *   timed; the restore undoes its page tables, sections, zones, block and log).
 *   The mean includes the garbage collection the operations cause;
 * - check-8g-sv48: mean of one full checkInvariants() of that machine;
 * - check-incremental-8g-sv48: median of one InvariantChecker.check() after
 *   each operation of add_memory / online / offline+remove of 128 MiB to 1 GiB
 *   (the operations are not timed). Target: well under 100 us.
 */
import { GuestSystem } from '../src/kernel/system.js';
import { addMemory, MHP_NONE, offlineAndRemoveMemory } from '../src/kernel/mm/memory_hotplug.js';
import { onlineStore } from '../src/kernel/drivers/base/memory.js';
import { restoreSystem, snapshotSystem } from '../src/kernel/snapshot.js';
import { checkInvariants } from '../src/check/invariants.js';
import { InvariantChecker } from '../src/check/incremental.js';

const GiB = 1n << 30n;
const HOT = 0x280000000n; // the end of 8 GiB of boot RAM at 0x8000_0000

/** The 8 GiB Sv48 machine with 1 GiB hot-added and online. */
export function bootHotAdded(): GuestSystem {
  const sys = new GuestSystem({ ramBytes: 8n * GiB, smp: 2, append: 'no5lvl', initrdSize: 0x7f000 });
  const k = sys.kernel;
  if (addMemory(k, 0, HOT, GiB, MHP_NONE) !== 0) throw new Error('add_memory failed');
  for (const m of k.memoryBlocks.values())
    if (m.state !== 'online' && onlineStore(k, m, '1') !== 0)
      throw new Error(`memory${m.id} did not come online`);
  return sys;
}

/** Mean microseconds of `fn` over the best of several rounds (the machine is shared). */
function meanUs(rounds: number, perRound: number, fn: () => void): number {
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (let i = 0; i < perRound; i++) fn();
    best = Math.min(best, ((performance.now() - t0) * 1000) / perRound);
  }
  return best;
}

export function benchSnapshotRestore(): { both: number; changed: number } {
  const sys = bootHotAdded();
  const base = snapshotSystem(sys);
  const both = meanUs(12, 500, () => restoreSystem(sys, snapshotSystem(sys)));
  const times: number[] = [];
  for (let i = 0; i < 600; i++) {
    if (offlineAndRemoveMemory(sys.kernel, HOT + BigInt(i % 8) * 0x8000000n, 0x8000000n) !== 0)
      throw new Error('offline_and_remove_memory failed');
    const t0 = performance.now();
    restoreSystem(sys, base);
    if (i >= 100) times.push((performance.now() - t0) * 1000);
  }
  const changed = times.reduce((a, b) => a + b, 0) / times.length;
  return { both, changed };
}

export function benchCheck(): number {
  const sys = bootHotAdded();
  return meanUs(8, 40, () => {
    if (checkInvariants(sys, 'bench').length) throw new Error('invariants broken');
  });
}

/**
 * Median microseconds of an incremental check after each of add / online / offline+remove. The
 * median, not the mean: on a shared machine a check now and then waits tens of milliseconds for
 * the CPU, which says nothing about the checker.
 */
export function benchIncrementalCheck(): number {
  const sys = bootHotAdded();
  const k = sys.kernel;
  const checker = new InvariantChecker(sys);
  checker.check('start');
  const base = HOT + GiB; // above the hot-added GiB
  const times: number[] = [];
  for (let i = 0; i < 400; i++) {
    const size = BigInt(1 + (i % 8)) * 0x8000000n;
    const ops = [
      () => addMemory(k, 0, base, size, MHP_NONE),
      () => {
        for (const m of k.memoryBlocks.values()) if (m.state !== 'online') onlineStore(k, m, '1');
        return 0;
      },
      () => offlineAndRemoveMemory(k, base, size),
    ];
    for (const op of ops) {
      if (op() !== 0) throw new Error('operation failed');
      const t0 = performance.now();
      const v = checker.check('bench');
      if (i >= 40) times.push((performance.now() - t0) * 1000);
      if (v.length) throw new Error(`invariants broken: ${v[0]!.invariant}`);
    }
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1]!;
}

export async function run(): Promise<void> {
  const { both, changed } = benchSnapshotRestore();
  console.log(`BENCH snapshot-restore ${both.toFixed(1)} us`);
  console.log(`BENCH snapshot-restore-changed ${changed.toFixed(1)} us`);
  console.log(`BENCH check-8g-sv48 ${benchCheck().toFixed(1)} us`);
  console.log(`BENCH check-incremental-8g-sv48 ${benchIncrementalCheck().toFixed(1)} us`);
}
