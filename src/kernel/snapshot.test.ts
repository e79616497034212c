/**
 * Snapshots restore the whole machine: after random hot(un)plug sequences a
 * restore gives back exactly the state at snapshot time (every object, every
 * frame, every file under /sys and /proc), the same sequence replayed then
 * gives the same output, and a snapshot restores any number of times and
 * nests (last in, first out). Leaving one part unrestored is caught.
 */
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { GuestSystem } from './system.js';
import { restoreSystem, snapshotSystem } from './snapshot.js';
import {
  addMemory,
  MHP_MEMMAP_ON_MEMORY,
  MHP_NONE,
  offlineAndRemoveMemory,
  removeMemory,
} from './mm/memory_hotplug.js';
import { onlineStore, stateStore } from './drivers/base/memory.js';
import { memremapPages, memunmapPages, newDevPagemap, type DevPagemap } from './mm/memremap.js';
import { zdevKernelProfile } from './profile.js';
import { KernelBug, KernelOops } from './errno.js';
import { AccessFault } from '../hw/physmem.js';
import { GraphSnapshot } from '../hw/snapshot.js';
import { describeFiles, describeObjects } from '../check/system-state.js';
import { Printk } from './kernel/printk.js';
import { linearVpn } from './arch/riscv/init.js';
import { Session } from '../session/session.js';
import { parseRunArgs } from '../session/options.js';

const BLOCK = 0x8000000n;
const FIRST = 32; // the first block above mem=2G

type Op =
  | { t: 'add'; block: number; n: number; memmap: boolean }
  | { t: 'online'; pick: number; type: 'online' | 'online_kernel' | 'online_movable' }
  | { t: 'offline'; pick: number }
  | { t: 'remove'; pick: number; andOffline: boolean }
  | { t: 'alloc'; pages: number; movable: boolean }
  | { t: 'free'; pick: number }
  | { t: 'memremap'; block: number; sub: number; n: number }
  | { t: 'memunmap'; pick: number }
  | { t: 'touch'; hart: number; pick: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    t: fc.constant('add' as const),
    block: fc.integer({ min: FIRST, max: FIRST + 24 }),
    n: fc.integer({ min: 1, max: 8 }),
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

function boot(mode: string, zdev: boolean): GuestSystem {
  return new GuestSystem({
    ramBytes: 8n << 30n,
    smp: 2,
    append: `mem=2G ${mode} memory_hotplug.memmap_on_memory=1`,
    initrdSize: 0x7f000,
    profile: zdev ? zdevKernelProfile() : undefined,
  });
}

/**
 * Runs the ops and returns what they printed: return codes, kernel messages, or how the kernel died.
 * Everything the ops choose from (blocks, held pages, mapped ranges) is read from the machine, so a
 * replay after a restore makes the same choices.
 */
function run(sys: GuestSystem, ops: readonly Op[]): string[] {
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
  }
  return out;
}

function state(sys: GuestSystem): string[] {
  return [...describeObjects(sys), ...describeFiles(sys)];
}

/** The first line where two descriptions differ, for a readable failure. */
function firstDiff(a: string[], b: string[]): string | undefined {
  for (let i = 0; i < Math.max(a.length, b.length); i++)
    if (a[i] !== b[i]) return `line ${i}:\n  was ${a[i]?.slice(0, 400)}\n  now ${b[i]?.slice(0, 400)}`;
  return undefined;
}

const cases = [
  { name: 'sv48', mode: 'no5lvl', zdev: false },
  { name: 'sv57', mode: '', zdev: false },
  { name: 'sv39', mode: 'no4lvl', zdev: false },
  { name: 'sv48, ZONE_DEVICE build', mode: 'no5lvl', zdev: true },
];

describe('restoreSystem gives back the machine of the snapshot', () => {
  for (const c of cases) {
    test(c.name, () => {
      const sys = boot(c.mode, c.zdev);
      const zone0 = sys.kernel.pgdat.zones[0];
      fc.assert(
        fc.property(
          fc.array(opArb, { maxLength: 8 }),
          fc.array(opArb, { minLength: 1, maxLength: 12 }),
          fc.array(opArb, { minLength: 1, maxLength: 6 }),
          (prefix, ops, nested) => {
            const base = snapshotSystem(sys);
            run(sys, prefix);
            const atSnapshot = state(sys);
            const snap = snapshotSystem(sys);
            const first = run(sys, ops);
            const after = state(sys);
            restoreSystem(sys, snap);
            expect(firstDiff(atSnapshot, state(sys))).toBeUndefined();
            // The same sequence from the restored machine: the same output and the same end state.
            expect(run(sys, ops)).toEqual(first);
            expect(firstDiff(after, state(sys))).toBeUndefined();
            // Again from the same snapshot, with a snapshot nested inside.
            restoreSystem(sys, snap);
            run(sys, ops.slice(0, 3));
            const inner = state(sys);
            const innerSnap = snapshotSystem(sys);
            run(sys, nested);
            restoreSystem(sys, innerSnap);
            expect(firstDiff(inner, state(sys))).toBeUndefined();
            restoreSystem(sys, snap);
            expect(firstDiff(atSnapshot, state(sys))).toBeUndefined();
            restoreSystem(sys, base);
          },
        ),
        { numRuns: 25 },
      );
      // In place: the same objects, which closures and the file tree hold on to.
      expect(sys.kernel.pgdat.zones[0]).toBe(zone0);
    }, 300_000);
  }
});

describe('leaving one part unrestored is caught', () => {
  // What a restore that forgot a part would leave: that part as the operations left it.
  const parts: Array<[string, (sys: GuestSystem) => object[]]> = [
    ['the zones’ free extents', (sys) => sys.kernel.pgdat.zones.map((z) => z.free)],
    ['the TLBs', (sys) => sys.board.harts.map((h) => h.tlb)],
    ['the memory blocks', (sys) => [sys.kernel.memoryBlocks]],
    ['the sections', (sys) => [sys.kernel.sparse]],
    ['the resource tree', (sys) => [sys.kernel.iomem]],
  ];
  for (const [name, part] of parts) {
    test(name, () => {
      const sys = boot('no5lvl', false);
      const atSnapshot = state(sys);
      const snap = snapshotSystem(sys);
      // Touches every part above: hot-add, online (a hart walks the new memory first), offline one block.
      sys.board.translate(0, 0xffffffd600000000n, 'load');
      run(sys, [
        { t: 'add', block: FIRST, n: 2, memmap: false },
        { t: 'online', pick: 0, type: 'online' },
        { t: 'online', pick: 1, type: 'online_movable' },
      ]);
      sys.board.translate(0, 0xffffffd600000000n, 'load');
      const left = new GraphSnapshot(part(sys));
      restoreSystem(sys, snap);
      expect(firstDiff(atSnapshot, state(sys))).toBeUndefined();
      left.restore();
      expect(firstDiff(atSnapshot, state(sys))).toBeDefined();
    });
  }
});

test('a snapshot taken before the one restored cannot be restored after it (last in, first out), and says so', () => {
  const sys = boot('no5lvl', false);
  const outer = snapshotSystem(sys);
  run(sys, [{ t: 'add', block: FIRST, n: 1, memmap: false }]);
  const inner = snapshotSystem(sys);
  run(sys, [{ t: 'online', pick: 0, type: 'online' }]);
  restoreSystem(sys, outer);
  expect(() => restoreSystem(sys, inner)).toThrow(/last-in-first-out/);
  const other = boot('no5lvl', false);
  expect(() => restoreSystem(other, outer)).toThrow(/another machine/);
});

test('a machine with virtio-mem: device, driver and bus state come back', () => {
  const s = new Session(
    parseRunArgs(
      '-m 4G,slots=2,maxmem=16G -object memory-backend-ram,id=vmem0,size=2G -device virtio-mem-pci,id=vm0,memdev=vmem0,node=0'.split(
        ' ',
      ),
    ),
  );
  const sys = s.system;
  const script = [
    '(qemu) qom-set vm0 requested-size 1G',
    'echo 1 > /sys/devices/system/memory/memory40/online',
    '(qemu) info memory-devices',
    'cat /proc/meminfo',
    '(qemu) qom-set vm0 requested-size 256M',
    '(qemu) info memory-devices',
  ];
  const atSnapshot = state(sys);
  const snap = snapshotSystem(sys);
  const outputs = (): string[] =>
    script.map((l) => {
      const r = s.execute(l);
      return `${r?.stdout}|${r?.stderr}|${r?.kmsg.join('\n')}`;
    });
  const first = outputs();
  const after = state(sys);
  expect(firstDiff(atSnapshot, after)).toBeDefined();
  restoreSystem(sys, snap);
  expect(firstDiff(atSnapshot, state(sys))).toBeUndefined();
  expect(outputs()).toEqual(first);
  expect(firstDiff(after, state(sys))).toBeUndefined();
});
