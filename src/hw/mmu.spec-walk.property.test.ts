/**
 * The fast walk (`walkInto`, one loop with inlined checks and a verdict table)
 * against a walk composed of the specification-shaped step functions, one
 * per rule of the privileged spec's algorithm, on random page-table paths in
 * all three modes: same outcome, same level, same translation, same fault
 * cause, and the same memory afterwards (Svadu's A/D updates).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AccessType,
  type Privilege,
  WalkConfig,
  WalkRecord,
  accessFaultCode,
  adUpdateNeeded,
  leafPermits,
  modeVpn,
  napotIsReserved,
  pageFaultCode,
  pointerIsReserved,
  pteIsInvalid,
  pteIsLeafEntry,
  superpageMisaligned,
  translatedPpn,
  vpnLevelIndex,
  walkInto,
} from './mmu.js';
import { PAGING_MODES, type PagingMode } from './paging.js';
import { PhysMem } from './physmem.js';
import { ptePpn, PTE_A, PTE_D } from './pte.js';

interface Outcome {
  ok: boolean;
  level: number;
  ppn: number;
  cause: number;
}

interface Context {
  access: AccessType;
  priv: Privilege;
  sum: boolean;
  mxr: boolean;
  svadu: boolean;
}

/** The spec's algorithm, step by step, each step one of mmu.ts's exported rules. */
function specWalk(mem: PhysMem, mode: PagingMode, rootPpn: number, vpnIn: number, c: Context): Outcome {
  const fault = (level: number, cause: number): Outcome => ({ ok: false, level, ppn: 0, cause });
  const vpn = modeVpn(mode, vpnIn);
  if (vpn < 0) return fault(mode.levels - 1, pageFaultCode(c.access));
  let a = rootPpn;
  for (let i = mode.levels - 1; ; i--) {
    // Step 2: the entry at a + va.vpn[i] * PTESIZE; no memory there is an access fault.
    const frame = mem.readOrUndefined(a);
    if (frame === undefined) return fault(i, accessFaultCode(c.access));
    const idx = vpnLevelIndex(vpn, i);
    let lo = frame[2 * idx]!;
    const hi = frame[2 * idx + 1]!;
    // Step 3: invalid or reserved encodings.
    if (pteIsInvalid(lo, hi)) return fault(i, pageFaultCode(c.access));
    // Step 4: a pointer goes one level down; there is none below 0.
    if (!pteIsLeafEntry(lo)) {
      if (pointerIsReserved(lo, hi) || i === 0) return fault(i, pageFaultCode(c.access));
      a = ptePpn(lo, hi);
      continue;
    }
    if (napotIsReserved(lo, hi, i)) return fault(i, pageFaultCode(c.access));
    // Step 5: permissions.
    if (!leafPermits(lo, c.access, c.priv, c.sum, c.mxr)) return fault(i, pageFaultCode(c.access));
    // Step 6: a misaligned superpage.
    if (superpageMisaligned(lo, hi, i)) return fault(i, pageFaultCode(c.access));
    // Step 7: A/D: a fault under Svade, an update in memory under Svadu.
    if (adUpdateNeeded(lo, c.access)) {
      if (!c.svadu) return fault(i, pageFaultCode(c.access));
      lo = (lo | PTE_A | (c.access === 'store' ? PTE_D : 0)) >>> 0;
      mem.write(a)[2 * idx] = lo;
    }
    // Step 8: the translation.
    return { ok: true, level: i, ppn: translatedPpn(lo, hi, i, vpn), cause: 0 };
  }
}

const RAM_BASE = 0x80000;
const RAM_PAGES = 64;

/** One entry on the walk's path: flag bits and what its PPN points at. */
interface EntrySpec {
  flags: number;
  /** 'next': the next table page; 'ram': some RAM page; 'hole': no memory; 'any': a random 44-bit PPN. */
  target: 'next' | 'ram' | 'hole' | 'any';
  anyPpn: number;
  /** High-half extras: N, PBMT, reserved bits. */
  hiExtra: number;
}

const HI_EXTRAS = [0, 0, 0, 0x80000000, 0x20000000, 0x40000000, 0x60000000, 0x00400000];

const anyEntryArb: fc.Arbitrary<EntrySpec> = fc.record({
  flags: fc.integer({ min: 0, max: 0x3ff }),
  target: fc.constantFrom('next', 'ram', 'hole', 'any'),
  anyPpn: fc.integer({ min: 0, max: 2 ** 44 - 1 }),
  hiExtra: fc.constantFrom(...HI_EXTRAS),
});

/** Mostly a well-formed pointer to the next table, sometimes anything. */
const pointerArb: fc.Arbitrary<EntrySpec> = fc.oneof(
  { weight: 6, arbitrary: fc.constant<EntrySpec>({ flags: 0x01, target: 'next', anyPpn: 0, hiExtra: 0 }) },
  { weight: 1, arbitrary: anyEntryArb },
);

/** Mostly a leaf with legal permissions (A/D or not), at an aligned or misaligned PPN. */
const leafArb: fc.Arbitrary<EntrySpec> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      flags: fc.constantFrom(0xc3, 0xc7, 0xcb, 0xcf, 0xc9, 0xd3, 0xd7, 0x43, 0x83, 0x03, 0xe3, 0x0b),
      target: fc.constantFrom<EntrySpec['target']>('ram', 'any'),
      anyPpn: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 2 ** 44 - 1 })),
      hiExtra: fc.constantFrom(0, 0, 0, 0x80000000, 0x20000000),
    }),
  },
  { weight: 1, arbitrary: anyEntryArb },
);

/** Lays out a root and one table per level along vpn's path, from the specs (root first). */
function build(mode: PagingMode, vpn: number, path: EntrySpec[]): PhysMem {
  const mem = new PhysMem();
  mem.addRegion({ name: 'ram', kind: 'ram', basePfn: RAM_BASE, pages: RAM_PAGES });
  const v = modeVpn(mode, vpn);
  let table = RAM_BASE;
  for (let i = mode.levels - 1, k = 0; i >= 0; i--, k++) {
    const e = path[k]!;
    const next = RAM_BASE + 1 + k;
    const ppn =
      e.target === 'next'
        ? next
        : e.target === 'ram'
          ? RAM_BASE + 16 + (e.anyPpn % 16) // inside RAM, maybe misaligned for a superpage
          : e.target === 'hole'
            ? 0x10
            : e.anyPpn;
    const lo = ((e.flags & 0x3ff) | ((ppn % 2 ** 22) << 10)) >>> 0;
    const hi = ((Math.floor(ppn / 2 ** 22) & 0x3fffff) | e.hiExtra) >>> 0;
    if (v >= 0) mem.write64(table, vpnLevelIndex(v, i), lo, hi);
    table = next;
  }
  return mem;
}

/** The non-zero words of the table pages (the only ones a walk may write: A/D updates). */
function words(mem: PhysMem): number[] {
  const out: number[] = [];
  for (let p = RAM_BASE; p <= RAM_BASE + 5; p++) {
    const f = mem.readOrUndefined(p);
    if (f) for (let i = 0; i < f.length; i++) if (f[i]) out.push(p, i, f[i]!);
  }
  return out;
}

describe('walkInto agrees with the walk composed of the spec-shaped steps', () => {
  for (const mode of PAGING_MODES) {
    it(`in ${mode.name}`, () => {
      const vpnSpace = 2 ** (mode.vaBits - 12);
      fc.assert(
        fc.property(
          fc.oneof(
            fc.integer({ min: 0, max: vpnSpace / 2 - 1 }),
            // Upper-half addresses as va >> 12, and non-canonical ones.
            fc.integer({ min: 2 ** 52 - vpnSpace / 2, max: 2 ** 52 - 1 }),
            fc.integer({ min: vpnSpace / 2, max: 2 ** 52 - vpnSpace / 2 - 1 }),
          ),
          // The entries on the path, root first: pointers down to a leaf at a random level.
          fc
            .integer({ min: 0, max: mode.levels - 1 })
            .chain((leafLevel) =>
              fc.tuple(
                fc.array(pointerArb, {
                  minLength: mode.levels - 1 - leafLevel,
                  maxLength: mode.levels - 1 - leafLevel,
                }),
                leafArb,
                fc.array(anyEntryArb, { minLength: leafLevel, maxLength: leafLevel }),
              ),
            )
            .map(([pointers, leaf, below]) => [...pointers, leaf, ...below]),
          fc.constantFrom<AccessType>('load', 'store', 'fetch'),
          fc.constantFrom<Privilege>('S', 'U'),
          fc.boolean(),
          fc.boolean(),
          fc.boolean(),
          (vpn, path, access, priv, sum, mxr, svadu) => {
            const memA = build(mode, vpn, path);
            const memB = build(mode, vpn, path);
            const cfg = new WalkConfig({
              mode,
              rootPpn: RAM_BASE,
              priv,
              sum,
              mxr,
              ad: svadu ? 'svadu' : 'svade',
            });
            const rec = new WalkRecord();
            const ok = walkInto(rec, memA, cfg, vpn, access);
            const spec = specWalk(memB, mode, RAM_BASE, vpn, { access, priv, sum, mxr, svadu });
            expect({ ok, level: rec.level, ppn: ok ? rec.ppn : 0, cause: ok ? 0 : rec.cause }).toEqual(spec);
            expect(words(memA)).toEqual(words(memB));
          },
        ),
        { numRuns: 1500 },
      );
    });
  }
});
