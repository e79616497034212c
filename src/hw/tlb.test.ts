import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WalkConfig, WalkRecord, walkInto } from './mmu.js';
import { SV39 } from './paging.js';
import { PhysMem } from './physmem.js';
import { bumpAllocator, mapPage, setPte, unmapPage } from './ptbuilder.js';
import { PTE_A, PTE_D, PTE_G, PTE_R, PTE_V, PTE_W, pteHi, pteLo } from './pte.js';
import { Tlb } from './tlb.js';

const RW = PTE_R | PTE_W | PTE_A | PTE_D;

function setup(tlbOpts = {}) {
  const mem = new PhysMem();
  mem.addRegion({ name: 'ram', kind: 'ram', basePfn: 0x80000, pages: 4096 });
  const alloc = bumpAllocator(mem, 0x80000);
  const root = alloc();
  const tlb = new Tlb(tlbOpts);
  const cfg = new WalkConfig({ mode: SV39, rootPpn: root });
  const rec = new WalkRecord();
  const map = (vpn: number, level: number, ppn: number, flags = RW, napot = false) =>
    mapPage(mem, SV39, root, vpn, level, ppn, flags, alloc, { napot });
  /** Walks vpn and caches it under asid, as a hart's miss would. */
  const fill = (vpn: number, asid: number) => {
    if (!walkInto(rec, mem, cfg, vpn, 'load')) throw new Error(`no translation for ${vpn}`);
    return tlb.fill(vpn, asid, rec, SV39, root);
  };
  const hit = (vpn: number, asid: number) => tlb.lookup(vpn, asid) >= 0;
  return { mem, root, tlb, map, fill, hit, alloc };
}

describe('TLB lookup', () => {
  it('misses, fills, then hits with the cached ppn; counts both', () => {
    const t = setup();
    t.map(0x100, 0, 0x80500);
    expect(t.tlb.lookup(0x100, 1)).toBe(-1);
    t.fill(0x100, 1);
    const e = t.tlb.lookup(0x100, 1);
    expect(e).toBeGreaterThanOrEqual(0);
    expect(t.tlb.ppnOf(e, 0x100)).toBe(0x80500);
    expect(t.tlb.levelOf(e)).toBe(0);
    expect(t.tlb.loOf(e)).toBe(pteLo(0x80500, RW | PTE_V));
    expect(t.tlb.hiOf(e)).toBe(0);
    expect([t.tlb.hits, t.tlb.misses, t.tlb.fills, t.tlb.size]).toEqual([1, 1, 1, 1]);
  });

  it('a superpage entry serves every page it covers', () => {
    const t = setup();
    t.map(0x400, 1, 0x100000); // 2 MiB at vpn 0x400
    t.fill(0x4ab, 3);
    expect(t.tlb.size).toBe(1);
    const e = t.tlb.lookup(0x5ff, 3);
    expect(t.tlb.ppnOf(e, 0x5ff)).toBe(0x1001ff);
    expect(t.tlb.entries()[0]).toMatchObject({ vpn: 0x400, pages: 512, level: 1, ppn: 0x100000 });
    expect(t.hit(0x600, 3)).toBe(false);
  });

  it('a NAPOT entry covers its 64 KiB', () => {
    const t = setup();
    t.map(0x20, 0, 0x90000, RW, true);
    t.fill(0x25, 0);
    expect(t.tlb.entries()[0]).toMatchObject({ vpn: 0x20, pages: 16, level: 0, napot: true });
    for (let v = 0x20; v < 0x30; v++) expect(t.tlb.ppnOf(t.tlb.lookup(v, 0), v)).toBe(0x90000 + (v - 0x20));
    expect(t.hit(0x30, 0)).toBe(false);
  });

  it('ASIDs are separate; a global entry matches every ASID', () => {
    const t = setup();
    t.map(0x100, 0, 0x80500);
    t.map(0x200, 0, 0x80600, RW | PTE_G);
    t.fill(0x100, 1);
    t.fill(0x200, 1);
    expect(t.hit(0x100, 2)).toBe(false);
    expect(t.hit(0x200, 2)).toBe(true);
    expect(t.tlb.isGlobal(t.tlb.lookup(0x200, 9))).toBe(true);
  });

  it('refilling the same page replaces the entry instead of duplicating it', () => {
    const t = setup();
    t.map(0x100, 0, 0x80500);
    t.fill(0x100, 1);
    t.fill(0x100, 1);
    expect(t.tlb.size).toBe(1);
  });

  it('capacity is bounded: a full set evicts round-robin', () => {
    const t = setup({ entries: 4, ways: 2 });
    expect([t.tlb.capacity, t.tlb.ways, t.tlb.sets]).toEqual([4, 2, 2]);
    for (let i = 0; i < 16; i++) t.map(0x100 + i, 0, 0x80500 + i);
    for (let i = 0; i < 16; i++) t.fill(0x100 + i, 0);
    expect(t.tlb.size).toBe(4);
    expect(t.tlb.evictions).toBe(12);
    // The last two fills of each set survive.
    for (const v of [0x10c, 0x10d, 0x10e, 0x10f]) expect(t.hit(v, 0)).toBe(true);
    expect(t.hit(0x100, 0)).toBe(false);
  });

  it('rejects bad geometry', () => {
    expect(() => new Tlb({ entries: 100 })).toThrow(RangeError);
    expect(() => new Tlb({ entries: 64, ways: 3 })).toThrow(RangeError);
    expect(new Tlb({ entries: 16, ways: 16 }).sets).toBe(1); // fully associative
  });
});

describe('sfence.vma', () => {
  /** Two ASIDs, one global page, and a 2 MiB page. */
  function populated() {
    const t = setup();
    t.map(0x100, 0, 0x80500);
    t.map(0x101, 0, 0x80501);
    t.map(0x200, 0, 0x80600, RW | PTE_G);
    t.map(0x400, 1, 0x100000);
    for (const asid of [1, 2]) {
      t.fill(0x100, asid);
      t.fill(0x101, asid);
      t.fill(0x4ab, asid);
    }
    t.fill(0x200, 1);
    return t;
  }

  it('rs1=x0, rs2=x0: flushes everything', () => {
    const t = populated();
    expect(t.tlb.size).toBe(7);
    t.tlb.sfenceVma();
    expect(t.tlb.size).toBe(0);
    expect(t.tlb.flushes).toBe(1);
  });

  it("rs1=x0, rs2=asid: flushes that ASID's non-global entries; global entries survive", () => {
    const t = populated();
    t.tlb.sfenceVma(undefined, 1);
    expect(t.hit(0x100, 1)).toBe(false);
    expect(t.hit(0x4ab, 1)).toBe(false);
    expect(t.hit(0x200, 1)).toBe(true); // global
    expect(t.hit(0x100, 2)).toBe(true); // other ASID
    expect(t.tlb.size).toBe(4);
  });

  it('rs1=va, rs2=x0: flushes every entry covering va, global ones too', () => {
    const t = populated();
    t.tlb.sfenceVma(0x200);
    expect(t.hit(0x200, 1)).toBe(false);
    t.tlb.sfenceVma(0x100);
    expect(t.hit(0x100, 1)).toBe(false);
    expect(t.hit(0x100, 2)).toBe(false);
    expect(t.hit(0x101, 1)).toBe(true);
    // A va inside a superpage, not at its start, flushes the superpage.
    t.tlb.sfenceVma(0x5ff);
    expect(t.hit(0x400, 1)).toBe(false);
    expect(t.hit(0x400, 2)).toBe(false);
    expect(t.tlb.size).toBe(2);
  });

  it("rs1=va, rs2=asid: only that ASID's non-global entries covering va", () => {
    const t = populated();
    t.tlb.sfenceVma(0x100, 1);
    expect(t.hit(0x100, 1)).toBe(false);
    expect(t.hit(0x100, 2)).toBe(true);
    expect(t.hit(0x101, 1)).toBe(true);
    t.tlb.sfenceVma(0x200, 1);
    expect(t.hit(0x200, 1)).toBe(true); // global entries ignore an ASID-specific fence
    t.tlb.sfenceVma(0x450, 2);
    expect(t.hit(0x4ab, 2)).toBe(false);
    expect(t.hit(0x4ab, 1)).toBe(true);
  });
});

describe('staleEntries', () => {
  it('a PTE changed without a flush is reported; after sfence it is gone', () => {
    const t = setup();
    t.map(0x100, 0, 0x80500);
    t.fill(0x100, 1);
    expect(t.tlb.staleEntries(t.mem)).toEqual([]);
    setPte(t.mem, SV39, t.root, 0x100, 0, pteLo(0x80700, RW | PTE_V), 0);
    const stale = t.tlb.staleEntries(t.mem);
    expect(stale).toHaveLength(1);
    expect(stale[0]).toMatchObject({
      vpn: 0x100,
      ppn: 0x80500,
      asid: 1,
      reason: 'ppn',
      fresh: { ppn: 0x80700 },
    });
    t.tlb.sfenceVma(0x100, 1);
    expect(t.tlb.staleEntries(t.mem)).toEqual([]);
  });

  it('an unmapped page is stale with the fault the walk now takes', () => {
    const t = setup();
    t.map(0x100, 0, 0x80500);
    t.fill(0x100, 1);
    unmapPage(t.mem, SV39, t.root, 0x100, 0);
    expect(t.tlb.staleEntries(t.mem)).toMatchObject([{ reason: 'fault', cause: 'load-page-fault' }]);
  });

  it('changed permissions are stale; A/D set by hardware since the fill are not', () => {
    const t = setup();
    t.map(0x100, 0, 0x80500, PTE_R | PTE_W | PTE_A);
    t.fill(0x100, 1);
    setPte(t.mem, SV39, t.root, 0x100, 0, pteLo(0x80500, PTE_R | PTE_W | PTE_A | PTE_D | PTE_V), 0);
    expect(t.tlb.staleEntries(t.mem)).toEqual([]);
    setPte(t.mem, SV39, t.root, 0x100, 0, pteLo(0x80500, PTE_R | PTE_A | PTE_D | PTE_V), 0);
    expect(t.tlb.staleEntries(t.mem)).toMatchObject([{ reason: 'flags' }]);
  });

  it('a superpage split into smaller pages is stale (different size)', () => {
    const t = setup();
    t.map(0x400, 1, 0x100000);
    t.fill(0x401, 1);
    // Split: replace the 2 MiB leaf with a table of 512 identical 4 KiB pages.
    unmapPage(t.mem, SV39, t.root, 0x400, 1);
    for (let i = 0; i < 512; i++) t.map(0x400 + i, 0, 0x100000 + i);
    expect(t.tlb.staleEntries(t.mem)).toMatchObject([
      { reason: 'level', level: 1, fresh: { level: 0, ppn: 0x100001 } },
    ]);
  });

  it('a table page whose memory was unplugged is stale (access fault)', () => {
    const t = setup();
    t.mem.addRegion({ name: 'dimm', kind: 'ram', basePfn: 0x200000, pages: 16 });
    // Hand-build: root -> level-1 table in the DIMM -> leaf table in RAM.
    const l1 = 0x200000;
    const l0 = t.alloc();
    t.mem.write64(t.root, 0, pteLo(l1, PTE_V), pteHi(l1));
    t.mem.write64(l1, 0, pteLo(l0, PTE_V), pteHi(l0));
    t.mem.write64(l0, 5, pteLo(0x80500, RW | PTE_V), 0);
    t.fill(5, 1);
    t.mem.removeRegion('dimm');
    expect(t.tlb.staleEntries(t.mem)).toMatchObject([{ reason: 'fault', cause: 'load-access-fault' }]);
  });
});

describe('sfence.vma against a reference model', () => {
  // Pages of each mapping size used below: 4 KiB, 64 KiB NAPOT, 2 MiB, 1 GiB.
  const SIZES = [
    { level: 0, napot: false, pages: 1 },
    { level: 0, napot: true, pages: 16 },
    { level: 1, napot: false, pages: 512 },
    { level: 2, napot: false, pages: 512 * 512 },
  ];
  type Op = { kind: 'fill'; map: number; asid: number } | { kind: 'fence'; vpn?: number; asid?: number };

  it('keeps exactly the entries the spec says survive', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ size: fc.integer({ min: 0, max: 3 }), global: fc.boolean() }), {
          minLength: 1,
          maxLength: 6,
        }),
        fc.array(
          fc.oneof(
            fc.record({
              kind: fc.constant('fill' as const),
              map: fc.nat(),
              asid: fc.integer({ min: 0, max: 3 }),
            }),
            fc.record({
              kind: fc.constant('fence' as const),
              vpn: fc.option(fc.nat({ max: 8 * 512 * 512 }), { nil: undefined }),
              asid: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
            }),
          ),
          { maxLength: 40 },
        ),
        (specs, ops: Op[]) => {
          const t = setup({ entries: 256, ways: 256 });
          // Mapping k lives in its own 1 GiB slot, so none overlap.
          const maps = specs.map((s, k) => {
            const { level, napot, pages } = SIZES[s.size]!;
            const vpn = k * 512 * 512;
            t.map(vpn, level, (k + 1) * 512 * 512, RW | (s.global ? PTE_G : 0), napot);
            return { vpn, pages, global: s.global };
          });
          const model: { map: number; asid: number }[] = [];
          for (const op of ops) {
            if (op.kind === 'fill') {
              const m = maps[op.map % maps.length]!;
              t.fill(m.vpn + (op.map % m.pages), op.asid);
              const k = op.map % maps.length;
              // A refill replaces an entry of the same page and address space.
              const same = model.findIndex((e) => e.map === k && (m.global || e.asid === op.asid));
              if (same >= 0) model.splice(same, 1);
              model.push({ map: k, asid: op.asid });
            } else {
              t.tlb.sfenceVma(op.vpn, op.asid);
              for (let i = model.length - 1; i >= 0; i--) {
                const e = model[i]!;
                const m = maps[e.map]!;
                const covers = op.vpn === undefined || (op.vpn >= m.vpn && op.vpn < m.vpn + m.pages);
                const matchesAsid = op.asid === undefined || (!m.global && e.asid === op.asid);
                if (covers && matchesAsid) model.splice(i, 1);
              }
            }
            expect(t.tlb.size).toBe(model.length);
            for (const [k, m] of maps.entries()) {
              for (let asid = 0; asid < 4; asid++) {
                const expected = model.some((e) => e.map === k && (m.global || e.asid === asid));
                expect(t.tlb.probe(m.vpn + m.pages - 1, asid) >= 0).toBe(expected);
              }
            }
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
