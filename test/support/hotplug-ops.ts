/**
 * Random hot(un)plug operations for property tests that run one sequence twice (a snapshot
 * restored, an incremental checker against the full one): add, online, offline, remove, a
 * workload, ZONE_DEVICE ranges, and harts loading through their MMU (which fills TLBs). Every
 * choice (which block, which page) is read from the machine, so a replay makes the same choices.
 */
import fc from 'fast-check';
import { GuestSystem } from '../../src/kernel/system.js';
import {
  addMemory,
  MHP_MEMMAP_ON_MEMORY,
  MHP_NONE,
  offlineAndRemoveMemory,
  removeMemory,
} from '../../src/kernel/mm/memory_hotplug.js';
import { onlineStore, stateStore } from '../../src/kernel/drivers/base/memory.js';
import {
  memremapPages,
  memunmapPages,
  newDevPagemap,
  type DevPagemap,
} from '../../src/kernel/mm/memremap.js';
import { zdevKernelProfile } from '../../src/kernel/profile.js';
import { KernelBug, KernelOops } from '../../src/kernel/errno.js';
import { AccessFault } from '../../src/hw/physmem.js';
import { Printk } from '../../src/kernel/kernel/printk.js';
import { linearVpn } from '../../src/kernel/arch/riscv/init.js';

export const BLOCK = 0x8000000n;
export const FIRST = 32; // the first block above mem=2G

export type Op =
  | { t: 'add'; block: number; n: number; memmap: boolean }
  | { t: 'online'; pick: number; type: 'online' | 'online_kernel' | 'online_movable' }
  | { t: 'offline'; pick: number }
  | { t: 'remove'; pick: number; andOffline: boolean }
  | { t: 'alloc'; pages: number; movable: boolean }
  | { t: 'free'; pick: number }
  | { t: 'memremap'; block: number; sub: number; n: number }
  | { t: 'memunmap'; pick: number }
  | { t: 'touch'; hart: number; pick: number };

export const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    t: fc.constant('add' as const),
    // Often a whole 1 GiB at a 1 GiB boundary: a 1 GiB linear-map leaf, which removing one block cuts.
    block: fc.oneof(
      fc.integer({ min: FIRST, max: FIRST + 24 }),
      fc.constantFrom(FIRST, FIRST + 8, FIRST + 16),
    ),
    n: fc.oneof(fc.integer({ min: 1, max: 8 }), fc.constant(8)),
    memmap: fc.boolean(),
  }),
  fc.record({
    t: fc.constant('online' as const),
    pick: fc.nat(),
    type: fc.constantFrom('online' as const, 'online_kernel' as const, 'online_movable' as const),
  }),
  fc.record({ t: fc.constant('offline' as const), pick: fc.nat() }),
  fc.record({ t: fc.constant('remove' as const), pick: fc.nat(), andOffline: fc.boolean() }),
  fc.record({
    t: fc.constant('alloc' as const),
    pages: fc.integer({ min: 1, max: 64 }),
    movable: fc.boolean(),
  }),
  fc.record({ t: fc.constant('free' as const), pick: fc.nat() }),
  fc.record({
    t: fc.constant('memremap' as const),
    block: fc.integer({ min: FIRST + 25, max: FIRST + 30 }),
    sub: fc.integer({ min: 0, max: 63 }),
    n: fc.constantFrom(1, 2, 64),
  }),
  fc.record({ t: fc.constant('memunmap' as const), pick: fc.nat() }),
  // A hart loads from a block's memory through its MMU: the TLB caches the translation.
  fc.record({ t: fc.constant('touch' as const), hart: fc.integer({ min: 0, max: 1 }), pick: fc.nat() }),
);

/** The machines the whole-state tests run on: each paging mode, and the ZONE_DEVICE build. */
export const MACHINE_CASES = [
  { name: 'sv48', mode: 'no5lvl', zdev: false },
  { name: 'sv57', mode: '', zdev: false },
  { name: 'sv39', mode: 'no4lvl', zdev: false },
  { name: 'sv48, ZONE_DEVICE build', mode: 'no5lvl', zdev: true },
] as const;

export function boot(mode: string, zdev: boolean): GuestSystem {
  return new GuestSystem({
    ramBytes: 8n << 30n,
    smp: 2,
    append: `mem=2G ${mode} memory_hotplug.memmap_on_memory=1`,
    initrdSize: 0x7f000,
    profile: zdev ? zdevKernelProfile() : undefined,
  });
}

/**
 * Runs the ops and returns what they printed: return codes, kernel messages, or how the kernel died
 * (then it stops). `after` runs after each operation that did not kill the kernel.
 */
export function run(sys: GuestSystem, ops: readonly Op[], after?: (op: Op) => void): string[] {
  const k = sys.kernel;
  const out: string[] = [];
  const blocks = (): number[] => [...k.memoryBlocks.keys()].filter((id) => id >= FIRST).sort((a, b) => a - b);
  const pick = <T>(xs: readonly T[], i: number): T | undefined => (xs.length ? xs[i % xs.length] : undefined);
  for (const op of ops) {
    const logged = k.log.records.length;
    let rc: number | string = 0;
    try {
      switch (op.t) {
        case 'add':
          rc = addMemory(
            k,
            0,
            BigInt(op.block) * BLOCK,
            BigInt(op.n) * BLOCK,
            op.memmap ? MHP_MEMMAP_ON_MEMORY : MHP_NONE,
          );
          break;
        case 'online': {
          const id = pick(blocks(), op.pick);
          if (id !== undefined) rc = stateStore(k, k.memoryBlocks.get(id)!, op.type);
          break;
        }
        case 'offline': {
          const id = pick(blocks(), op.pick);
          if (id !== undefined) rc = onlineStore(k, k.memoryBlocks.get(id)!, '0');
          break;
        }
        case 'remove': {
          const id = pick(blocks(), op.pick);
          if (id === undefined) break;
          // Not a range a large linear-map leaf spans partly: that kills the machine (hotplug.property.test.ts).
          const start = BigInt(id) * BLOCK;
          rc = op.andOffline ? offlineAndRemoveMemory(k, start, BLOCK) : removeMemory(k, start, BLOCK);
          break;
        }
        case 'alloc':
          rc = k.workload.allocate(k, op.pages, op.movable ? 'movable' : 'unmovable').join(',');
          break;
        case 'free': {
          const p = pick(k.workload.pages(), op.pick);
          if (p) k.workload.release(k, p.pfn);
          break;
        }
        case 'memremap': {
          if (!k.profile.config.ZONE_DEVICE) break;
          const start = BigInt(op.block) * BLOCK + BigInt(op.sub) * 0x200000n;
          rc = memremapPages(k, newDevPagemap('generic', start, BigInt(op.n) * 0x200000n), 0);
          break;
        }
        case 'touch': {
          const id = pick([...k.memoryBlocks.keys()], op.pick);
          if (id === undefined) break;
          const va = BigInt(linearVpn(k, id * (Number(BLOCK) >> 12))) << 12n;
          const r = sys.board.translate(op.hart, va, 'load');
          rc = r.ok ? `${r.ppn.toString(16)} ${r.tlbHit}` : `fault ${r.cause}`;
          break;
        }
        case 'memunmap': {
          const m: DevPagemap | undefined = pick(k.devPagemaps, op.pick);
          if (m) memunmapPages(k, m);
          break;
        }
      }
    } catch (e) {
      if (!(e instanceof KernelBug || e instanceof KernelOops || e instanceof AccessFault)) throw e;
      out.push(`${op.t}: died: ${e.message}`);
      return out;
    }
    out.push(`${op.t}: ${rc}`, ...k.log.records.slice(logged).map((r) => Printk.format(r)));
    after?.(op);
  }
  return out;
}
