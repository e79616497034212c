import { describe, expect, it } from 'vitest';
import {
  type AccessType,
  type WalkOptions,
  WalkConfig,
  WalkRecord,
  adUpdateNeeded,
  findLeafInto,
  leafAllows,
  leafPermits,
  modeVpn,
  napotIsReserved,
  pointerIsReserved,
  pteIsInvalid,
  pteIsLeafEntry,
  pteIsPointer,
  superpageMisaligned,
  translatedPpn,
  vpnLevelIndex,
  walk,
  walkConfigFromSatp,
  walkInto,
  walkVa,
} from './mmu.js';
import { SV39, SV48, SV57, type PagingMode, encodeSatp, vpnIndex } from './paging.js';
import { PhysMem } from './physmem.js';
import { bumpAllocator, mapPage, setPte, type FrameAllocator } from './ptbuilder.js';
import { PTE_A, PTE_D, PTE_G, PTE_R, PTE_U, PTE_V, PTE_W, PTE_X, pteHi, pteLo } from './pte.js';

const RAM_BASE = 0x80000;
const RWX = PTE_R | PTE_W | PTE_X;
const RWAD = PTE_R | PTE_W | PTE_A | PTE_D;
const VPN = 0x12345; // an arbitrary 4 KiB page, vpn[2]=0, vpn[1]=0x91, vpn[0]=0x145 in Sv39
const TARGET = 0x90000; // a frame inside RAM

interface Fixture {
  mem: PhysMem;
  root: number;
  alloc: FrameAllocator;
  mode: PagingMode;
  cfg(o?: Omit<WalkOptions, 'mode' | 'rootPpn'>): WalkConfig;
  map(
    vpn: number,
    level: number,
    ppn: number,
    flags: number,
    opts?: { napot?: boolean; pbmt?: number },
  ): void;
}

function fixture(mode: PagingMode = SV39): Fixture {
  const mem = new PhysMem();
  mem.addRegion({ name: 'ram', kind: 'ram', basePfn: RAM_BASE, pages: 1 << 16 });
  const alloc = bumpAllocator(mem, RAM_BASE);
  const root = alloc();
  return {
    mem,
    root,
    alloc,
    mode,
    cfg: (o = {}) => new WalkConfig({ mode, rootPpn: root, ...o }),
    map: (vpn, level, ppn, flags, opts) => mapPage(mem, mode, root, vpn, level, ppn, flags, alloc, opts),
  };
}

function load(
  f: Fixture,
  vpn: number,
  o: Omit<WalkOptions, 'mode' | 'rootPpn'> = {},
  access: AccessType = 'load',
) {
  return walk(f.mem, f.cfg(o), vpn, access);
}

describe('walk: successful translation', () => {
  it('translates a 4 KiB leaf', () => {
    const f = fixture();
    f.map(VPN, 0, TARGET, RWAD);
    const r = load(f, VPN);
    expect(r).toMatchObject({ ok: true, ppn: TARGET, level: 0 });
  });

  it('records every PTE read, root first', () => {
    const f = fixture();
    f.map(VPN, 0, TARGET, RWAD);
    const r = load(f, VPN);
    expect(r.ptePfns).toHaveLength(3);
    expect(r.ptePfns[0]).toBe(f.root);
    expect(r.pteIndexes).toEqual([vpnIndex(VPN, 2), vpnIndex(VPN, 1), vpnIndex(VPN, 0)]);
    // The leaf really is at the recorded place.
    expect(f.mem.readLo(r.ptePfns[2]!, r.pteIndexes[2]!) >>> 10).toBe(TARGET);
  });

  for (const [mode, level, name] of [
    [SV39, 1, '2 MiB'],
    [SV39, 2, '1 GiB'],
    [SV48, 3, '512 GiB'],
    [SV57, 4, '256 TiB'],
  ] as const) {
    it(`${name} leaf (${mode.name}) translates with the VPN's low bits spliced in`, () => {
      const f = fixture(mode);
      const pages = 2 ** (9 * level);
      const base = pages * 3;
      const ppn = pages * 5; // aligned, possibly beyond RAM: the walk does not care where the leaf points
      f.map(base, level, ppn, RWAD);
      for (const off of [0, 1, 0x1ff, pages - 1, Math.floor(pages / 3)]) {
        expect(load(f, base + off)).toMatchObject({ ok: true, ppn: ppn + off, level });
      }
    });
  }

  it('NAPOT 64 KiB leaf at level 0 translates all 16 pages', () => {
    const f = fixture();
    const base = 0x4000; // 16-page aligned
    f.map(base, 0, 0x91230, RWAD, { napot: true });
    for (let i = 0; i < 16; i++)
      expect(load(f, base + i)).toMatchObject({ ok: true, ppn: 0x91230 + i, level: 0 });
  });

  it('PBMT NC and IO on a leaf are allowed', () => {
    const f = fixture();
    f.map(VPN, 0, TARGET, RWAD, { pbmt: 1 });
    f.map(VPN + 1, 0, TARGET, RWAD, { pbmt: 2 });
    expect(load(f, VPN).ok).toBe(true);
    expect(load(f, VPN + 1).ok).toBe(true);
  });

  it('G on a pointer makes the leaf global', () => {
    const f = fixture();
    f.map(VPN, 0, TARGET, RWAD);
    const first = load(f, VPN);
    expect(first).toMatchObject({ ok: true, global: false });
    const rootIdx = vpnIndex(VPN, 2);
    f.mem.write64(
      f.root,
      rootIdx,
      (f.mem.readLo(f.root, rootIdx) | PTE_G) >>> 0,
      f.mem.readHi(f.root, rootIdx),
    );
    expect(load(f, VPN)).toMatchObject({ ok: true, global: true });
  });
});

describe('walk: invalid and reserved entries', () => {
  it('V=0 faults', () => {
    const f = fixture();
    expect(load(f, VPN)).toMatchObject({ ok: false, cause: 'load-page-fault', level: 2 });
    f.map(VPN, 0, TARGET, RWAD);
    setPte(f.mem, f.mode, f.root, VPN, 0, pteLo(TARGET, RWAD), 0); // V cleared
    expect(load(f, VPN)).toMatchObject({ ok: false, cause: 'load-page-fault', level: 0 });
  });

  it('W without R is reserved', () => {
    const f = fixture();
    f.map(VPN, 0, TARGET, PTE_W | PTE_A | PTE_D);
    expect(load(f, VPN, {}, 'store')).toMatchObject({ ok: false, cause: 'store-page-fault', level: 0 });
  });

  it('W+X without R is reserved', () => {
    const f = fixture();
    f.map(VPN, 0, TARGET, PTE_W | PTE_X | PTE_A | PTE_D);
    expect(load(f, VPN, {}, 'fetch')).toMatchObject({ ok: false, cause: 'instruction-page-fault' });
  });

  it('reserved bits 54-60 fault', () => {
    const f = fixture();
    for (let bit = 54; bit <= 60; bit++) {
      f.map(VPN, 0, TARGET, RWAD);
      setPte(
        f.mem,
        f.mode,
        f.root,
        VPN,
        0,
        pteLo(TARGET, RWAD | PTE_V),
        (pteHi(TARGET) | (1 << (bit - 32))) >>> 0,
      );
      expect(load(f, VPN), `bit ${bit}`).toMatchObject({ ok: false, cause: 'load-page-fault' });
      setPte(f.mem, f.mode, f.root, VPN, 0, 0, 0);
    }
  });

  it('PBMT=3 is reserved', () => {
    const f = fixture();
    f.map(VPN, 0, TARGET, RWAD, { pbmt: 3 });
    expect(load(f, VPN)).toMatchObject({ ok: false, cause: 'load-page-fault' });
  });

  it('PBMT on a non-leaf is reserved', () => {
    const f = fixture();
    f.map(VPN, 0, TARGET, RWAD);
    const i = vpnIndex(VPN, 2);
    const lo = f.mem.readLo(f.root, i);
    f.mem.write64(f.root, i, lo, (f.mem.readHi(f.root, i) | (1 << 29)) >>> 0);
    expect(load(f, VPN)).toMatchObject({ ok: false, cause: 'load-page-fault', level: 2 });
  });

  it('N on a non-leaf is reserved', () => {
    const f = fixture();
    f.map(VPN, 0, TARGET, RWAD);
    const i = vpnIndex(VPN, 2);
    f.mem.write64(f.root, i, f.mem.readLo(f.root, i), (f.mem.readHi(f.root, i) | 0x80000000) >>> 0);
    expect(load(f, VPN)).toMatchObject({ ok: false, cause: 'load-page-fault', level: 2 });
  });

  for (const [bit, name] of [
    [PTE_D, 'D'],
    [PTE_A, 'A'],
    [PTE_U, 'U'],
  ] as const) {
    it(`${name} on a non-leaf is reserved`, () => {
      const f = fixture();
      f.map(VPN, 0, TARGET, RWAD);
      const i = vpnIndex(VPN, 2);
      f.mem.write64(f.root, i, (f.mem.readLo(f.root, i) | bit) >>> 0, f.mem.readHi(f.root, i));
      expect(load(f, VPN)).toMatchObject({ ok: false, cause: 'load-page-fault', level: 2 });
    });
  }

  it('pointer at level 0 faults', () => {
    const f = fixture();
    f.map(VPN, 0, TARGET, RWAD);
    setPte(f.mem, f.mode, f.root, VPN, 0, pteLo(TARGET, PTE_V), 0);
    expect(load(f, VPN)).toMatchObject({ ok: false, cause: 'load-page-fault', level: 0 });
  });

  it('misaligned 2 MiB leaf faults', () => {
    const f = fixture();
    f.map(0x200, 1, TARGET + 1, RWAD);
    expect(load(f, 0x200)).toMatchObject({ ok: false, cause: 'load-page-fault', level: 1 });
  });

  it('misaligned 1 GiB leaf faults', () => {
    const f = fixture();
    f.map(1 << 18, 2, (1 << 18) * 2 + 512, RWAD); // 2 MiB-aligned is not enough
    expect(load(f, 1 << 18)).toMatchObject({ ok: false, cause: 'load-page-fault', level: 2 });
  });

  it('misaligned 512 GiB leaf faults (Sv48)', () => {
    const f = fixture(SV48);
    f.map(2 ** 27, 3, 2 ** 27 + 2 ** 26, RWAD); // low ppn bits in both halves of the PTE
    expect(load(f, 2 ** 27)).toMatchObject({ ok: false, cause: 'load-page-fault', level: 3 });
    const g = fixture(SV48);
    g.map(2 ** 27, 3, 2 ** 27 + 1, RWAD);
    expect(load(g, 2 ** 27)).toMatchObject({ ok: false, level: 3 });
  });

  it('misaligned 256 TiB leaf faults (Sv57)', () => {
    const f = fixture(SV57);
    f.map(2 ** 36, 4, 2 ** 36 + 2 ** 35, RWAD);
    expect(load(f, 2 ** 36)).toMatchObject({ ok: false, cause: 'load-page-fault', level: 4 });
  });

  it('NAPOT with ppn[3:0] other than 1000 is reserved', () => {
    const f = fixture();
    f.map(0x4000, 0, TARGET, RWAD, { napot: true });
    for (let low = 0; low < 16; low++) {
      if (low === 8) continue;
      setPte(
        f.mem,
        f.mode,
        f.root,
        0x4000,
        0,
        pteLo(TARGET + low, RWAD | PTE_V),
        pteHi(TARGET + low, 0, true),
      );
      expect(load(f, 0x4000), `ppn[3:0]=${low}`).toMatchObject({ ok: false, cause: 'load-page-fault' });
    }
  });

  it('N on a superpage leaf is reserved', () => {
    const f = fixture();
    f.map(0x200, 1, 0x200 * 8, RWAD);
    setPte(f.mem, f.mode, f.root, 0x200, 1, pteLo(0x1008, RWAD | PTE_V), pteHi(0x1008, 0, true));
    expect(load(f, 0x200)).toMatchObject({ ok: false, cause: 'load-page-fault', level: 1 });
  });

  it('a page fault keeps the offending entry', () => {
    const f = fixture();
    f.map(VPN, 0, TARGET, PTE_W | PTE_A);
    const r = load(f, VPN);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.pteLo).toBe(pteLo(TARGET, PTE_W | PTE_A | PTE_V));
  });
});

describe('walk: permissions', () => {
  it('load needs R', () => {
    const f = fixture();
    f.map(VPN, 0, TARGET, PTE_X | PTE_A);
    expect(load(f, VPN)).toMatchObject({ ok: false, cause: 'load-page-fault' });
    expect(load(f, VPN, {}, 'fetch').ok).toBe(true);
  });

  it('store needs W', () => {
    const f = fixture();
    f.map(VPN, 0, TARGET, PTE_R | PTE_A | PTE_D);
    expect(load(f, VPN, {}, 'store')).toMatchObject({ ok: false, cause: 'store-page-fault' });
    expect(load(f, VPN).ok).toBe(true);
  });

  it('fetch needs X', () => {
    const f = fixture();
    f.map(VPN, 0, TARGET, RWAD);
    expect(load(f, VPN, {}, 'fetch')).toMatchObject({ ok: false, cause: 'instruction-page-fault' });
  });

  it('MXR makes X readable', () => {
    const f = fixture();
    f.map(VPN, 0, TARGET, PTE_X | PTE_A);
    expect(load(f, VPN, { mxr: true }).ok).toBe(true);
  });

  it('MXR does not make X writable', () => {
    const f = fixture();
    f.map(VPN, 0, TARGET, PTE_X | PTE_A | PTE_D);
    expect(load(f, VPN, { mxr: true }, 'store')).toMatchObject({ ok: false, cause: 'store-page-fault' });
  });

  it('U page not accessible from S without SUM', () => {
    const f = fixture();
    f.map(VPN, 0, TARGET, RWAD | PTE_U);
    expect(load(f, VPN)).toMatchObject({ ok: false, cause: 'load-page-fault' });
    expect(load(f, VPN, {}, 'store')).toMatchObject({ ok: false, cause: 'store-page-fault' });
  });

  it('SUM lets S load and store U pages', () => {
    const f = fixture();
    f.map(VPN, 0, TARGET, RWAD | PTE_U);
    expect(load(f, VPN, { sum: true }).ok).toBe(true);
    expect(load(f, VPN, { sum: true }, 'store').ok).toBe(true);
  });

  it('S never fetches from a U page, even with SUM', () => {
    const f = fixture();
    f.map(VPN, 0, TARGET, RWX | PTE_A | PTE_D | PTE_U);
    expect(load(f, VPN, { sum: true }, 'fetch')).toMatchObject({
      ok: false,
      cause: 'instruction-page-fault',
    });
  });

  it('U mode cannot use S pages', () => {
    const f = fixture();
    f.map(VPN, 0, TARGET, RWX | PTE_A | PTE_D);
    for (const a of ['load', 'store', 'fetch'] as const)
      expect(load(f, VPN, { priv: 'U' }, a).ok).toBe(false);
  });

  it('U mode uses U pages', () => {
    const f = fixture();
    f.map(VPN, 0, TARGET, RWX | PTE_A | PTE_D | PTE_U);
    for (const a of ['load', 'store', 'fetch'] as const) expect(load(f, VPN, { priv: 'U' }, a).ok).toBe(true);
  });
});

describe('walk: accessed and dirty bits', () => {
  it('A=0 faults under Svade', () => {
    const f = fixture();
    f.map(VPN, 0, TARGET, PTE_R | PTE_W | PTE_D);
    expect(load(f, VPN)).toMatchObject({ ok: false, cause: 'load-page-fault' });
  });

  it('store with D=0 faults under Svade', () => {
    const f = fixture();
    f.map(VPN, 0, TARGET, PTE_R | PTE_W | PTE_A);
    expect(load(f, VPN, {}, 'store')).toMatchObject({ ok: false, cause: 'store-page-fault' });
    expect(load(f, VPN).ok).toBe(true); // a load does not need D
  });

  it('Svadu sets A on a load', () => {
    const f = fixture();
    f.map(VPN, 0, TARGET, PTE_R | PTE_W);
    const r = load(f, VPN, { ad: 'svadu' });
    expect(r.ok).toBe(true);
    const leaf = f.mem.readLo(r.ptePfns[2]!, r.pteIndexes[2]!);
    expect(leaf & (PTE_A | PTE_D)).toBe(PTE_A);
    if (r.ok) expect(r.leafLo).toBe(leaf);
  });

  it('Svadu sets A and D on a store', () => {
    const f = fixture();
    f.map(VPN, 0, TARGET, PTE_R | PTE_W);
    const r = load(f, VPN, { ad: 'svadu' }, 'store');
    expect(r.ok).toBe(true);
    expect(f.mem.readLo(r.ptePfns[2]!, r.pteIndexes[2]!) & (PTE_A | PTE_D)).toBe(PTE_A | PTE_D);
  });

  it('Svadu does not touch the entry when the access faults', () => {
    const f = fixture();
    f.map(VPN, 0, TARGET, PTE_R);
    const rec = new WalkRecord();
    findLeafInto(rec, f.mem, SV39, f.root, VPN, 'load');
    const [table, index] = [rec.ptePfns[2]!, rec.pteIndex(2)];
    const before = f.mem.readLo(table, index);
    expect(load(f, VPN, { ad: 'svadu' }, 'store').ok).toBe(false);
    expect(f.mem.readLo(table, index)).toBe(before);
  });
});

describe('walk: access faults and addresses', () => {
  it('access fault when the root page has no memory', () => {
    const f = fixture();
    const cfg = new WalkConfig({ mode: SV39, rootPpn: 0x10, priv: 'S' });
    expect(walk(f.mem, cfg, VPN, 'load')).toMatchObject({ ok: false, cause: 'load-access-fault', level: 2 });
    expect(walk(f.mem, cfg, VPN, 'store')).toMatchObject({ cause: 'store-access-fault' });
    expect(walk(f.mem, cfg, VPN, 'fetch')).toMatchObject({ cause: 'instruction-access-fault' });
  });

  it('access fault when a pointer leads to a hole', () => {
    const f = fixture();
    f.map(VPN, 0, TARGET, RWAD);
    const i = vpnIndex(VPN, 2);
    f.mem.write64(f.root, i, pteLo(0x20, PTE_V), 0); // frame 0x20 is not memory
    const r = load(f, VPN);
    expect(r).toMatchObject({ ok: false, cause: 'load-access-fault', level: 1 });
    expect(r.ptePfns).toEqual([f.root, 0x20]);
  });

  it("a leaf may point outside memory: that is not the walk's business", () => {
    const f = fixture();
    f.map(VPN, 0, 0x5, RWAD);
    expect(load(f, VPN)).toMatchObject({ ok: true, ppn: 0x5 });
  });

  it('non-canonical VA is a page fault', () => {
    const f = fixture();
    f.map(VPN, 0, TARGET, RWAD);
    const cfg: WalkOptions = { mode: SV39, rootPpn: f.root };
    expect(walkVa(f.mem, cfg, BigInt(VPN) << 12n, 'load')).toMatchObject({ ok: true, ppn: TARGET });
    expect(walkVa(f.mem, cfg, (BigInt(VPN) << 12n) | (1n << 40n), 'store')).toMatchObject({
      ok: false,
      cause: 'store-page-fault',
      ptePfns: [],
    });
    // Upper half: sign-extended addresses are canonical.
    expect(walkVa(f.mem, cfg, 0xffff_ffc0_0000_0000n, 'load')).toMatchObject({
      ok: false,
      cause: 'load-page-fault',
      level: 2,
    });
  });

  it('an upper-half address may be given as va >> 12', () => {
    const f = fixture(SV48);
    const vpn = 2 ** 35 + 0x1234; // bit 47 of the VA set: upper half
    f.map(vpn, 0, TARGET, RWAD);
    const va = 0xffff_8000_0123_4000n;
    expect(walkVa(f.mem, { mode: SV48, rootPpn: f.root }, va, 'load')).toMatchObject({
      ok: true,
      ppn: TARGET,
    });
    expect(load(f, Number(va >> 12n))).toMatchObject({ ok: true, ppn: TARGET });
    expect(modeVpn(SV48, Number(va >> 12n))).toBe(vpn);
    expect(modeVpn(SV48, vpn)).toBe(vpn);
    // A 64-bit VA with bits 63..48 neither all zero nor all one is not canonical.
    expect(modeVpn(SV48, Number(0x0001_0000_0123_4000n >> 12n))).toBe(-1);
    expect(load(f, Number(0x7fff_8000_0123_4000n >> 12n))).toMatchObject({
      ok: false,
      cause: 'load-page-fault',
    });
  });

  it("vpn beyond the mode's width faults without reading memory", () => {
    const f = fixture();
    const rec = new WalkRecord();
    expect(walkInto(rec, f.mem, f.cfg(), 2 ** 27, 'load')).toBe(false);
    expect(rec.depth).toBe(0);
    expect(rec.causeName).toBe('load-page-fault');
  });

  it('walkConfigFromSatp reads mode and root from satp', () => {
    const f = fixture();
    f.map(VPN, 0, TARGET, RWAD);
    const cfg = walkConfigFromSatp(encodeSatp({ mode: 8, asid: 7, ppn: f.root }));
    expect(cfg.mode).toBe(SV39);
    expect(walk(f.mem, cfg, VPN, 'load')).toMatchObject({ ok: true, ppn: TARGET });
    expect(() => walkConfigFromSatp(0n)).toThrow(RangeError);
  });

  it('WalkConfig setters change the outcome', () => {
    const f = fixture();
    f.map(VPN, 0, TARGET, PTE_X | PTE_A | PTE_U);
    const cfg = f.cfg();
    const rec = new WalkRecord();
    expect(walkInto(rec, f.mem, cfg, VPN, 'load')).toBe(false);
    cfg.setStatus({ sum: true });
    cfg.setStatus({ mxr: true });
    expect(walkInto(rec, f.mem, cfg, VPN, 'load')).toBe(true);
    cfg.setStatus({ priv: 'U' });
    cfg.setStatus({ sum: false });
    expect(walkInto(rec, f.mem, cfg, VPN, 'fetch')).toBe(true);
    cfg.setStatus({ mxr: false });
    expect(walkInto(rec, f.mem, cfg, VPN, 'load')).toBe(false);
  });
});

describe('findLeafInto', () => {
  it('ignores permissions and A/D and never writes', () => {
    const f = fixture();
    f.map(VPN, 0, TARGET, PTE_R | PTE_U); // no A: a real access would fault or update
    const rec = new WalkRecord();
    expect(findLeafInto(rec, f.mem, SV39, f.root, VPN, 'store')).toBe(true);
    expect(rec.ppn).toBe(TARGET);
    expect(f.mem.readLo(rec.ptePfns[2]!, rec.pteIndex(2)) & PTE_A).toBe(0);
  });

  it('still applies the structural rules', () => {
    const f = fixture();
    f.map(0x200, 1, TARGET + 1, RWAD);
    expect(findLeafInto(new WalkRecord(), f.mem, SV39, f.root, 0x200, 'load')).toBe(false);
  });
});

describe('step functions', () => {
  // Every low flag byte with a few high halves covering N, PBMT, reserved and PPN bits.
  const HIS = [0, 1, 0x3fffff, 1 << 22, 1 << 28, 1 << 29, 2 << 29, 3 << 29, 0x80000000];

  it('pteIsPointer is exactly: not invalid, not a leaf, not a reserved pointer', () => {
    for (let lo = 0; lo < 1024; lo++) {
      for (const hi of HIS) {
        const expected = !pteIsInvalid(lo, hi) && !pteIsLeafEntry(lo) && !pointerIsReserved(lo, hi);
        expect(pteIsPointer(lo, hi), `lo=${lo.toString(16)} hi=${hi.toString(16)}`).toBe(expected);
      }
    }
  });

  it('leafAllows (the verdict table) agrees with leafPermits and adUpdateNeeded', () => {
    for (const priv of ['S', 'U'] as const)
      for (const sum of [false, true])
        for (const mxr of [false, true])
          for (const ad of ['svade', 'svadu'] as const) {
            const cfg = new WalkConfig({ mode: SV39, rootPpn: 0, priv, sum, mxr, ad });
            for (const access of ['load', 'store', 'fetch'] as const)
              for (let lo = 0; lo < 256; lo++) {
                const leaf = !pteIsInvalid(lo, 0) && pteIsLeafEntry(lo);
                const expected =
                  leaf && leafPermits(lo, access, priv, sum, mxr) && !adUpdateNeeded(lo, access);
                expect(leafAllows(lo, access, cfg)).toBe(expected);
              }
          }
  });

  it('superpageMisaligned looks at exactly the low 9*level PPN bits', () => {
    for (let level = 1; level <= 4; level++) {
      const bits = 9 * level;
      for (let b = 0; b < 44; b++) {
        const ppn = 2 ** b;
        const lo = pteLo(ppn, PTE_V | PTE_R);
        const hi = pteHi(ppn);
        expect(superpageMisaligned(lo, hi, level), `level ${level} bit ${b}`).toBe(b < bits);
      }
    }
  });

  it('napotIsReserved allows only level 0 with ppn[3:0]=1000', () => {
    expect(napotIsReserved(pteLo(0x18, 0xf), pteHi(0x18, 0, true), 0)).toBe(false);
    expect(napotIsReserved(pteLo(0x10, 0xf), pteHi(0x10, 0, true), 0)).toBe(true);
    expect(napotIsReserved(pteLo(0x18, 0xf), pteHi(0x18, 0, true), 1)).toBe(true);
    expect(napotIsReserved(pteLo(0x10, 0xf), pteHi(0x10), 1)).toBe(false);
  });

  it('translatedPpn and vpnLevelIndex handle 45-bit vpns', () => {
    const vpn = 2 ** 44 + 2 ** 36 + 0x12345678;
    for (let level = 0; level < 5; level++) expect(vpnLevelIndex(vpn, level)).toBe(vpnIndex(vpn, level));
    const ppn = 2 ** 43;
    expect(translatedPpn(pteLo(ppn, 0xf), pteHi(ppn), 4, vpn)).toBe(ppn + (vpn % 2 ** 36));
    expect(translatedPpn(pteLo(ppn, 0xf), pteHi(ppn), 3, vpn)).toBe(ppn + (vpn % 2 ** 27));
  });
});
