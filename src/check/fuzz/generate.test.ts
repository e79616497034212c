/**
 * Sequence i of a campaign is a pure function of (seed, i): generated twice,
 * alone or after other sequences, it is the same; other seeds and indices
 * give other sequences. It draws every kind of operation, invalid ones too.
 */
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { parseRunArgs } from '../../session/options.js';
import { fuzzMachineFactory } from '../../session/fuzz-machine.js';
import { splitFuzzMachine } from '../../../test/support/fuzz-machine.js';
import { runSequence } from './runner.js';
import { opLine } from './ops.js';
import { FuzzRng } from './rng.js';

const machine = splitFuzzMachine;
const factory = fuzzMachineFactory({ machine, initrdSize: 0 });
const lines = (seed: number, index: number, length = 12): string[] =>
  runSequence({ factory, seed, length }, index).ops.map(opLine);

describe('the generator', () => {
  test('the same (seed, index) gives the same operations, whatever ran before', () => {
    fc.assert(
      fc.property(fc.nat({ max: 2 ** 40 }), fc.nat({ max: 10_000 }), (seed, index) => {
        const first = lines(seed, index);
        lines(seed + 1, index + 1); // another sequence in between leaves nothing behind
        expect(lines(seed, index)).toEqual(first);
      }),
      { numRuns: 15 },
    );
  });

  test('other seeds and other indices give other sequences', () => {
    const a = lines(7, 0);
    expect(lines(7, 1)).not.toEqual(a);
    expect(lines(8, 0)).not.toEqual(a);
    // Seeds past 2^32 differ from their low halves (both halves feed the stream).
    expect(lines(2 ** 32 + 7, 0)).not.toEqual(a);
  });

  test('random streams are pure functions of (seed, index)', () => {
    const draw = (s: number, i: number): number[] => {
      const r = new FuzzRng(s, i);
      return Array.from({ length: 8 }, () => r.int(0, 1 << 30));
    };
    expect(draw(3, 5)).toEqual(draw(3, 5));
    expect(draw(3, 5)).not.toEqual(draw(5, 3));
  });

  test('a campaign draws every kind of operation, valid and invalid', () => {
    const all = Array.from({ length: 12 }, (_, i) => lines(1, i, 24)).flat();
    for (const file of ['add', 'add_memmap', 'add_driver_managed', 'remove', 'offline_and_remove'])
      expect(all.some((l) => l.endsWith(`/hotplug_oracle/${file}`))).toBe(true);
    for (const v of ['online', 'online_kernel', 'online_movable', 'offline'])
      expect(all).toContainEqual(expect.stringMatching(new RegExp(`^echo ${v} > .*/state$`)));
    expect(all.some((l) => /\/online$/.test(l))).toBe(true);
    for (const kind of ['movable', 'pinned', 'unmovable'])
      expect(all.some((l) => l.startsWith(`workload alloc ${kind} `))).toBe(true);
    expect(all.some((l) => l.startsWith('workload free '))).toBe(true);
    // Invalid arguments: a misaligned start or a zero size.
    expect(all.some((l) => / 0x0 > /.test(l) || /^echo 0x[0-9a-f]*100000 /.test(l))).toBe(true);
  });

  test('the ZONE_DEVICE build also maps and unmaps device memory', () => {
    const zdev = fuzzMachineFactory({
      machine: parseRunArgs([
        ...['-m', '8G', '-append', 'mem=2G no5lvl'],
        '-kernel',
        'linux-6.12.117-virt-zdev',
      ]),
      initrdSize: 0,
    });
    const all = Array.from({ length: 12 }, (_, i) =>
      runSequence({ factory: zdev, seed: 1, length: 24 }, i).ops.map(opLine),
    ).flat();
    expect(all.some((l) => /\/memremap(_altmap)?$/.test(l))).toBe(true);
    expect(all.some((l) => l.endsWith('/memunmap'))).toBe(true);
  });
});
