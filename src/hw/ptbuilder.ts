/**
 * Writes page tables into PhysMem the way any software would: for tests and
 * benchmarks of the walk and the TLB. It knows nothing of Linux; table pages
 * come from a caller-supplied allocator (a bump allocator is provided).
 */

import type { PagingMode } from './paging.js';
import type { PhysMem } from './physmem.js';
import { PTE_LEAF_MASK, PTE_V, pteHi, pteIsLeaf, pteIsValid, pteLo, ptePpn } from './pte.js';
import { vpnLevelIndex } from './mmu.js';

export type FrameAllocator = () => number;

/** Hands out consecutive frames starting at `startPfn`, zeroing each. */
export function bumpAllocator(mem: PhysMem, startPfn: number, limitPfn = Infinity): FrameAllocator {
  let next = startPfn;
  return () => {
    if (next >= limitPfn) throw new RangeError('bump allocator exhausted');
    const pfn = next++;
    mem.zero(pfn);
    return pfn;
  };
}

export interface MapOptions {
  /** Svpbmt memory type 0..3 (3 is reserved: useful to test the fault). */
  pbmt?: number;
  /** Svnapot 64 KiB: level must be 0; writes the 16 entries of the naturally aligned group. */
  napot?: boolean;
}

/**
 * Installs a leaf for `vpn` at `level` pointing at `ppn` with `flags`
 * (V is added), creating pointer tables on the way. Throws when the path
 * runs into an existing leaf or the slot is taken, so callers can keep
 * mappings disjoint.
 */
export function mapPage(
  mem: PhysMem,
  mode: PagingMode,
  rootPpn: number,
  vpn: number,
  level: number,
  ppn: number,
  flags: number,
  alloc: FrameAllocator,
  opts: MapOptions = {},
): void {
  if (level < 0 || level >= mode.levels) throw new RangeError(`level ${level} not in ${mode.name}`);
  const table = tableFor(mem, mode, rootPpn, vpn, level, alloc);
  const napot = opts.napot ?? false;
  if (napot && level !== 0) throw new RangeError('NAPOT only at level 0');
  const count = napot ? 16 : 1;
  const first = napot ? vpnLevelIndex(vpn, 0) & ~0xf : vpnLevelIndex(vpn, level);
  const leafPpn = napot ? ppn - (ppn & 0xf) + 0x8 : ppn;
  for (let i = first; i < first + count; i++) {
    if (pteIsValid(mem.readLo(table, i)))
      throw new RangeError(`vpn 0x${vpn.toString(16)}: slot ${i} already mapped`);
  }
  for (let i = first; i < first + count; i++) {
    mem.write64(table, i, pteLo(leafPpn, flags | PTE_V), pteHi(leafPpn, opts.pbmt ?? 0, napot));
  }
}

/** Clears the entry for `vpn` at `level` (and its NAPOT group when `napot`); returns false if the path is absent. */
export function unmapPage(
  mem: PhysMem,
  mode: PagingMode,
  rootPpn: number,
  vpn: number,
  level: number,
  napot = false,
): boolean {
  let table = rootPpn;
  for (let l = mode.levels - 1; l > level; l--) {
    const i = vpnLevelIndex(vpn, l);
    const lo = mem.readLo(table, i);
    if (!pteIsValid(lo) || pteIsLeaf(lo)) return false;
    table = ptePpn(lo, mem.readHi(table, i));
  }
  const first = napot ? vpnLevelIndex(vpn, 0) & ~0xf : vpnLevelIndex(vpn, level);
  for (let i = first; i < first + (napot ? 16 : 1); i++) mem.write64(table, i, 0, 0);
  return true;
}

/** Overwrites the raw entry for `vpn` at `level` (the pointer path must exist). */
export function setPte(
  mem: PhysMem,
  mode: PagingMode,
  rootPpn: number,
  vpn: number,
  level: number,
  lo: number,
  hi: number,
): void {
  let table = rootPpn;
  for (let l = mode.levels - 1; l > level; l--) {
    const i = vpnLevelIndex(vpn, l);
    const plo = mem.readLo(table, i);
    if (!pteIsValid(plo) || pteIsLeaf(plo))
      throw new RangeError(`no table at level ${l - 1} for vpn 0x${vpn.toString(16)}`);
    table = ptePpn(plo, mem.readHi(table, i));
  }
  mem.write64(table, vpnLevelIndex(vpn, level), lo >>> 0, hi >>> 0);
}

function tableFor(
  mem: PhysMem,
  mode: PagingMode,
  rootPpn: number,
  vpn: number,
  level: number,
  alloc: FrameAllocator,
): number {
  let table = rootPpn;
  for (let l = mode.levels - 1; l > level; l--) {
    const i = vpnLevelIndex(vpn, l);
    const lo = mem.readLo(table, i);
    if (!pteIsValid(lo)) {
      const next = alloc();
      mem.write64(table, i, pteLo(next, PTE_V), pteHi(next));
      table = next;
      continue;
    }
    if ((lo & PTE_LEAF_MASK) !== 0) {
      throw new RangeError(`vpn 0x${vpn.toString(16)} lies under a level-${l} leaf`);
    }
    table = ptePpn(lo, mem.readHi(table, i));
  }
  return table;
}
