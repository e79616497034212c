/**
 * The supervisor-mode MMU: the page-table walk of the RISC-V privileged
 * specification (Sv39/Sv48/Sv57 with Svnapot, Svpbmt, Svade/Svadu), written
 * as one small function per step so each rule can be read and tested alone:
 *
 *   vpnLevelIndex       step 2: which entry of the table at this level
 *   pteIsInvalid        step 3: V=0 or a reserved encoding
 *   pteIsLeafEntry      step 4: R or X set means leaf, else pointer
 *   pointerIsReserved   non-leaf entries must not carry leaf-only bits
 *   pteIsPointer        steps 3-4 at once for a well-formed pointer
 *   napotIsReserved     Svnapot: only the 64 KiB size at level 0 exists
 *   leafPermits         step 5: R/W/X against the access, U with SUM/MXR
 *   superpageMisaligned step 6: a superpage's low PPN bits must be zero
 *   adUpdateNeeded      step 7: A clear, or D clear on a store
 *   translatedPpn       step 8: splice the VPN's low bits into the PPN
 *
 * The walk reads page-table pages only through PhysMem, as hardware would,
 * which makes it an independent check of the tables the kernel builds.
 *
 * Hot path: `walkInto` fills a reusable WalkRecord and allocates nothing;
 * `walk` / `walkVa` are allocating conveniences returning a plain union.
 * Speed matters (tens of millions of walks a second), hence literal bit
 * constants, a precomputed leaf-verdict table built from the functions
 * above, and one loop function.
 */

import { type PagingMode, type Satp, canonicalVpn, decodeSatp, pagingMode } from './paging.js';
import { AccessFault, type PhysMem } from './physmem.js';

export type AccessType = 'load' | 'store' | 'fetch';
export type Privilege = 'S' | 'U';
/** Svade: software manages A/D (missing bit => page fault). Svadu: the walker sets them. */
export type AdMode = 'svade' | 'svadu';

export type FaultCause =
  | 'instruction-access-fault'
  | 'load-access-fault'
  | 'store-access-fault'
  | 'instruction-page-fault'
  | 'load-page-fault'
  | 'store-page-fault';

/** scause exception codes, so the hot path can carry a cause as a small integer. */
export const CAUSE_FETCH_ACCESS = 1;
export const CAUSE_LOAD_ACCESS = 5;
export const CAUSE_STORE_ACCESS = 7;
export const CAUSE_FETCH_PAGE = 12;
export const CAUSE_LOAD_PAGE = 13;
export const CAUSE_STORE_PAGE = 15;

export function pageFaultCode(access: AccessType): number {
  return access === 'load' ? CAUSE_LOAD_PAGE : access === 'store' ? CAUSE_STORE_PAGE : CAUSE_FETCH_PAGE;
}

export function accessFaultCode(access: AccessType): number {
  return access === 'load' ? CAUSE_LOAD_ACCESS : access === 'store' ? CAUSE_STORE_ACCESS : CAUSE_FETCH_ACCESS;
}

export function causeName(code: number): FaultCause {
  switch (code) {
    case CAUSE_FETCH_ACCESS:
      return 'instruction-access-fault';
    case CAUSE_LOAD_ACCESS:
      return 'load-access-fault';
    case CAUSE_STORE_ACCESS:
      return 'store-access-fault';
    case CAUSE_FETCH_PAGE:
      return 'instruction-page-fault';
    case CAUSE_LOAD_PAGE:
      return 'load-page-fault';
    case CAUSE_STORE_PAGE:
      return 'store-page-fault';
  }
  throw new RangeError(`not a translation fault code: ${code}`);
}

/** The regime fields of a WalkConfig, for building one. */
export interface WalkOptions {
  mode: PagingMode;
  /** satp.PPN: the root page-table page. */
  rootPpn: number;
  priv?: Privilege;
  /** mstatus.SUM: S-mode may load/store (never fetch) U pages. */
  sum?: boolean;
  /** mstatus.MXR: loads may read execute-only pages. */
  mxr?: boolean;
  /** Default Svade. */
  ad?: AdMode;
}

/** The privilege and mstatus bits a translation depends on. */
export interface TranslationStatus {
  priv: Privilege;
  /** mstatus.SUM: S-mode may load/store (never fetch) U pages. */
  sum: boolean;
  /** mstatus.MXR: loads may read execute-only pages. */
  mxr: boolean;
  ad: AdMode;
}

/**
 * What one walk needs besides the address: the translation regime and the
 * mstatus bits. A class so that changing the bits keeps them folded into
 * `contextBits`, which the walk uses to pick its leaf-verdict table.
 */
export class WalkConfig {
  mode: PagingMode;
  rootPpn: number;
  private st: TranslationStatus;
  private ctxBits = 0;

  constructor(o: WalkOptions) {
    this.mode = o.mode;
    this.rootPpn = o.rootPpn;
    this.st = { priv: o.priv ?? 'S', sum: o.sum ?? false, mxr: o.mxr ?? false, ad: o.ad ?? 'svade' };
    this.updateContext();
  }

  /** The privilege, SUM, MXR and A/D policy in force. */
  get status(): Readonly<TranslationStatus> {
    return this.st;
  }

  /** Changes some of them (a trap, a csrw mstatus) and refolds `contextBits`. */
  setStatus(change: Partial<TranslationStatus>): void {
    this.st = { ...this.st, ...change };
    this.updateContext();
  }

  /** U-mode * 8 + SUM * 4 + MXR * 2 + Svadu: the access-independent part of the leaf context. */
  get contextBits(): number {
    return this.ctxBits;
  }

  private updateContext(): void {
    const s = this.st;
    this.ctxBits = (s.priv === 'U' ? 8 : 0) + (s.sum ? 4 : 0) + (s.mxr ? 2 : 0) + (s.ad === 'svadu' ? 1 : 0);
  }
}

export function walkConfig(o: WalkOptions): WalkConfig {
  return o instanceof WalkConfig ? o : new WalkConfig(o);
}

/** A WalkConfig from a satp value (MODE must be Sv39/48/57, not Bare). */
export function walkConfigFromSatp(
  satp: Satp | bigint,
  o: Omit<WalkOptions, 'mode' | 'rootPpn'> = {},
): WalkConfig {
  const s = typeof satp === 'bigint' ? decodeSatp(satp) : satp;
  const mode = s.mode === 8 ? 'sv39' : s.mode === 9 ? 'sv48' : s.mode === 10 ? 'sv57' : undefined;
  if (mode === undefined) throw new RangeError('satp MODE is Bare: there is nothing to walk');
  return new WalkConfig({ ...o, mode: pagingMode(mode), rootPpn: s.ppn });
}

const MAX_LEVELS = 5;

/**
 * The reusable, mutable outcome of `walkInto`. On success: ppn, level,
 * leafLo/leafHi; on failure: cause (an scause code) and level. Either way,
 * ptePfns[0..depth) and pteIndex(k) give every PTE read (or attempted: on an
 * access fault the last one is the unreachable entry).
 */
export class WalkRecord {
  ok = false;
  /** Physical page number of the 4 KiB page the VPN translates to. */
  ppn = 0;
  /** Leaf level on success; level of the offending PTE on a fault. */
  level = 0;
  /** The leaf entry on success (after any Svadu update); the offending entry on a page fault. */
  leafLo = 0;
  leafHi = 0;
  /** Effective G: set on the leaf or on any pointer above it (a global pointer makes its subtree global). */
  global = false;
  /** scause code when !ok, 0 otherwise. */
  cause = 0;
  depth = 0;
  readonly ptePfns = new Float64Array(MAX_LEVELS);
  /** The vpn walked: with level and depth it gives the index read at each depth. */
  vpn = 0;

  /** Index of the entry read at depth k (0 = root) within page ptePfns[k]. */
  pteIndex(k: number): number {
    // The last entry read (depth - 1) was at `level`; each step up is one level higher.
    return vpnLevelIndex(this.vpn, this.level + this.depth - 1 - k);
  }

  get causeName(): FaultCause | undefined {
    return this.ok ? undefined : causeName(this.cause);
  }

  /** A detached, plain-object copy. */
  toResult(): WalkResult {
    const ptePfns = Array.from(this.ptePfns.subarray(0, this.depth));
    const pteIndexes = Array.from({ length: this.depth }, (_, k) => this.pteIndex(k));
    if (this.ok) {
      const { ppn, level, leafLo, leafHi, global } = this;
      return { ok: true, ppn, level, leafLo, leafHi, global, ptePfns, pteIndexes };
    }
    const cause = causeName(this.cause);
    return {
      ok: false,
      cause,
      level: this.level,
      pteLo: this.leafLo,
      pteHi: this.leafHi,
      ptePfns,
      pteIndexes,
    };
  }
}

export interface WalkSuccess {
  ok: true;
  ppn: number;
  level: number;
  leafLo: number;
  leafHi: number;
  global: boolean;
  /** Page-table pages read, root first; entry k was word pteIndexes[k] of page ptePfns[k]. */
  ptePfns: number[];
  pteIndexes: number[];
}

export interface WalkFault {
  ok: false;
  cause: FaultCause;
  level: number;
  /** The entry that caused a page fault (zero for an access fault or a non-canonical address). */
  pteLo: number;
  pteHi: number;
  ptePfns: number[];
  pteIndexes: number[];
}

export type WalkResult = WalkSuccess | WalkFault;

// ---------------------------------------------------------------------------
// The steps, each a pure function of the PTE halves (and level/access).

/**
 * PTE bits as literals (values as in pte.ts). A const enum because V8 reads
 * a module-level const, imported or not, with a load and a TDZ check on
 * every use, which costs a third of the walk's speed.
 */
const enum B {
  V = 0x1,
  R = 0x2,
  W = 0x4,
  X = 0x8,
  U = 0x10,
  G = 0x20,
  A = 0x40,
  D = 0x80,
  /** High half: N (bit 63), PBMT (61..62), reserved (54..60), PPN[43:22] (32..53). */
  HiN = 0x80000000,
  HiPbmt = 0x60000000,
  HiReserved = 0x1fc00000,
  HiPpn = 0x3fffff,
  /** 2^22: the PPN bits held in the low half. */
  LoPpnSpan = 4194304,
  /** 2^27: the VPN bits of levels 0..2. */
  Vpn27 = 134217728,
  Vpn27Mask = 134217727,
}

/** The PTE's 44-bit PPN (same as pte.ptePpn, with inlined constants). */
function ppnOf(lo: number, hi: number): number {
  return (lo >>> 10) + (hi & B.HiPpn) * B.LoPpnSpan;
}

/** Step 3: an entry that is not valid or uses an encoding reserved for future use. */
export function pteIsInvalid(lo: number, hi: number): boolean {
  return (
    (lo & B.V) === 0 ||
    (lo & (B.R | B.W)) === B.W ||
    (hi & B.HiReserved) !== 0 ||
    (hi & B.HiPbmt) === B.HiPbmt // PBMT = 3
  );
}

/**
 * Steps 3-4 in one test for the common case, a well-formed pointer to the
 * next level: V set; R, W, X clear; none of D, A, U; and a high half holding
 * only PPN bits (no N, PBMT or reserved bits). The same as
 * !pteIsInvalid && !pteIsLeafEntry && !pointerIsReserved.
 */
export function pteIsPointer(lo: number, hi: number): boolean {
  return (lo & (B.V | B.R | B.W | B.X | B.U | B.A | B.D)) === B.V && (hi & ~B.HiPpn) === 0;
}

/** A valid entry with R or X set is a leaf (W alone was rejected as reserved). */
export function pteIsLeafEntry(lo: number): boolean {
  return (lo & (B.R | B.X)) !== 0;
}

/**
 * Non-leaf entries: N and PBMT are reserved (Svnapot, Svpbmt), and so are
 * D, A and U, which QEMU enforces with a page fault as well.
 */
export function pointerIsReserved(lo: number, hi: number): boolean {
  return (lo & (B.D | B.A | B.U)) !== 0 || (hi & (B.HiN | B.HiPbmt)) !== 0;
}

/** Svnapot: N on a leaf is only defined at level 0 with ppn[3:0] = 1000 (64 KiB). */
export function napotIsReserved(lo: number, hi: number, level: number): boolean {
  if ((hi & B.HiN) === 0) return false;
  return level !== 0 || ((lo >>> 10) & 0xf) !== 0x8;
}

/** Step 5: may this access use this leaf at this privilege with these mstatus bits? */
export function leafPermits(
  lo: number,
  access: AccessType,
  priv: Privilege,
  sum: boolean,
  mxr: boolean,
): boolean {
  if ((lo & B.U) !== 0) {
    // S-mode never executes U pages; it may load/store them only with SUM.
    if (priv === 'S' && (access === 'fetch' || !sum)) return false;
  } else if (priv === 'U') {
    return false;
  }
  if (access === 'load') return (lo & B.R) !== 0 || (mxr && (lo & B.X) !== 0);
  if (access === 'store') return (lo & B.W) !== 0;
  return (lo & B.X) !== 0;
}

/** Step 6: a superpage whose PPN is not aligned to its size (the low 9*level PPN bits, spread over both halves). */
export function superpageMisaligned(lo: number, hi: number, level: number): boolean {
  const bits = 9 * level;
  const loMask = bits >= 22 ? 0xfffffc00 : ((1 << bits) - 1) << 10;
  const hiMask = bits > 22 ? (1 << (bits - 22)) - 1 : 0;
  return ((lo & loMask) | (hi & hiMask)) !== 0;
}

/** Step 7: the access needs A set, and a store needs D set too. */
export function adUpdateNeeded(lo: number, access: AccessType): boolean {
  return (lo & B.A) === 0 || (access === 'store' && (lo & B.D) === 0);
}

/**
 * Step 8: the PPN of the 4 KiB page `vpn` lands in: the leaf's PPN with its
 * low bits replaced by the VPN's (9*level bits for a superpage, 4 for NAPOT).
 * The leaf must have passed the alignment and NAPOT checks.
 */
export function translatedPpn(lo: number, hi: number, level: number, vpn: number): number {
  const ppn = ppnOf(lo, hi);
  if (level === 0) {
    if ((hi & B.HiN) === 0) return ppn;
    return ppn - 8 + (vpn & 0xf);
  }
  if (level < 4) return ppn + (vpn & ((1 << (9 * level)) - 1));
  // Level 4 (Sv57 256 TiB leaf): 36 offset bits do not fit an int32.
  return ppn + (vpn % (B.Vpn27 * 512));
}

/** Index of `vpn` in the table at `level` (fast form of paging.vpnIndex). */
export function vpnLevelIndex(vpn: number, level: number): number {
  if (level < 3) return (vpn >>> (9 * level)) & 0x1ff;
  return (Math.floor(vpn / B.Vpn27) >>> (9 * (level - 3))) & 0x1ff;
}

/** One past the largest vpn of a mode with this many levels (Sv39 2^27, Sv48 2^36, Sv57 2^45). */
function vpnLimit(levels: number): number {
  return levels === 3 ? 134217728 : levels === 4 ? 68719476736 : 35184372088832;
}

const TWO_52 = 2 ** 52;

/**
 * A vpn in the mode's own range (the low vaBits-12 bits, as canonicalVpn
 * gives). Accepts that form, or a full 64-bit VA shifted right by 12 — which
 * for an upper-half (sign-extended) address is a 52-bit number. Returns -1
 * for a vpn that is neither, i.e. a non-canonical address.
 */
export function modeVpn(mode: PagingMode, vpn: number): number {
  const limit = vpnLimit(mode.levels);
  if (vpn >= 0 && vpn < limit && Number.isInteger(vpn)) return vpn;
  if (vpn >= TWO_52 - limit / 2 && vpn < TWO_52 && Number.isInteger(vpn)) return vpn - (TWO_52 - limit);
  return -1;
}

// ---------------------------------------------------------------------------
// Leaf verdicts, precomputed from the step functions above.
//
// Steps 3, 5 and 7 on a leaf depend only on the low 8 flag bits (V R W X U G
// A D) and on the walk's context (access, privilege, SUM, MXR, A/D policy):
// 48 contexts x 256 flag values. The walk looks its verdict up in one load
// instead of a dozen branches, the way a hardware walker uses a decoder. The
// table is built by calling the step functions, so they stay the definition;
// the high-half rules (reserved bits, PBMT, Svnapot) and step 6 are checked
// separately.

const enum Verdict {
  Ok = 0,
  PageFault = 1,
  /** Allowed once Svadu sets A (and D on a store). */
  SetAd = 2,
}

const ACCESS_TYPES: readonly AccessType[] = ['load', 'store', 'fetch'];
/** The context that checks structure only (findLeafInto): no permissions, no A/D. */
const STRUCTURAL_CONTEXT = 48;

/** Context number of a walk: access (0..2) * 16 + WalkConfig.contextBits. */
function leafContext(access: AccessType, cfg: WalkConfig): number {
  return (access === 'load' ? 0 : access === 'store' ? 16 : 32) + cfg.contextBits;
}

function buildLeafVerdicts(): Uint8Array {
  const t = new Uint8Array((STRUCTURAL_CONTEXT + 1) * 256);
  for (let ctx = 0; ctx <= STRUCTURAL_CONTEXT; ctx++) {
    for (let flags = 0; flags < 256; flags++) {
      let v: Verdict;
      if (pteIsInvalid(flags, 0) || !pteIsLeafEntry(flags)) v = Verdict.PageFault;
      else if (ctx === STRUCTURAL_CONTEXT) v = Verdict.Ok;
      else {
        const access = ACCESS_TYPES[ctx >> 4]!;
        const priv: Privilege = (ctx & 8) !== 0 ? 'U' : 'S';
        if (!leafPermits(flags, access, priv, (ctx & 4) !== 0, (ctx & 2) !== 0)) v = Verdict.PageFault;
        else if (!adUpdateNeeded(flags, access)) v = Verdict.Ok;
        else v = (ctx & 1) !== 0 ? Verdict.SetAd : Verdict.PageFault;
      }
      t[ctx * 256 + flags] = v;
    }
  }
  return t;
}

const LEAF_VERDICTS = buildLeafVerdicts();

/**
 * Steps 3, 5 and 7 for a leaf's low half under `cfg`, as the walk decides
 * them: true when the access may use the leaf as it is (no A/D update due).
 * For re-checking a cached translation on a TLB hit.
 */
export function leafAllows(lo: number, access: AccessType, cfg: WalkConfig): boolean {
  return LEAF_VERDICTS[leafContext(access, cfg) * 256 + (lo & 0xff)] === Verdict.Ok;
}

/** The high-half rules for a leaf: reserved bits, PBMT=3, Svnapot. */
function leafHiIsReserved(lo: number, hi: number, level: number): boolean {
  return (
    (hi & (B.HiN | B.HiPbmt | B.HiReserved)) !== 0 && (pteIsInvalid(lo, hi) || napotIsReserved(lo, hi, level))
  );
}

// ---------------------------------------------------------------------------
// The walk.

/** Records a fault at `level`, keeping the offending entry (zero when none was read). */
function fail(out: WalkRecord, cause: number, level: number, lo: number, hi: number): false {
  out.ok = false;
  out.cause = cause;
  out.level = level;
  out.ppn = 0;
  out.leafLo = lo;
  out.leafHi = hi;
  return false;
}

/**
 * The translation of one VPN, as a TLB miss does it: steps 1-8. Fills `out`
 * and returns out.ok; allocates nothing. With Svadu, a leaf missing A (or D
 * on a store) is updated in memory.
 */
export function walkInto(
  out: WalkRecord,
  mem: PhysMem,
  cfg: WalkConfig,
  vpn: number,
  access: AccessType,
): boolean {
  return walkCore(out, mem, cfg.mode, leafContext(access, cfg), cfg.rootPpn, vpn, access, cfg.mode.levels - 1);
}

/**
 * The walk from a table below the root, as a page-walk cache that kept the
 * pointer to `tablePpn` (a table of `level`) lets the hardware start it.
 * `out.depth` counts from the root as if the levels above had been read.
 */
export function walkFromInto(
  out: WalkRecord,
  mem: PhysMem,
  cfg: WalkConfig,
  tablePpn: number,
  level: number,
  vpn: number,
  access: AccessType,
): boolean {
  return walkCore(out, mem, cfg.mode, leafContext(access, cfg), tablePpn, vpn, access, level);
}

/**
 * Only the structural part of the walk (steps 1-4, 6 and the Svnapot rule):
 * finds the leaf for `vpn` and its translated ppn, without permission checks
 * or A/D handling, and without writing memory. Faults are reported as those
 * of `access`. Used to re-check cached translations against memory.
 */
export function findLeafInto(
  out: WalkRecord,
  mem: PhysMem,
  mode: PagingMode,
  rootPpn: number,
  vpn: number,
  access: AccessType,
): boolean {
  return walkCore(out, mem, mode, STRUCTURAL_CONTEXT, rootPpn, vpn, access, mode.levels - 1);
}

/** One loop for both entry points, kept in a single function so the hot path is one call. */
function walkCore(
  out: WalkRecord,
  mem: PhysMem,
  mode: PagingMode,
  /** The leaf-verdict context: access, privilege and mstatus bits, or STRUCTURAL_CONTEXT. */
  ctx: number,
  rootPpn: number,
  vpn: number,
  access: AccessType,
  /** The level of the table `rootPpn` names: the root's, or lower when a walk cache supplied it. */
  startLevel: number,
): boolean {
  const levels = mode.levels;
  if (!(vpn >= 0 && vpn < vpnLimit(levels))) {
    // An upper-half address given as va >> 12, or a non-canonical one.
    vpn = modeVpn(mode, vpn);
    if (vpn < 0) {
      out.depth = 0;
      return fail(out, pageFaultCode(access), levels - 1, 0, 0);
    }
  }
  const vpnLo = vpn & B.Vpn27Mask;
  const vpnHi = Math.floor(vpn / B.Vpn27);
  const pfns = out.ptePfns;
  // PhysMem's lookup cache, probed inline: a hit costs no call (see PhysMem.cacheKeys).
  const cacheKeys = mem.cacheKeys;
  const cacheFrames = mem.cacheFrames;
  const cacheMask = cacheKeys.length - 1;
  out.vpn = vpn;
  const top = levels - 1;
  let tablePpn = rootPpn;
  let level = startLevel;
  let pathBits = 0; // OR of every entry's low half, for the effective G bit
  let lo = 0;
  let hi = 0;
  let word = 0; // index of the entry's low half in the table page
  for (;;) {
    // Step 2: read the entry for this level's VPN slice.
    word = (level < 3 ? (vpnLo >>> (9 * level)) & 0x1ff : (vpnHi >>> (9 * (level - 3))) & 0x1ff) << 1;
    pfns[top - level] = tablePpn;
    const slot = tablePpn & cacheMask;
    let frame = cacheFrames[slot]!;
    if (cacheKeys[slot] !== tablePpn) {
      const f = mem.readOrUndefined(tablePpn);
      if (f === undefined) {
        out.depth = top - level + 1; // no memory behind the entry
        return fail(out, accessFaultCode(access), level, 0, 0);
      }
      frame = f;
    }
    lo = frame[word]!;
    hi = frame[word + 1]!;
    pathBits |= lo;
    if (!pteIsPointer(lo, hi)) break;
    // Step 4: descend; there is no level below 0.
    if (level === 0) {
      out.depth = top + 1;
      return fail(out, pageFaultCode(access), level, lo, hi);
    }
    tablePpn = ppnOf(lo, hi);
    level--;
  }
  out.depth = top - level + 1;
  // Not a well-formed pointer: a page fault unless a well-formed leaf that
  // permits the access (steps 3, 5, 6, 7 and the Svnapot rule).
  const verdict = LEAF_VERDICTS[ctx * 256 + (lo & 0xff)]!;
  if (verdict === Verdict.PageFault || leafHiIsReserved(lo, hi, level)) {
    return fail(out, pageFaultCode(access), level, lo, hi);
  }
  // Step 6 (as superpageMisaligned, on the PPN itself since step 8 needs it
  // anyway): a superpage's low 9*level PPN bits must be zero.
  const leafPpn = ppnOf(lo, hi);
  const pages =
    level === 0 ? 1 : level === 1 ? 512 : level === 2 ? 262144 : level === 3 ? 134217728 : 68719476736;
  const offset = level < 4 ? vpn & (pages - 1) : vpn % pages;
  if (level !== 0 && (level < 4 ? leafPpn & (pages - 1) : leafPpn % pages) !== 0) {
    return fail(out, pageFaultCode(access), level, lo, hi);
  }
  if (verdict === Verdict.SetAd) {
    // Svadu: set the bits in the PTE itself. Single-threaded, so the spec's
    // "atomically, only if unchanged" holds trivially.
    lo = (lo | B.A | (access === 'store' ? B.D : 0)) >>> 0;
    try {
      mem.write(tablePpn)[word] = lo;
    } catch (e) {
      if (e instanceof AccessFault) return fail(out, accessFaultCode(access), level, lo, hi);
      throw e;
    }
  }
  out.ok = true;
  out.cause = 0;
  out.level = level;
  out.leafLo = lo;
  out.leafHi = hi;
  out.global = (pathBits & B.G) !== 0;
  // Step 8 (as translatedPpn): splice in the VPN's low bits; NAPOT splices 4.
  out.ppn = (hi & B.HiN) === 0 ? leafPpn + offset : leafPpn - 8 + (vpn & 0xf);
  return true;
}

/** Allocating form of `walkInto`. */
export function walk(mem: PhysMem, cfg: WalkOptions, vpn: number, access: AccessType): WalkResult {
  const rec = new WalkRecord();
  walkInto(rec, mem, walkConfig(cfg), vpn, access);
  return rec.toResult();
}

/** Walk for a full 64-bit virtual address; a non-canonical one is a page fault with no PTE read. */
export function walkVa(mem: PhysMem, cfg: WalkOptions, va: bigint, access: AccessType): WalkResult {
  const vpn = canonicalVpn(cfg.mode, va);
  if (vpn === undefined) {
    const cause = causeName(pageFaultCode(access));
    return { ok: false, cause, level: cfg.mode.levels - 1, pteLo: 0, pteHi: 0, ptePfns: [], pteIndexes: [] };
  }
  return walk(mem, cfg, vpn, access);
}
