/**
 * RISC-V page-table entry codec (privileged spec, Sv39/Sv48/Sv57).
 *
 * A PTE is 64 bits; JS numbers hold 53, so an entry travels as two unsigned
 * 32-bit halves (lo = bits 0..31, hi = bits 32..63), exactly as it sits in a
 * page-table page stored as a Uint32Array (entry i at [2i], [2i+1]).
 */

export const PTE_V = 1 << 0;
export const PTE_R = 1 << 1;
export const PTE_W = 1 << 2;
export const PTE_X = 1 << 3;
export const PTE_U = 1 << 4;
export const PTE_G = 1 << 5;
export const PTE_A = 1 << 6;
export const PTE_D = 1 << 7;
/** Bits 8..9, reserved for supervisor software. */
export const PTE_RSW_MASK = 0x300;
export const PTE_RSW_SHIFT = 8;
/** The ten low flag bits V..RSW. */
export const PTE_FLAGS_MASK = 0x3ff;
export const PTE_LEAF_MASK = PTE_R | PTE_W | PTE_X;

/** PBMT (Svpbmt), bits 61..62 of the entry = bits 29..30 of hi. */
export const PBMT_PMA = 0;
export const PBMT_NC = 1;
export const PBMT_IO = 2;
/** N (Svnapot), bit 63 = bit 31 of hi. */
export const PTE_N_HI = 0x80000000;
/** Bits 54..60 must be zero: bits 22..28 of hi. */
export const PTE_RESERVED_HI_MASK = 0x7f << 22;
/** PPN is 44 bits: 22 in lo (bits 10..31) and 22 in hi (bits 0..21). */
const PPN_LO_BITS = 22;
const PPN_LO_SPAN = 1 << PPN_LO_BITS; // 4194304
const PPN_HI_MASK = 0x3fffff;

export function ptePpn(lo: number, hi: number): number {
  return (lo >>> 10) + (hi & PPN_HI_MASK) * PPN_LO_SPAN;
}

export function pteFlags(lo: number): number {
  return lo & PTE_FLAGS_MASK;
}

export function ptePbmt(hi: number): number {
  return (hi >>> 29) & 3;
}

export function pteNapot(hi: number): boolean {
  return (hi & PTE_N_HI) !== 0;
}

export function pteIsValid(lo: number): boolean {
  return (lo & PTE_V) !== 0;
}

/** A valid entry with any of R/W/X is a leaf; with none it points to the next level. */
export function pteIsLeaf(lo: number): boolean {
  return (lo & PTE_LEAF_MASK) !== 0;
}

/**
 * Encodings the spec reserves: W without R (and W+X without R), reserved
 * high bits, a PBMT value of 3. N and PBMT on non-leaf entries are also
 * reserved, which the walk checks because it knows whether it is a leaf.
 */
export function pteIsReservedEncoding(lo: number, hi: number): boolean {
  if ((lo & (PTE_W | PTE_R)) === PTE_W) return true;
  if ((hi & PTE_RESERVED_HI_MASK) !== 0) return true;
  if (ptePbmt(hi) === 3) return true;
  return false;
}

export function pteLo(ppn: number, flags: number): number {
  return (((ppn % PPN_LO_SPAN) << 10) | (flags & PTE_FLAGS_MASK)) >>> 0;
}

export function pteHi(ppn: number, pbmt = 0, napot = false): number {
  return ((Math.floor(ppn / PPN_LO_SPAN) & PPN_HI_MASK) | ((pbmt & 3) << 29) | (napot ? PTE_N_HI : 0)) >>> 0;
}

/** The full 64-bit entry, for printing and tests. */
export function pteToBigInt(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

export function pteFromBigInt(v: bigint): { lo: number; hi: number } {
  return { lo: Number(v & 0xffffffffn), hi: Number((v >> 32n) & 0xffffffffn) };
}
