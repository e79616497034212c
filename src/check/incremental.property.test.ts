/**
 * Property: after every step of random hot(un)plug sequences (with workload pages, ZONE_DEVICE
 * ranges, harts filling their TLBs, kernel behaviour that breaks invariants on purpose, and
 * snapshot restores in between), the incremental checker reports exactly what the full
 * `checkInvariants` reports, in the same order.
 */
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { InvariantChecker } from './incremental.js';
import { checkInvariants } from './invariants.js';
import { restoreSystem, snapshotSystem } from '../kernel/snapshot.js';
import { linearVpn } from '../kernel/arch/riscv/init.js';
import { boot, MACHINE_CASES as cases, FIRST, opArb, run, type Op } from '../../test/support/hotplug-ops.js';

type Step = Op | { t: 'restore' } | { t: 'check-twice' };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 12, arbitrary: opArb },
  { weight: 1, arbitrary: fc.constant({ t: 'restore' as const }) },
  { weight: 1, arbitrary: fc.constant({ t: 'check-twice' as const }) },
);

describe('the incremental checker finds what the full check finds, after every step', () => {
  for (const c of cases) {
    test(
      c.name,
      () => {
        fc.assert(
          fc.property(
            fc.array(opArb, { maxLength: 4 }),
            fc.array(stepArb, { minLength: 1, maxLength: 30 }),
            (prefix, steps) => {
              const sys = boot(c.mode, c.zdev);
              run(sys, prefix);
              const checker = new InvariantChecker(sys);
              const snap = snapshotSystem(sys);
              const same = (label: string): void => {
                const full = checkInvariants(sys, label);
                expect(checker.check(label)).toEqual(full);
              };
              same('start');
              for (const [i, step] of steps.entries()) {
                const label = `step ${i}: ${step.t}`;
                if (step.t === 'restore') restoreSystem(sys, snap);
                else if (step.t === 'check-twice') same(label);
                else if (run(sys, [step]).some((line) => line.includes(': died: '))) return;
                same(label);
              }
            },
          ),
          { numRuns: 40 },
        );
      },
      300_000,
    );
  }
});

test('the same violations when there are some: a 1 GiB linear-map leaf cut by removing one block of it', () => {
  const sys = boot('no5lvl', false);
  const checker = new InvariantChecker(sys);
  const steps: Op[] = [
    { t: 'add', block: FIRST, n: 8, memmap: false },
    { t: 'touch', hart: 0, pick: 40 },
    { t: 'remove', pick: 3, andOffline: false },
    { t: 'online', pick: 0, type: 'online' },
  ];
  let seen = 0;
  run(sys, steps, (op) => {
    const full = checkInvariants(sys, op.t);
    seen += full.length;
    expect(checker.check(op.t)).toEqual(full);
  });
  expect(seen).toBeGreaterThan(0);
});

describe('each kind of change is noticed (the full check reports it, so must the incremental one)', () => {
  const changes: Array<[string, (sys: ReturnType<typeof boot>) => void]> = [
    [
      'a section’s fields (a present section made not present)',
      (sys) => {
        sys.kernel.sparse.get(FIRST)!.present = false;
      },
    ],
    [
      'a page-table entry written through physical memory, behind the kernel',
      (sys) => {
        const k = sys.kernel;
        const hit = k.pt.lookup(linearVpn(k, FIRST * 32768));
        k.mem.write64(hit.tablePfn, hit.index, 0, 0);
      },
    ],
    [
      'a page-table page zeroed',
      (sys) => {
        const k = sys.kernel;
        k.mem.zero(k.pt.lookup(linearVpn(k, FIRST * 32768)).tablePfn);
      },
    ],
    [
      'a zone’s counters',
      (sys) => {
        sys.kernel.pgdat.zones[1]!.managedPages += 1;
      },
    ],
    [
      'a workload page’s content',
      (sys) => {
        const k = sys.kernel;
        const [p] = k.workload.allocate(k, 1, 'movable');
        k.mem.write64(p!, 0, 0xdead, 0);
      },
    ],
  ];
  for (const [name, change] of changes) {
    test(name, () => {
      const sys = boot('no5lvl', false);
      run(sys, [
        { t: 'add', block: FIRST, n: 8, memmap: false },
        { t: 'online', pick: 0, type: 'online_movable' },
      ]);
      const checker = new InvariantChecker(sys);
      expect(checker.check('before')).toEqual(checkInvariants(sys, 'before'));
      change(sys);
      const full = checkInvariants(sys, 'after');
      expect(full.length).toBeGreaterThan(0);
      expect(checker.check('after')).toEqual(full);
    });
  }
});

test('a workload page that loses its tag, gets it back, loses it again and is freed: each check agrees', () => {
  const sys = boot('no5lvl', false);
  const k = sys.kernel;
  const checker = new InvariantChecker(sys);
  const pfns = k.workload.allocate(k, 3, 'movable');
  const p = pfns[1]!;
  const tag = k.mem.readLo(p, 0);
  const steps: Array<[string, () => void, number]> = [
    ['allocated', () => {}, 0],
    // An earlier check saw the page intact: only its frame changes now.
    ['overwritten', () => k.mem.write64(p, 0, 0xdead, 0), 1],
    ['unrelated frame', () => k.mem.write64(pfns[0]!, 5, 1, 1), 1],
    ['tag written back', () => k.mem.write64(p, 0, tag, 0x5a5a5a5a), 0],
    ['zeroed', () => k.mem.zero(p), 1],
    // Only the workload's record changes: the page is no workload page any more.
    ['freed', () => k.workload.release(k, p), 0],
  ];
  for (const [name, change, bad] of steps) {
    change();
    const full = checkInvariants(sys, name);
    expect(full.filter((v) => v.invariant === 'migration-preserves-content')).toHaveLength(bad);
    expect(checker.check(name)).toEqual(full);
  }
});
