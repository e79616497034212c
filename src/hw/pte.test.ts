import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  PBMT_IO,
  PBMT_NC,
  PTE_A,
  PTE_D,
  PTE_FLAGS_MASK,
  PTE_R,
  PTE_V,
  PTE_W,
  PTE_X,
  pteFlags,
  pteFromBigInt,
  pteHi,
  pteIsLeaf,
  pteIsReservedEncoding,
  pteIsValid,
  pteLo,
  ptePbmt,
  ptePpn,
  pteNapot,
  pteToBigInt,
} from './pte.js';

const ppnArb = fc.oneof(fc.integer({ min: 0, max: 0xfffff }), fc.integer({ min: 0, max: 2 ** 44 - 1 }));

/** A PTE's fields: ppn, the ten flag bits, PBMT and N. */
const fieldsArb = fc.tuple(
  ppnArb,
  fc.integer({ min: 0, max: PTE_FLAGS_MASK }),
  fc.integer({ min: 0, max: 3 }),
  fc.boolean(),
);

describe('PTE codec', () => {
  it('ppn, flags, PBMT and N round-trip through the two halves', () => {
    fc.assert(
      fc.property(fieldsArb, ([ppn, flags, pbmt, napot]) => {
        const lo = pteLo(ppn, flags);
        const hi = pteHi(ppn, pbmt, napot);
        expect(lo >>> 0).toBe(lo);
        expect(hi >>> 0).toBe(hi);
        expect(ptePpn(lo, hi)).toBe(ppn);
        expect(pteFlags(lo)).toBe(flags);
        expect(ptePbmt(hi)).toBe(pbmt);
        expect(pteNapot(hi)).toBe(napot);
      }),
    );
  });

  it('matches the 64-bit layout: PPN at bit 10, PBMT at 61, N at 63', () => {
    fc.assert(
      fc.property(fieldsArb, ([ppn, flags, pbmt, napot]) => {
        const v = pteToBigInt(pteLo(ppn, flags), pteHi(ppn, pbmt, napot));
        const expected =
          (BigInt(ppn) << 10n) | BigInt(flags) | (BigInt(pbmt) << 61n) | (napot ? 1n << 63n : 0n);
        expect(v).toBe(expected);
        expect(pteFromBigInt(v)).toEqual({ lo: pteLo(ppn, flags), hi: pteHi(ppn, pbmt, napot) });
      }),
    );
  });

  it('bigint conversion round-trips any 64-bit value', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (v) => {
        const { lo, hi } = pteFromBigInt(v);
        expect(pteToBigInt(lo, hi)).toBe(v);
      }),
    );
  });

  it('classifies valid, leaf and reserved encodings', () => {
    expect(pteIsValid(PTE_V)).toBe(true);
    expect(pteIsValid(PTE_R)).toBe(false);
    expect(pteIsLeaf(PTE_V)).toBe(false);
    expect(pteIsLeaf(PTE_V | PTE_X)).toBe(true);
    expect(pteIsReservedEncoding(PTE_V | PTE_W, 0)).toBe(true);
    expect(pteIsReservedEncoding(PTE_V | PTE_W | PTE_X, 0)).toBe(true);
    expect(pteIsReservedEncoding(PTE_V | PTE_R | PTE_W | PTE_A | PTE_D, 0)).toBe(false);
    expect(pteIsReservedEncoding(PTE_V | PTE_R, pteHi(0, 3))).toBe(true);
    expect(pteIsReservedEncoding(PTE_V | PTE_R, pteHi(0, PBMT_NC))).toBe(false);
    expect(pteIsReservedEncoding(PTE_V | PTE_R, pteHi(0, PBMT_IO))).toBe(false);
    expect(pteIsReservedEncoding(PTE_V | PTE_R, 1 << 22)).toBe(true); // bit 54
    expect(pteIsReservedEncoding(PTE_V | PTE_R, 1 << 28)).toBe(true); // bit 60
  });
});
