import { describe, expect, it } from 'vitest';
import { Hart } from './hart.js';
import { SV39, SV48, encodeSatp, vpnToVa } from './paging.js';
import { PhysMem } from './physmem.js';
import { bumpAllocator, mapPage, setPte } from './ptbuilder.js';
import { PTE_A, PTE_D, PTE_R, PTE_U, PTE_V, PTE_W, PTE_X, pteLo } from './pte.js';

function setup(opts = {}) {
  const mem = new PhysMem();
  mem.addRegion({ name: 'ram', kind: 'ram', basePfn: 0x80000, pages: 4096 });
  const alloc = bumpAllocator(mem, 0x80000);
  const root = alloc();
  const hart = new Hart(0, mem, opts);
  hart.satp = { mode: 9, asid: 5, ppn: root };
  const map = (vpn: number, level: number, ppn: number, flags: number) =>
    mapPage(mem, SV48, root, vpn, level, ppn, flags, alloc);
  return { mem, root, hart, map };
}

describe('Hart.translate', () => {
  it('walks on a miss, fills the TLB, and hits next time', () => {
    const { hart, map } = setup();
    map(0x1234, 0, 0x80900, PTE_R | PTE_A);
    const va = vpnToVa(SV48, 0x1234) | 0xabcn;
    expect(hart.translate(va, 'load')).toEqual({
      ok: true,
      ppn: 0x80900,
      pa: 0x80900abcn,
      level: 0,
      tlbHit: false,
    });
    expect(hart.translate(va, 'load')).toMatchObject({ ok: true, pa: 0x80900abcn, tlbHit: true });
    expect(hart.translate(0x1234, 'load')).toMatchObject({ ok: true, ppn: 0x80900, tlbHit: true });
    expect([hart.tlb.hits, hart.tlb.misses]).toEqual([2, 1]);
  });

  it('reports faults with their cause and does not cache them', () => {
    const { hart, map } = setup();
    map(0x1234, 0, 0x80900, PTE_R | PTE_A);
    expect(hart.translate(0x1234, 'store')).toEqual({ ok: false, cause: 'store-page-fault', level: 0 });
    expect(hart.translate(0x9999, 'fetch')).toEqual({ ok: false, cause: 'instruction-page-fault', level: 1 });
    expect(hart.translate(1 << 30, 'fetch')).toEqual({
      ok: false,
      cause: 'instruction-page-fault',
      level: 3,
    });
    expect(hart.translate(1n << 47n, 'load')).toMatchObject({ ok: false, cause: 'load-page-fault' }); // non-canonical
    expect(hart.tlb.size).toBe(0);
    expect(hart.translatePpn(0x1234, 'store')).toBe(-15);
  });

  it('a cached entry that does not permit the access is re-walked (permission can only grow without a flush)', () => {
    const { hart, map, mem, root } = setup();
    map(0x1234, 0, 0x80900, PTE_R | PTE_A);
    expect(hart.translate(0x1234, 'load').ok).toBe(true);
    // Grant W and D in memory, no flush: a store must see it.
    setPte(mem, SV48, root, 0x1234, 0, pteLo(0x80900, PTE_R | PTE_W | PTE_A | PTE_D | PTE_V), 0);
    expect(hart.translate(0x1234, 'store')).toMatchObject({ ok: true, tlbHit: false });
    expect(hart.translate(0x1234, 'store')).toMatchObject({ ok: true, tlbHit: true });
  });

  it('a stale entry keeps translating until sfence.vma, like hardware', () => {
    const { hart, map, mem, root } = setup();
    map(0x1234, 0, 0x80900, PTE_R | PTE_A);
    hart.translate(0x1234, 'load');
    setPte(mem, SV48, root, 0x1234, 0, 0, 0);
    expect(hart.translate(0x1234, 'load')).toMatchObject({ ok: true, ppn: 0x80900, tlbHit: true });
    expect(hart.tlb.staleEntries(mem)).toHaveLength(1);
    hart.sfenceVma(0x1234);
    expect(hart.translate(0x1234, 'load').ok).toBe(false);
  });

  it('Svadu: a store through a load-filled entry sets D in memory', () => {
    const { hart, map, mem } = setup({ ad: 'svadu' });
    map(0x1234, 0, 0x80900, PTE_R | PTE_W);
    expect(hart.translate(0x1234, 'load').ok).toBe(true);
    const leaf = hart.lastWalk.toResult();
    const [pfn, idx] = [leaf.ptePfns[3]!, leaf.pteIndexes[3]!];
    expect(mem.readLo(pfn, idx) & (PTE_A | PTE_D)).toBe(PTE_A);
    expect(hart.translate(0x1234, 'store')).toMatchObject({ ok: true, tlbHit: false });
    expect(mem.readLo(pfn, idx) & (PTE_A | PTE_D)).toBe(PTE_A | PTE_D);
    expect(hart.tlb.staleEntries(mem)).toEqual([]);
  });

  it('privilege, SUM and MXR apply to cached entries too', () => {
    const { hart, map } = setup();
    map(0x10, 0, 0x80900, PTE_R | PTE_W | PTE_A | PTE_D | PTE_U);
    map(0x11, 0, 0x80901, PTE_X | PTE_A);
    hart.setStatus({ sum: true });
    expect(hart.translate(0x10, 'load').ok).toBe(true);
    hart.setStatus({ sum: false });
    expect(hart.translate(0x10, 'load').ok).toBe(false); // cached, but SUM is off now
    hart.setStatus({ priv: 'U' });
    expect(hart.translate(0x10, 'store').ok).toBe(true);
    expect(hart.translate(0x11, 'fetch').ok).toBe(false);
    hart.setStatus({ priv: 'S' });
    expect(hart.translate(0x11, 'fetch').ok).toBe(true);
    expect(hart.translate(0x11, 'load').ok).toBe(false);
    hart.setStatus({ mxr: true });
    expect(hart.translate(0x11, 'load')).toMatchObject({ ok: true, tlbHit: true });
    expect(hart.status).toEqual({ priv: 'S', sum: false, mxr: true, ad: 'svade' });
  });

  it('a number may also be a full VA >> 12 (upper half)', () => {
    const { hart, map } = setup();
    map(2 ** 35 + 7, 0, 0x80900, PTE_R | PTE_A);
    const va = 0xffff_8000_0000_7000n;
    expect(hart.translate(Number(va >> 12n), 'load')).toMatchObject({ ok: true, ppn: 0x80900 });
    expect(hart.translate(Number(va >> 12n), 'load')).toMatchObject({ ok: true, tlbHit: true });
    expect(hart.translate(va, 'load')).toMatchObject({ ok: true, tlbHit: true });
    expect(hart.translatePpn(Number(0x0100_0000_0000_7000n >> 12n), 'load')).toBe(-13); // not canonical
  });

  it('Bare mode is identity', () => {
    const mem = new PhysMem();
    const hart = new Hart(3, mem);
    expect(hart.mode).toBeUndefined();
    expect(hart.translate(0x8020_0123n, 'fetch')).toEqual({
      ok: true,
      ppn: 0x80200,
      pa: 0x8020_0123n,
      level: 0,
      tlbHit: false,
    });
    expect(hart.translatePpn(0x80200, 'store')).toBe(0x80200);
  });

  it('satp round-trips as a register value and selects the mode', () => {
    const { hart, root, map } = setup();
    expect(hart.satpRaw).toBe(encodeSatp({ mode: 9, asid: 5, ppn: root }));
    expect(hart.mode).toBe(SV48);
    map(0x1234, 0, 0x80900, PTE_R | PTE_A);
    hart.satpRaw = encodeSatp({ mode: 8, asid: 6, ppn: root });
    expect(hart.mode).toBe(SV39);
    expect(hart.satp).toEqual({ mode: 8, asid: 6, ppn: root });
    // Same root read as Sv39: vpn 0x1234 now indexes from level 2 and finds nothing there.
    expect(hart.translate(0x1234, 'load').ok).toBe(false);
  });

  it('entries of another ASID are not used after a satp switch', () => {
    const { hart, map } = setup();
    map(0x1234, 0, 0x80900, PTE_R | PTE_A);
    hart.translate(0x1234, 'load');
    hart.satp = { ...hart.satp, asid: 6 };
    expect(hart.translate(0x1234, 'load')).toMatchObject({ ok: true, tlbHit: false });
    expect(hart.tlb.size).toBe(2);
  });
});
