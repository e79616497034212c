/**
 * Snapshots restore the whole machine: after random hot(un)plug sequences a
 * restore gives back exactly the state at snapshot time (every object, every
 * frame, every file under /sys and /proc), the same sequence replayed then
 * gives the same output, and a snapshot restores any number of times and
 * nests (last in, first out). Leaving one part unrestored is caught.
 */
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import type { GuestSystem } from './system.js';
import { restoreSystem, snapshotSystem } from './snapshot.js';
import { GraphSnapshot } from '../hw/snapshot.js';
import { describeFiles, describeObjects } from '../check/system-state.js';
import { Session } from '../session/session.js';
import { parseRunArgs } from '../session/options.js';
import { boot, MACHINE_CASES as cases, FIRST, opArb, run } from '../../test/support/hotplug-ops.js';

function state(sys: GuestSystem): string[] {
  return [...describeObjects(sys), ...describeFiles(sys)];
}

/** The first line where two descriptions differ, for a readable failure. */
function firstDiff(a: string[], b: string[]): string | undefined {
  for (let i = 0; i < Math.max(a.length, b.length); i++)
    if (a[i] !== b[i]) return `line ${i}:\n  was ${a[i]?.slice(0, 400)}\n  now ${b[i]?.slice(0, 400)}`;
  return undefined;
}

describe('restoreSystem gives back the machine of the snapshot', () => {
  for (const c of cases) {
    test(
      c.name,
      () => {
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
      },
      300_000,
    );
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
