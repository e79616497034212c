import { describe, expect, test } from 'vitest';
import type { GuestSystem } from '../kernel/system.js';
import { bootOracleMachine } from '../../test/support/guest.js';
import { addMemory, MHP_NONE, removeMemory, offlineAndRemoveMemory } from '../kernel/mm/memory_hotplug.js';
import { countAllocations, injectAlong, type FaultOutcome } from './faults.js';
import { ENOMEM } from '../kernel/errno.js';

const boot = (append: string): GuestSystem => bootOracleMachine(append.replace(/^mem=2G ?/, ''));

function summary(out: FaultOutcome[]): Record<string, number> {
  const s: Record<string, number> = {};
  for (const o of out) s[o.kind] = (s[o.kind] ?? 0) + 1;
  return s;
}

/** add_memory() failed after arch_add_memory(): arch_remove_memory() undid all but max_pfn (riscv never lowers it). */
function expectOnlyMaxPfnLeft(o: FaultOutcome): void {
  expect(o.kind).toBe('failed-dirty');
  if (o.kind !== 'failed-dirty') return;
  expect(o.errno).toBe(ENOMEM);
  expect(o.violations).toEqual([]);
  expect(o.firstDifference).toMatch(/^before: totalram \d+ max_pfn \d+\nafter: {2}totalram \d+ max_pfn \d+$/);
}

describe('fault injection: the N-th page allocation fails', () => {
  for (const mode of ['', 'no5lvl', 'no4lvl']) {
    test(`add_memory of one block: mapping survives any single failed allocation, registering the device fails with ENOMEM (${mode || 'sv57'})`, () => {
      const out = injectAlong(
        () => boot(`mem=2G ${mode}`),
        (s) => addMemory(s.kernel, 0, 0x100000000n, 0x8000000n, MHP_NONE),
        'add 128M',
      );
      // Every allocation was really failed once. Mapping the memory survives it (a 2 MiB vmemmap
      // block that cannot be had falls back to base pages); registering the block device cannot
      // (a slab page for its objects), and that failure only leaves max_pfn raised, as the kernel does.
      expect(out.length).toBeGreaterThan(0);
      expect(out.every((o) => o.fired)).toBe(true);
      for (const o of out) {
        if (o.kind === 'bug') expect(o.where).toMatch(/create_linear_mapping_range/);
        else if (o.kind !== 'completed') expectOnlyMaxPfnLeft(o);
      }
      expect(out.some((o) => o.kind === 'failed-dirty')).toBe(true);
      // The fallback is what saved it: base pages where the 2 MiB block failed, so the state differs.
      expect(out.some((o) => o.kind === 'completed' && !o.asWithoutFault)).toBe(true);
    });

    test(`add_memory of one block fails cleanly (but for max_pfn) when memory runs out at any point (${mode || 'sv57'})`, () => {
      const out = injectAlong(
        () => boot(`mem=2G ${mode}`),
        (s) => addMemory(s.kernel, 0, 0x100000000n, 0x8000000n, MHP_NONE),
        'add 128M',
        true,
      );
      expect(out.length).toBeGreaterThan(0);
      expect(out.every((o) => o.fired)).toBe(true);
      for (const o of out) {
        // A failing page-table allocation for the linear map is a BUG_ON in the kernel; everything else must be
        // clean, but for max_pfn once arch_add_memory() succeeded and the block device could not be registered.
        if (o.kind === 'bug') expect(o.where).toMatch(/create_linear_mapping_range/);
        else if (o.kind !== 'failed-clean') expectOnlyMaxPfnLeft(o);
      }
    });
  }

  test('add_memory of 1 GiB: a failure after the first section leaks the sections added before it, as in the kernel', () => {
    const out = injectAlong(
      () => boot('mem=2G no5lvl'),
      (s) => addMemory(s.kernel, 0, 0x100000000n, 0x40000000n, MHP_NONE),
      'add 1G',
      true,
    );
    const s = summary(out);
    // __add_pages() stops at the failing section and nobody tears down the ones before it.
    expect(s['failed-dirty']).toBeGreaterThan(0);
    for (const o of out) {
      if (o.kind !== 'failed-dirty') continue;
      expect(o.errno).toBe(ENOMEM);
      // Failing in the block devices' registration, after every section was added, tears all of them down.
      if (o.violations.length === 0) expectOnlyMaxPfnLeft(o);
      else expect(o.violations.map((v) => v.invariant)).toContain('linear-map-covers-present-memory');
    }
    expect(out.some((o) => o.kind === 'failed-dirty' && o.violations.length > 0)).toBe(true);
    // The first vmemmap allocation failing leaves nothing behind.
    expect(out.find((o) => o.kind !== 'bug')?.kind).toBe('failed-clean');
  });

  test('remove_memory and offline_and_remove_memory allocate nothing (nothing to fail)', () => {
    const fresh = (): GuestSystem => boot('mem=2G');
    const prepared = (): GuestSystem => {
      const s = fresh();
      expect(addMemory(s.kernel, 0, 0x100000000n, 0x40000000n, MHP_NONE)).toBe(0);
      return s;
    };
    // The counter does count: adding the same range allocates (page tables, vmemmap).
    expect(
      countAllocations(fresh, (s) => addMemory(s.kernel, 0, 0x100000000n, 0x40000000n, MHP_NONE)),
    ).toBeGreaterThan(0);
    expect(countAllocations(prepared, (s) => removeMemory(s.kernel, 0x100000000n, 0x40000000n))).toBe(0);
    expect(
      countAllocations(prepared, (s) => offlineAndRemoveMemory(s.kernel, 0x100000000n, 0x40000000n)),
    ).toBe(0);
    // And both really removed the memory, so there was something they could have allocated for.
    const s = prepared();
    expect(removeMemory(s.kernel, 0x100000000n, 0x40000000n)).toBe(0);
    expect(s.kernel.memoryBlocks.has(32)).toBe(false);
  });
});
