/**
 * Fault injection for ZONE_DEVICE: memremap_pages with the N-th (or every later) page allocation
 * failing, on the ZONE_DEVICE build.
 */
import { describe, expect, test } from 'vitest';
import { GuestSystem } from '../kernel/system.js';
import { zdevKernelProfile } from '../kernel/profile.js';
import { devPagemaps, memremapPages, memunmapPages, newDevPagemap } from '../kernel/mm/memremap.js';
import { newAltmap } from '../kernel/mm/sparse_vmemmap.js';
import { ENOMEM } from '../kernel/errno.js';
import { countAllocations, injectAlong, type FaultOutcome } from './faults.js';

const boot = (mode: string): GuestSystem =>
  new GuestSystem({
    ramBytes: 8n << 30n,
    smp: 2,
    append: `mem=2G ${mode}`.trim(),
    initrdSize: 0x7f000,
    profile: zdevKernelProfile(),
  });

function summary(out: FaultOutcome[]): Record<string, number> {
  const s: Record<string, number> = {};
  for (const o of out) s[o.kind] = (s[o.kind] ?? 0) + 1;
  return s;
}

const remap =
  (start: bigint, size: bigint, altmap = false) =>
  (s: GuestSystem) =>
    memremapPages(
      s.kernel,
      newDevPagemap(
        'generic',
        start,
        size,
        altmap
          ? newAltmap(
              Number(start >> 12n),
              Number((start + size) >> 12n) - 1,
              Math.ceil(Number(size >> 12n) / 64 / 512) * 512,
            )
          : undefined,
      ),
      0,
    );

describe('fault injection: memremap_pages', () => {
  for (const mode of ['', 'no5lvl', 'no4lvl']) {
    const cases: Array<[string, () => GuestSystem, (s: GuestSystem) => number]> = [
      ['128 MiB', () => boot(mode), remap(0x100000000n, 0x8000000n)],
      ['a 2 MiB sub-section', () => boot(mode), remap(0x100000000n, 0x200000n)],
      ['256 MiB with an altmap', () => boot(mode), remap(0x140000000n, 0x10000000n, true)],
      [
        'a 2 MiB sub-section next to another one',
        () => {
          const s = boot(mode);
          expect(remap(0x100000000n, 0x200000n)(s)).toBe(0);
          return s;
        },
        remap(0x100200000n, 0x200000n),
      ],
    ];
    for (const [what, make, op] of cases) {
      test(`${what} leaves nothing behind when memory runs out at any point (${mode || 'sv57'})`, () => {
        const out = injectAlong(make, op, `memremap ${what}`, true);
        // A sub-section whose neighbour already made the tables and the shared vmemmap leaf allocates nothing.
        if (what.startsWith('128')) expect(out.length).toBeGreaterThan(0);
        expect(out.every((o) => o.fired)).toBe(true);
        for (const o of out) {
          // A failing page-table allocation for the linear map is the kernel's BUG_ON.
          if (o.kind === 'bug') expect(o.where).toMatch(/create_linear_mapping_range/);
          else {
            expect(o.kind).toBe('failed-clean');
            if (o.kind === 'failed-clean') expect(o.errno).toBe(ENOMEM);
          }
        }
      });

      test(`${what} survives any single failed allocation or fails cleanly (${mode || 'sv57'})`, () => {
        const out = injectAlong(make, op, `memremap ${what}`);
        for (const o of out) {
          if (o.kind === 'bug') expect(o.where).toMatch(/create_linear_mapping_range/);
          else expect(['completed', 'failed-clean']).toContain(o.kind);
        }
      });
    }
  }

  test('1 GiB: a failure after the first section leaks the sections before it, as __add_pages does for RAM', () => {
    const out = injectAlong(() => boot('no5lvl'), remap(0x180000000n, 0x40000000n), 'memremap 1G', true);
    const s = summary(out);
    expect(s['failed-dirty']).toBeGreaterThan(0);
    for (const o of out) if (o.kind === 'failed-dirty') expect(o.errno).toBe(ENOMEM);
  });

  test('memunmap_pages allocates nothing', () => {
    const prepared = (): GuestSystem => {
      const s = boot('no5lvl');
      expect(remap(0x100000000n, 0x8000000n)(s)).toBe(0);
      return s;
    };
    expect(
      countAllocations(prepared, (s) => {
        memunmapPages(s.kernel, devPagemaps(s.kernel)[0]!);
        expect(devPagemaps(s.kernel)).toHaveLength(0);
        return 0;
      }),
    ).toBe(0);
  });
});
