/**
 * Random add / online / offline / remove sequences under every strategy (Sv48): the fixed
 * strategies never break an invariant; the ones with known holes break only those, or die in
 * the oops their kernel would have.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { GuestSystem } from '../kernel/system.js';
import { addMemory, offlineAndRemoveMemory, removeMemory, MHP_NONE } from '../kernel/mm/memory_hotplug.js';
import { stateStore } from '../kernel/drivers/base/memory.js';
import { KernelOops } from '../kernel/errno.js';
import { STRATEGIES, strategyByName } from '../kernel/arch/strategies.js';
import { checkInvariants } from './invariants.js';

const BLOCK = 128n << 20n;
/** First hot-pluggable block of the machine (mem=2G at 0x80000000). */
const FIRST = 32;

type Op =
  | { t: 'add'; block: number; n: number }
  | { t: 'online'; pick: number; movable: boolean }
  | { t: 'offline'; pick: number }
  | { t: 'remove'; block: number; n: number; andOffline: boolean };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    t: fc.constant('add' as const),
    block: fc.integer({ min: FIRST, max: FIRST + 24 }),
    n: fc.integer({ min: 1, max: 9 }),
  }),
  fc.record({ t: fc.constant('online' as const), pick: fc.nat(), movable: fc.boolean() }),
  fc.record({ t: fc.constant('offline' as const), pick: fc.nat() }),
  fc.record({
    t: fc.constant('remove' as const),
    block: fc.integer({ min: FIRST, max: FIRST + 24 }),
    n: fc.integer({ min: 1, max: 9 }),
    andOffline: fc.boolean(),
  }),
);

/** What each strategy may break (its known holes); the fixed ones may break nothing. */
const KNOWN: Record<string, string[]> = {
  'riscv-6.12': ['linear-map-covers-present-memory', 'hardware-walk-agrees'],
  'riscv-v1-2023': ['linear-map-covers-present-memory', 'hardware-walk-agrees'],
  'riscv-no-prealloc': ['linear-map-covers-present-memory', 'hardware-walk-agrees'],
  'x86-6.12': [
    'linear-map-covers-present-memory',
    'hardware-walk-agrees',
    'only-tables-freed-as-tables',
    'linear-map-covers-only-present-memory',
    'free-pages-in-online-sections',
    'zone-counters',
  ],
  'arm64-6.12': [],
  'arm64-7.1': [],
  'riscv-split': [],
  'riscv-reject': [],
};
const MAY_OOPS = new Set(['riscv-6.12', 'riscv-v1-2023', 'riscv-no-prealloc', 'x86-6.12']);

function runSequence(strategy: string, ops: Op[]): void {
  const sys = new GuestSystem({
    ramBytes: 8n << 30n,
    smp: 2,
    append: 'mem=2G no5lvl',
    initrdSize: 0x7f000,
    arch: strategyByName(strategy),
  });
  const k = sys.kernel;
  const blocks = (): number[] => [...k.memoryBlocks.keys()].filter((id) => id >= FIRST).sort((a, b) => a - b);
  for (const op of ops) {
    try {
      if (op.t === 'add') addMemory(k, 0, BigInt(op.block) * BLOCK, BigInt(op.n) * BLOCK, MHP_NONE);
      else if (op.t === 'online' || op.t === 'offline') {
        const ids = blocks();
        if (!ids.length) continue;
        const mem = k.memoryBlocks.get(ids[op.pick % ids.length]!)!;
        stateStore(k, mem, op.t === 'offline' ? 'offline' : op.movable ? 'online_movable' : 'online_kernel');
      } else {
        const start = BigInt(op.block) * BLOCK;
        const size = BigInt(op.n) * BLOCK;
        if (op.andOffline) offlineAndRemoveMemory(k, start, size);
        else removeMemory(k, start, size);
      }
    } catch (e) {
      if (e instanceof KernelOops && MAY_OOPS.has(strategy)) return;
      throw e;
    }
    const broken = [...new Set(checkInvariants(sys, JSON.stringify(op)).map((v) => v.invariant))];
    const unexpected = broken.filter((x) => !KNOWN[strategy]!.includes(x));
    expect(unexpected, `${strategy} after ${JSON.stringify(op)}`).toEqual([]);
    // Once memory lost its mapping the machine is as good as dead; stop this sequence there.
    if (broken.length) return;
  }
}

describe('random hot-plug sequences under every strategy', () => {
  for (const strategy of STRATEGIES.keys()) {
    test(strategy, () => {
      fc.assert(
        fc.property(fc.array(opArb, { minLength: 1, maxLength: 10 }), (ops) => runSequence(strategy, ops)),
        { numRuns: strategy.startsWith('arm64') ? 15 : 40 },
      );
    });
  }
});
