/**
 * The hardware's view: translate one virtual address with hart 0's satp through the MMU of
 * src/hw (the privileged spec's walk), listing every page-table entry it read.
 */
import type { GuestSystem } from '../../../src/kernel/system.js';
import { walkVa } from '../../../src/hw/mmu.js';
import { PAGING_MODES } from '../../../src/hw/paging.js';
import { PTE_V, PTE_R, PTE_X } from '../../../src/hw/pte.js';
import { hex, pteValue } from './format.js';

export interface WalkRead {
  levelName: string;
  tablePa: bigint;
  index: number;
  /** Physical address of the 8-byte entry read. */
  pteAddr: bigint;
  pte: bigint;
  lo: number;
  kind: 'pointer' | 'leaf' | 'invalid';
}

export type WalkView =
  | { ok: true; va: bigint; reads: WalkRead[]; pa: bigint; leafLevel: string }
  | { ok: false; va: bigint; reads: WalkRead[]; why: string };

/** Parses "0xffff..." (hex, optional 0x and '_' separators) or decimal; undefined when it is neither. */
export function parseVa(text: string): bigint | undefined {
  const t = text.trim().replace(/_/g, '').toLowerCase();
  // Regexes first: BigInt() alone would also take "0o17" and "".
  if (/^0x[0-9a-f]+$/.test(t)) return BigInt(t);
  if (/^[0-9a-f]*[a-f][0-9a-f]*$/.test(t)) return BigInt('0x' + t);
  if (/^\d+$/.test(t)) return BigInt(t);
  return undefined;
}

export function hardwareWalk(sys: GuestSystem, va: bigint): WalkView {
  const satp = sys.board.hart(0).satp;
  if (satp.mode === 0) return { ok: false, va, reads: [], why: 'satp is Bare: no translation' };
  const mode = PAGING_MODES[satp.mode - 8]!;
  if (va >= 1n << 64n) return { ok: false, va, reads: [], why: 'not a 64-bit address' };
  const r = walkVa(sys.board.mem, { mode, rootPpn: satp.ppn }, va, 'load');
  const pt = sys.kernel.pt;
  const reads: WalkRead[] = r.ptePfns.map((pfn, k) => {
    const index = r.pteIndexes[k]!;
    const level = mode.levels - 1 - k;
    const lo = sys.board.mem.readLo(pfn, index);
    const hi = sys.board.mem.readHi(pfn, index);
    const kind = (lo & PTE_V) === 0 ? 'invalid' : (lo & (PTE_R | PTE_X)) !== 0 ? 'leaf' : 'pointer';
    const tablePa = BigInt(pfn) << 12n;
    return {
      levelName: pt.levelName(level),
      tablePa,
      index,
      pteAddr: tablePa + BigInt(index * 8),
      pte: pteValue(lo, hi),
      lo,
      kind,
    };
  });
  if (r.ok) {
    const pa = (BigInt(r.ppn) << 12n) | (va & 0xfffn);
    return { ok: true, va, reads, pa, leafLevel: pt.levelName(r.level) };
  }
  const why =
    reads.length === 0
      ? `${r.cause}: ${hex(va)} is not canonical in ${mode.name}`
      : `${r.cause} at the ${pt.levelName(r.level)} level`;
  return { ok: false, va, reads, why };
}
