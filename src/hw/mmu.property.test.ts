/**
 * Property tests: random non-overlapping mappings of every leaf size a mode
 * has (and 64 KiB NAPOT), written as page tables through PhysMem; then every
 * mapping translates back exactly at its first, last and a random page, the
 * permissions it lacks fault, and addresses outside every mapping fault.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type AccessType, type Privilege, WalkConfig, WalkRecord, walkInto } from './mmu.js';
import { PAGING_MODES, type PagingMode, levelPages, vpnToVa, canonicalVpn } from './paging.js';
import { PhysMem } from './physmem.js';
import { bumpAllocator, mapPage } from './ptbuilder.js';
import { PTE_A, PTE_D, PTE_G, PTE_R, PTE_U, PTE_W, PTE_X } from './pte.js';
import { Hart } from './hart.js';

/** The five legal leaf permission sets. */
const PERMS = [PTE_R, PTE_R | PTE_W, PTE_X, PTE_R | PTE_X, PTE_R | PTE_W | PTE_X];

interface Spec {
  level: number;
  napot: boolean;
  slot: number;
  target: number;
  perm: number;
  user: boolean;
  global: boolean;
  probe: number;
}

interface Mapping {
  vpn: number;
  pages: number;
  /** Leaf level; -1 marks a 64 KiB NAPOT mapping (level 0 entries). */
  level: number;
  ppn: number;
  flags: number;
  /** A random page inside, as an offset. */
  inside: number;
}

function specArb(mode: PagingMode): fc.Arbitrary<Spec> {
  return fc.record({
    level: fc.integer({ min: 0, max: mode.levels - 1 }),
    napot: fc.boolean(),
    // Low slots make mappings share page-table pages; big ones spread them out.
    slot: fc.oneof(fc.integer({ min: 0, max: 2047 }), fc.maxSafeNat()),
    target: fc.maxSafeNat(),
    perm: fc.constantFrom(...PERMS),
    user: fc.boolean(),
    global: fc.boolean(),
    probe: fc.double({ min: 0, max: 1, noNaN: true }),
  });
}

/** Turns specs into disjoint mappings (dropping those that overlap an earlier one). */
function place(mode: PagingMode, specs: Spec[]): Mapping[] {
  const vpnSpace = 2 ** (mode.vaBits - 12);
  const out: Mapping[] = [];
  for (const s of specs) {
    const napot = s.napot && s.level === 0;
    const pages = napot ? 16 : levelPages(s.level);
    const vpn = (s.slot % (vpnSpace / pages)) * pages;
    const ppn = (s.target % (2 ** 44 / pages)) * pages;
    if (out.some((m) => vpn < m.vpn + m.pages && m.vpn < vpn + pages)) continue;
    const flags = s.perm | PTE_A | PTE_D | (s.user ? PTE_U : 0) | (s.global ? PTE_G : 0);
    const inside = Math.min(pages - 1, Math.floor(s.probe * pages));
    out.push({ vpn, pages, level: napot ? -1 : s.level, ppn, flags, inside });
  }
  return out;
}

function build(mode: PagingMode, maps: Mapping[]): { mem: PhysMem; root: number } {
  const mem = new PhysMem();
  mem.addRegion({ name: 'ram', kind: 'ram', basePfn: 0x80000, pages: 1 << 16 });
  const alloc = bumpAllocator(mem, 0x80000);
  const root = alloc();
  for (const m of maps) {
    mapPage(mem, mode, root, m.vpn, Math.max(m.level, 0), m.ppn, m.flags, alloc, { napot: m.level < 0 });
  }
  return { mem, root };
}

function allowed(flags: number, access: AccessType): boolean {
  if (access === 'load') return (flags & PTE_R) !== 0;
  if (access === 'store') return (flags & PTE_W) !== 0;
  return (flags & PTE_X) !== 0;
}

const ACCESSES: AccessType[] = ['load', 'store', 'fetch'];

for (const mode of PAGING_MODES) {
  describe(`random mappings in ${mode.name}`, () => {
    it('every mapping translates back exactly, and only with its permissions', () => {
      fc.assert(
        fc.property(fc.array(specArb(mode), { minLength: 1, maxLength: 24 }), (specs) => {
          const maps = place(mode, specs);
          const { mem, root } = build(mode, maps);
          const rec = new WalkRecord();
          for (const m of maps) {
            const priv: Privilege = (m.flags & PTE_U) !== 0 ? 'U' : 'S';
            const cfg = new WalkConfig({ mode, rootPpn: root, priv });
            for (const off of [0, m.pages - 1, m.inside]) {
              for (const access of ACCESSES) {
                const ok = walkInto(rec, mem, cfg, m.vpn + off, access);
                expect(ok).toBe(allowed(m.flags, access));
                if (ok) {
                  expect(rec.ppn).toBe(m.ppn + off);
                  expect(rec.level).toBe(Math.max(m.level, 0));
                  expect(rec.global).toBe((m.flags & PTE_G) !== 0);
                  expect(rec.depth).toBe(mode.levels - Math.max(m.level, 0));
                } else {
                  expect(rec.causeName).toMatch(/page-fault$/);
                }
              }
            }
            // The other privilege is always refused (S on a U page without SUM, U on an S page).
            const other = new WalkConfig({ mode, rootPpn: root, priv: priv === 'U' ? 'S' : 'U' });
            expect(walkInto(rec, mem, other, m.vpn, 'load')).toBe(false);
          }
        }),
        { numRuns: 60 },
      );
    });

    it('addresses outside every mapping fault', () => {
      fc.assert(
        fc.property(
          fc.array(specArb(mode), { minLength: 0, maxLength: 16 }),
          fc.array(fc.oneof(fc.integer({ min: 0, max: 1 << 20 }), fc.maxSafeNat()), {
            minLength: 1,
            maxLength: 32,
          }),
          (specs, probes) => {
            const maps = place(mode, specs);
            const { mem, root } = build(mode, maps);
            const cfg = new WalkConfig({ mode, rootPpn: root, priv: 'S', sum: true, mxr: true });
            const rec = new WalkRecord();
            const vpnSpace = 2 ** (mode.vaBits - 12);
            // Probe random pages, and the pages just outside each mapping.
            const vpns = probes.map((p) => p % vpnSpace);
            for (const m of maps) vpns.push(m.vpn - 1, m.vpn + m.pages);
            for (const vpn of vpns) {
              if (vpn < 0 || vpn >= vpnSpace) continue;
              const mapped = maps.some((m) => vpn >= m.vpn && vpn < m.vpn + m.pages);
              if (mapped) continue;
              expect(walkInto(rec, mem, cfg, vpn, 'load')).toBe(false);
              expect(rec.causeName).toBe('load-page-fault');
            }
          },
        ),
        { numRuns: 60 },
      );
    });

    it('a hart through its TLB agrees with the walk, hits or misses', () => {
      fc.assert(
        fc.property(fc.array(specArb(mode), { minLength: 1, maxLength: 12 }), fc.nat(), (specs, seed) => {
          const maps = place(mode, specs);
          const { mem, root } = build(mode, maps);
          const hart = new Hart(0, mem, { tlb: { entries: 8, ways: 2 } }); // small: forces evictions
          hart.satp = { mode: mode.satpMode, asid: 1, ppn: root };
          hart.setStatus({ sum: true });
          hart.setStatus({ mxr: true });
          const rec = new WalkRecord();
          const cfg = new WalkConfig({ mode, rootPpn: root, priv: 'S', sum: true, mxr: true });
          for (let round = 0; round < 3; round++) {
            for (const [i, m] of maps.entries()) {
              const off = (seed + i * 7919 + round) % m.pages;
              const va = vpnToVa(mode, m.vpn + off);
              expect(canonicalVpn(mode, va)).toBe(m.vpn + off);
              for (const access of ACCESSES) {
                const t = hart.translate(va | 0x123n, access);
                const ok = walkInto(rec, mem, cfg, m.vpn + off, access);
                expect(t.ok).toBe(ok);
                if (t.ok) {
                  expect(t.pa).toBe((BigInt(m.ppn + off) << 12n) | 0x123n);
                  // Straight away the same access is served by the TLB, with the same answer.
                  expect(hart.translate(va, access)).toMatchObject({
                    ok: true,
                    tlbHit: true,
                    ppn: m.ppn + off,
                  });
                }
              }
            }
          }
          expect(hart.tlb.staleEntries(mem)).toEqual([]);
        }),
        { numRuns: 40 },
      );
    });
  });
}
