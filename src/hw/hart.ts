/**
 * A hart as far as address translation goes: satp, privilege, the SUM and
 * MXR bits of mstatus, the A/D policy, and its own TLB. `translate` is what a
 * load, store or fetch does before touching memory: TLB first, then the walk,
 * filling the TLB on success.
 */

import { type PagingMode, type Satp, PAGING_MODES, canonicalVpn, decodeSatp, encodeSatp } from './paging.js';
import type { PhysMem } from './physmem.js';
import {
  type TranslationStatus,
  type AccessType,
  type AdMode,
  type FaultCause,
  WalkConfig,
  WalkRecord,
  causeName,
  leafAllows,
  modeVpn,
  pageFaultCode,
  walkFromInto,
  walkInto,
} from './mmu.js';
import { Tlb, type TlbOptions } from './tlb.js';
import { PageWalkCache } from './walk_cache.js';

export interface HartOptions {
  tlb?: TlbOptions;
  /** Svade (default) or Svadu. */
  ad?: AdMode;
}

export type Translation =
  | { ok: true; ppn: number; pa: bigint; level: number; tlbHit: boolean }
  | { ok: false; cause: FaultCause; level: number };

const BARE: Satp = { mode: 0, asid: 0, ppn: 0 };

export class Hart {
  readonly tlb: Tlb;
  /** Last walk done by this hart (reused; valid until the next walk). */
  readonly lastWalk = new WalkRecord();
  /** Whether the last translatePpn was served by the TLB, and the leaf (or fault) level it found. */
  lastTlbHit = false;
  lastLevel = 0;
  private satpValue: Satp = BARE;
  /** 2^(vaBits-12) of the current mode: vpns at or above it need modeVpn. */
  private vpnSpan = 0;
  private readonly cfg: WalkConfig;

  constructor(
    readonly id: number,
    readonly mem: PhysMem,
    opts: HartOptions = {},
  ) {
    this.tlb = new Tlb(opts.tlb);
    this.cfg = new WalkConfig({ mode: PAGING_MODES[0]!, rootPpn: 0, priv: 'S', ad: opts.ad ?? 'svade' });
  }

  get satp(): Satp {
    return this.satpValue;
  }

  /**
   * Writes satp. Like the real CSR write this does not flush the TLB: entries
   * of other ASIDs stay, and software must sfence.vma when reusing an ASID.
   */
  set satp(v: Satp) {
    this.satpValue = { mode: v.mode, asid: v.asid & 0xffff, ppn: v.ppn };
    if (v.mode !== 0) {
      this.cfg.mode = PAGING_MODES[v.mode - 8]!;
      this.cfg.rootPpn = v.ppn;
      this.vpnSpan = 2 ** (this.cfg.mode.vaBits - 12);
    }
  }

  /** satp as the 64-bit register value. */
  get satpRaw(): bigint {
    return encodeSatp(this.satpValue);
  }

  set satpRaw(v: bigint) {
    this.satp = decodeSatp(v);
  }

  /** The paging mode in force, or undefined in Bare mode. */
  get mode(): PagingMode | undefined {
    return this.satpValue.mode === 0 ? undefined : this.cfg.mode;
  }

  /** The privilege, mstatus.SUM/MXR and A/D policy this hart translates with. */
  get status(): Readonly<TranslationStatus> {
    return this.cfg.status;
  }

  setStatus(change: Partial<TranslationStatus>): void {
    this.cfg.setStatus(change);
  }

  /**
   * A page-walk cache of non-leaf entries, off by default (the recordings'
   * QEMU has none); the concurrency explorer turns it on for the other harts.
   */
  walkCache: PageWalkCache | undefined = undefined;

  /** sfence.vma on this hart (see Tlb.sfenceVma for the operand cases). */
  sfenceVma(vpn?: number, asid?: number): void {
    this.tlb.sfenceVma(vpn, asid);
    // Only a fence without an address must drop cached non-leaf entries.
    if (vpn === undefined) this.walkCache?.flush();
  }

  /**
   * Translates a full virtual address (bigint, checked for canonical form) or
   * a VPN (number: the mode's own vpn, or va >> 12) for `access`. Bare mode
   * maps identity.
   */
  translate(va: bigint | number, access: AccessType): Translation {
    let vpn: number;
    if (typeof va === 'bigint') {
      if (this.satpValue.mode === 0) {
        const pa = BigInt.asUintN(64, va);
        return { ok: true, ppn: Number(pa >> 12n), pa, level: 0, tlbHit: false };
      }
      const v = canonicalVpn(this.cfg.mode, va);
      if (v === undefined)
        return { ok: false, cause: causeName(pageFaultCode(access)), level: this.cfg.mode.levels - 1 };
      vpn = v;
    } else {
      vpn = va;
    }
    const r = this.translatePpn(vpn, access);
    if (r < 0) return { ok: false, cause: causeName(-r), level: this.lastLevel };
    const offset = typeof va === 'bigint' ? BigInt.asUintN(12, va) : 0n;
    return {
      ok: true,
      ppn: r,
      pa: (BigInt(r) << 12n) | offset,
      level: this.lastLevel,
      tlbHit: this.lastTlbHit,
    };
  }

  /**
   * The allocation-free form of `translate`: the ppn, or minus the scause
   * code on a fault (details in `lastWalk`). `vpn` is the mode's own vpn or a
   * full VA shifted right by 12 (see mmu.modeVpn).
   *
   * A TLB hit whose cached permissions or A/D bits do not allow the access is
   * treated as a miss and walked again, as QEMU does: the entry may be out of
   * date in the safe direction (e.g. D set since) and the walk decides.
   */
  translatePpn(vpn: number, access: AccessType): number {
    this.lastTlbHit = false;
    this.lastLevel = 0;
    if (this.satpValue.mode === 0) return vpn;
    if (vpn >= this.vpnSpan) {
      vpn = modeVpn(this.cfg.mode, vpn);
      if (vpn < 0) {
        this.lastLevel = this.cfg.mode.levels - 1;
        return -pageFaultCode(access);
      }
    }
    const asid = this.satpValue.asid;
    const tlb = this.tlb;
    const e = tlb.probe(vpn, asid);
    if (e >= 0 && leafAllows(tlb.loOf(e), access, this.cfg)) {
      tlb.hits++;
      this.lastTlbHit = true;
      this.lastLevel = tlb.levelOf(e);
      return tlb.ppnOf(e, vpn);
    }
    tlb.misses++;
    const rec = this.lastWalk;
    const wc = this.walkCache;
    let ok: boolean;
    if (wc === undefined) ok = walkInto(rec, this.mem, this.cfg, vpn, access);
    else {
      const from = wc.lookup(vpn, this.cfg.mode);
      if (from) wc.hits++;
      ok = from
        ? walkFromInto(rec, this.mem, this.cfg, from.tablePpn, from.level, vpn, access)
        : walkInto(rec, this.mem, this.cfg, vpn, access);
      wc.fill(rec, this.cfg.mode, from ? from.level : this.cfg.mode.levels - 1);
    }
    this.lastLevel = rec.level;
    if (!ok) return -rec.cause;
    tlb.fill(vpn, asid, rec, this.cfg.mode, this.cfg.rootPpn);
    return rec.ppn;
  }
}
