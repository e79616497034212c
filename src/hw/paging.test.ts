import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  PAGING_MODES,
  SV39,
  SV48,
  SV57,
  canonicalVpn,
  decodeSatp,
  encodeSatp,
  levelPages,
  levelShift,
  pagingMode,
  vpnIndex,
  vpnToVa,
} from './paging.js';

describe('paging modes', () => {
  it('have the spec geometry', () => {
    expect([SV39, SV48, SV57].map((m) => [m.levels, m.vaBits, m.satpMode])).toEqual([
      [3, 39, 8],
      [4, 48, 9],
      [5, 57, 10],
    ]);
    expect(pagingMode('sv48')).toBe(SV48);
    expect([0, 1, 2, 3, 4].map(levelShift)).toEqual([12, 21, 30, 39, 48]);
    expect(levelPages(2)).toBe(512 * 512);
  });

  it('vpnIndex slices 9 bits per level', () => {
    const vpn = 0b101010101_000000001_111111111_000000011;
    expect([0, 1, 2, 3].map((l) => vpnIndex(vpn, l))).toEqual([3, 511, 1, 341]);
  });

  for (const mode of PAGING_MODES) {
    it(`${mode.name}: canonical addresses round-trip through vpns`, () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: 2 ** (mode.vaBits - 12) - 1 }),
          fc.integer({ min: 0, max: 4095 }),
          (vpn, off) => {
            const va = vpnToVa(mode, vpn) | BigInt(off);
            expect(canonicalVpn(mode, va)).toBe(vpn);
          },
        ),
      );
    });

    it(`${mode.name}: non-canonical addresses are rejected`, () => {
      const bit = BigInt(mode.vaBits);
      expect(canonicalVpn(mode, 1n << bit)).toBeUndefined();
      expect(canonicalVpn(mode, (1n << 63n) | 0x1000n)).toBeUndefined();
      expect(canonicalVpn(mode, -1n)).toBe(2 ** (mode.vaBits - 12) - 1);
    });
  }

  it('satp encodes and decodes', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(0 as const, 8 as const, 9 as const, 10 as const),
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 2 ** 44 - 1 }),
        (mode, asid, ppn) => {
          expect(decodeSatp(encodeSatp({ mode, asid, ppn }))).toEqual({ mode, asid, ppn });
        },
      ),
    );
    expect(() => decodeSatp(1n << 60n)).toThrow(RangeError);
  });
});
