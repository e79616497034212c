/**
 * Hot-plug benchmarks: booting a 64 GiB machine, and the four steps of a
 * 1 TiB hot-add (add_memory, online_movable, offline, remove_memory) in Sv48
 * and Sv57. Cost must grow with sections, not pages.
 */
import { GuestSystem } from '../src/kernel/system.js';
import { checkInvariants } from '../src/check/invariants.js';
import { addMemory, MHP_NONE, offlineAndRemoveMemory } from '../src/kernel/mm/memory_hotplug.js';

const TiB = 1n << 40n;

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) g();
}

function bootMachine(append: string, ramGiB: number): GuestSystem {
  return new GuestSystem({ ramBytes: BigInt(ramGiB) << 30n, smp: 2, append, initrdSize: 0x7f000 });
}

export function benchBoot(): number {
  bootMachine('', 64); // warm-up
  const runs = 5;
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    bootMachine('', 64);
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

/** Returns [best ms for the four steps, extra heap MiB]. */
export function benchHotplug1T(append: string): [number, number] {
  let best = Infinity;
  let heap = 0;
  // The first runs also pay for JIT compilation; the figure is the best of the rest.
  const WARMUP = 3;
  for (let i = 0; i < WARMUP + 6; i++) {
    const sys = bootMachine(`${append} memhp_default_state=online_movable`, 64);
    const k = sys.kernel;
    const start = 0x10000000000n; // 1 TiB, above the 64 GiB of boot RAM
    const blocks = Number(TiB >> 27n);
    const first = Number(start >> 27n);
    gc();
    const heap0 = process.memoryUsage().heapUsed;
    const t0 = performance.now();
    // add_memory() onlines every block movable (memhp_default_state), offline_and_remove_memory() undoes both.
    addMemory(k, 0, start, TiB, MHP_NONE);
    const heap1 = process.memoryUsage().heapUsed;
    if (k.memoryBlocks.get(first + blocks - 1)?.state !== 'online')
      throw new Error('blocks did not come online');
    offlineAndRemoveMemory(k, start, TiB);
    const dt = performance.now() - t0;
    if (i >= WARMUP) {
      best = Math.min(best, dt);
      heap = Math.max(heap, (heap1 - heap0) / (1 << 20));
    }
    if (i === 0) {
      const v = checkInvariants(sys, '1 TiB cycle');
      if (v.length)
        throw new Error(`invariants broken after the 1 TiB cycle: ${v[0]!.invariant} ${v[0]!.detail}`);
    }
  }
  return [best, heap];
}

export async function run(): Promise<void> {
  console.log(`BENCH boot-64g-sv57 ${benchBoot().toFixed(2)} ms`);
  for (const [name, append] of [
    ['sv48', 'no5lvl'],
    ['sv57', ''],
  ] as const) {
    const [ms, mib] = benchHotplug1T(append);
    console.log(`BENCH hotplug-1t-${name} ${ms.toFixed(2)} ms`);
    console.log(`BENCH hotplug-1t-${name}-heap ${mib.toFixed(2)} MiB`);
  }
}
