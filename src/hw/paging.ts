/**
 * Sv39 / Sv48 / Sv57 geometry: how many levels, how wide a virtual address
 * is, what each level's leaf maps, and the satp MODE encoding.
 *
 * Levels are numbered as the privileged spec does: level 0 is the last
 * (4 KiB pages), level `levels - 1` is the root.
 */

export type PagingModeName = 'sv39' | 'sv48' | 'sv57';

export const PTES_PER_TABLE = 512;
export const LEVEL_BITS = 9;

export interface PagingMode {
  readonly name: PagingModeName;
  readonly levels: 3 | 4 | 5;
  readonly vaBits: 39 | 48 | 57;
  /** satp.MODE value. */
  readonly satpMode: 8 | 9 | 10;
}

export const SV39: PagingMode = { name: 'sv39', levels: 3, vaBits: 39, satpMode: 8 };
export const SV48: PagingMode = { name: 'sv48', levels: 4, vaBits: 48, satpMode: 9 };
export const SV57: PagingMode = { name: 'sv57', levels: 5, vaBits: 57, satpMode: 10 };

export const PAGING_MODES: readonly PagingMode[] = [SV39, SV48, SV57];

export function pagingMode(name: PagingModeName): PagingMode {
  switch (name) {
    case 'sv39':
      return SV39;
    case 'sv48':
      return SV48;
    case 'sv57':
      return SV57;
  }
}

/** log2 of the bytes one entry at `level` covers: 12, 21, 30, 39, 48. */
export function levelShift(level: number): number {
  return 12 + LEVEL_BITS * level;
}

/** Pages (4 KiB) one entry at `level` covers: 1, 512, 512^2, ... */
export function levelPages(level: number): number {
  return 2 ** (LEVEL_BITS * level);
}

/** Index into the table at `level` for a virtual page number. */
export function vpnIndex(vpn: number, level: number): number {
  return Math.floor(vpn / levelPages(level)) % PTES_PER_TABLE;
}

/**
 * The canonical-address rule: bits 63..vaBits must equal bit vaBits-1.
 * Takes the full 64-bit VA as a bigint (user input), returns the vpn of the
 * low vaBits bits or undefined when not canonical.
 */
export function canonicalVpn(mode: PagingMode, va: bigint): number | undefined {
  const va64 = BigInt.asUintN(64, va);
  const top = va64 >> BigInt(mode.vaBits - 1);
  const ones = (1n << BigInt(64 - mode.vaBits + 1)) - 1n;
  if (top !== 0n && top !== ones) return undefined;
  return Number((va64 & ((1n << BigInt(mode.vaBits)) - 1n)) >> 12n);
}

/** The canonical 64-bit VA (as bigint) of a vpn in this mode (sign-extends bit vaBits-1). */
export function vpnToVa(mode: PagingMode, vpn: number): bigint {
  return BigInt.asUintN(64, BigInt.asIntN(mode.vaBits, BigInt(vpn) << 12n));
}

/** satp register: MODE(63..60) | ASID(59..44) | PPN(43..0). */
export interface Satp {
  mode: 0 | 8 | 9 | 10;
  asid: number;
  ppn: number;
}

export function encodeSatp(s: Satp): bigint {
  return (BigInt(s.mode) << 60n) | (BigInt(s.asid & 0xffff) << 44n) | BigInt(s.ppn);
}

export function decodeSatp(v: bigint): Satp {
  const mode = Number((v >> 60n) & 0xfn);
  if (mode !== 0 && mode !== 8 && mode !== 9 && mode !== 10)
    throw new RangeError(`satp MODE ${mode} not supported`);
  return { mode, asid: Number((v >> 44n) & 0xffffn), ppn: Number(v & ((1n << 44n) - 1n)) };
}
