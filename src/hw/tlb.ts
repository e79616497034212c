/**
 * A hart's TLB: a set-associative cache of leaf translations, tagged by ASID
 * (global entries match every ASID), flushed only by sfence.vma — so a
 * missing flush leaves a stale translation here exactly as on hardware, and
 * `staleEntries` can point at it.
 *
 * Entries live in parallel typed arrays (no object per entry). Each entry
 * covers one naturally aligned range of one of six sizes: 4 KiB, 64 KiB
 * (Svnapot), 2 MiB, 1 GiB, 512 GiB, 256 TiB. A lookup probes one set per size
 * currently cached.
 */

import { type PagingMode, PAGING_MODES } from './paging.js';
import type { PhysMem } from './physmem.js';
import { type FaultCause, WalkRecord, causeName, findLeafInto, translatedPpn } from './mmu.js';
import { PTE_A, PTE_D, PTE_N_HI, PTE_R, PTE_U, PTE_W, PTE_X } from './pte.js';
import { RESTORE_STATE, SAVE_STATE, type SavesOwnState } from './snapshot.js';

export interface TlbOptions {
  /** Total entries (a power of two); default 512. */
  entries?: number;
  /** Associativity (a power of two dividing entries; entries = fully associative); default 8. */
  ways?: number;
}

/** Size classes: index -> pages covered. */
const CLASS_PAGES = [1, 16, 2 ** 9, 2 ** 18, 2 ** 27, 2 ** 36];
const CLASS_COUNT = CLASS_PAGES.length;
const NAPOT_CLASS = 1;

function classOf(level: number, hi: number): number {
  if (level === 0) return (hi & PTE_N_HI) !== 0 ? NAPOT_CLASS : 0;
  return level + 1;
}

function levelOfClass(c: number): number {
  return c <= NAPOT_CLASS ? 0 : c - 1;
}

/** Permission-relevant bits compared by the stale check (A/D handled separately). */
const PERM_LO = PTE_R | PTE_W | PTE_X | PTE_U;
const ATTR_HI = 0xe0000000; // N and PBMT

export type StaleReason = 'fault' | 'level' | 'ppn' | 'flags';

/** A snapshot of one entry, for display and tests. */
export interface TlbEntry {
  /** First vpn the entry covers, and how many 4 KiB pages. */
  vpn: number;
  pages: number;
  level: number;
  napot: boolean;
  asid: number;
  global: boolean;
  /** Cached ppn of the first page, and the cached leaf halves. */
  ppn: number;
  lo: number;
  hi: number;
}

/** A cached translation that no longer agrees with the page tables in memory. */
export interface StaleEntry extends TlbEntry {
  reason: StaleReason;
  /** What a fresh walk (at the vpn that filled the entry) finds now. */
  fresh?: { ppn: number; level: number; lo: number; hi: number; global: boolean };
  /** Set when the fresh walk faults. */
  cause?: FaultCause;
}

/** A snapshot of a TLB: counters, replacement state and the valid entries only (invalid ways are never read). */
export interface TlbState {
  readonly counters: readonly number[];
  readonly classCount: Int32Array;
  readonly victim: Uint8Array;
  /** ENTRY_FIELDS numbers per valid entry: index, then each field array's value. */
  readonly entries: Float64Array;
}

/** An entry in a snapshot: its index and its eleven per-entry fields (entryArrays). */
const ENTRY_FIELDS = 12;

export class Tlb implements SavesOwnState<TlbState> {
  readonly capacity: number;
  readonly ways: number;
  readonly sets: number;
  hits = 0;
  misses = 0;
  /** sfence.vma executions that reached this TLB. */
  flushes = 0;
  fills = 0;
  evictions = 0;

  private readonly setMask: number;
  private readonly valid: Uint8Array;
  private readonly cls: Uint8Array;
  private readonly tag: Float64Array;
  private readonly asid: Uint16Array;
  private readonly global: Uint8Array;
  private readonly ppnBase: Float64Array;
  private readonly lo: Uint32Array;
  private readonly hi: Uint32Array;
  // Enough to redo the walk that filled the entry, for staleEntries.
  private readonly fillVpn: Float64Array;
  private readonly rootPpn: Float64Array;
  private readonly modeLevels: Uint8Array;
  /** Round-robin victim pointer per set. */
  private readonly victim: Uint8Array;
  /** Valid entries per size class, so lookups skip absent sizes. */
  private readonly classCount = new Int32Array(CLASS_COUNT);
  private validCount = 0;
  private readonly scratch = new WalkRecord();

  constructor(opts: TlbOptions = {}) {
    const entries = opts.entries ?? 512;
    const ways = Math.min(opts.ways ?? 8, entries);
    if (!isPow2(entries) || !isPow2(ways) || ways > 256) {
      throw new RangeError(
        `TLB geometry ${entries}/${ways}: entries and ways must be powers of two, ways <= 256`,
      );
    }
    this.capacity = entries;
    this.ways = ways;
    this.sets = entries / ways;
    this.setMask = this.sets - 1;
    this.valid = new Uint8Array(entries);
    this.cls = new Uint8Array(entries);
    this.tag = new Float64Array(entries);
    this.asid = new Uint16Array(entries);
    this.global = new Uint8Array(entries);
    this.ppnBase = new Float64Array(entries);
    this.lo = new Uint32Array(entries);
    this.hi = new Uint32Array(entries);
    this.fillVpn = new Float64Array(entries);
    this.rootPpn = new Float64Array(entries);
    this.modeLevels = new Uint8Array(entries);
    this.victim = new Uint8Array(this.sets);
  }

  /** The per-entry arrays, in the order a snapshot lists an entry's fields after its index. */
  private entryArrays(): ReadonlyArray<{ [i: number]: number }> {
    return [
      this.cls,
      this.tag,
      this.asid,
      this.global,
      this.ppnBase,
      this.lo,
      this.hi,
      this.fillVpn,
      this.rootPpn,
      this.modeLevels,
      this.valid,
    ];
  }

  [SAVE_STATE](): TlbState {
    const arrays = this.entryArrays();
    const entries = new Float64Array(this.validCount * ENTRY_FIELDS);
    let j = 0;
    for (let e = 0; e < this.capacity && j < entries.length; e++) {
      if (this.valid[e] === 0) continue;
      entries[j++] = e;
      for (const a of arrays) entries[j++] = a[e]!;
    }
    return {
      counters: [this.hits, this.misses, this.flushes, this.fills, this.evictions, this.validCount],
      classCount: this.classCount.slice(),
      victim: this.victim.slice(),
      entries,
    };
  }

  [RESTORE_STATE](s: TlbState): void {
    [this.hits, this.misses, this.flushes, this.fills, this.evictions, this.validCount] = s.counters as [
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    this.classCount.set(s.classCount);
    this.victim.set(s.victim);
    this.valid.fill(0);
    const arrays = this.entryArrays();
    const x = s.entries;
    for (let j = 0; j < x.length; j += ENTRY_FIELDS) {
      const e = x[j]!;
      for (let f = 0; f < arrays.length; f++) arrays[f]![e] = x[j + 1 + f]!;
    }
  }

  /** Number of valid entries. */
  get size(): number {
    return this.validCount;
  }

  private setOf(tag: number, c: number): number {
    return ((tag ^ (c << 7)) & this.setMask) * this.ways;
  }

  /** Entry index translating (vpn, asid), or -1. Counts a hit or a miss. */
  lookup(vpn: number, asid: number): number {
    const e = this.probe(vpn, asid);
    if (e >= 0) this.hits++;
    else this.misses++;
    return e;
  }

  /** Like `lookup` without touching the counters (the hart counts a hit only once it is usable). */
  probe(vpn: number, asid: number): number {
    for (let c = 0; c < CLASS_COUNT; c++) {
      if (this.classCount[c] === 0) continue;
      const t = c === 0 ? vpn : Math.floor(vpn / CLASS_PAGES[c]!);
      const base = this.setOf(t, c);
      for (let e = base; e < base + this.ways; e++) {
        if (
          this.valid[e] !== 0 &&
          this.tag[e] === t &&
          this.cls[e] === c &&
          (this.global[e] !== 0 || this.asid[e] === asid)
        ) {
          return e;
        }
      }
    }
    return -1;
  }

  /** The ppn entry `e` gives for `vpn` (which it must cover). */
  ppnOf(e: number, vpn: number): number {
    return this.ppnBase[e]! + (vpn - this.tag[e]! * CLASS_PAGES[this.cls[e]!]!);
  }

  /** Cached leaf halves and level of entry `e`. */
  loOf(e: number): number {
    return this.lo[e]!;
  }

  hiOf(e: number): number {
    return this.hi[e]!;
  }

  levelOf(e: number): number {
    return levelOfClass(this.cls[e]!);
  }

  isGlobal(e: number): boolean {
    return this.global[e] !== 0;
  }

  /** Caches the successful walk `rec` of `vpn` made under `asid` with root `rootPpn`; returns the entry index. */
  fill(vpn: number, asid: number, rec: WalkRecord, mode: PagingMode, rootPpn: number): number {
    if (!rec.ok) throw new RangeError('only successful walks are cached');
    const c = classOf(rec.level, rec.leafHi);
    const pages = CLASS_PAGES[c]!;
    const t = c === 0 ? vpn : Math.floor(vpn / pages);
    const g = rec.global ? 1 : 0;
    const base = this.setOf(t, c);
    let e = -1;
    // Replace an entry for the same range and address space, else a free way, else the round-robin victim.
    for (let i = base; i < base + this.ways; i++) {
      if (
        this.valid[i] !== 0 &&
        this.tag[i] === t &&
        this.cls[i] === c &&
        (this.global[i] !== 0 || g !== 0 || this.asid[i] === asid)
      ) {
        e = i;
        break;
      }
    }
    if (e < 0) {
      for (let i = base; i < base + this.ways; i++) {
        if (this.valid[i] === 0) {
          e = i;
          break;
        }
      }
    }
    if (e < 0) {
      const set = base / this.ways;
      e = base + this.victim[set]!;
      this.victim[set] = (this.victim[set]! + 1) % this.ways;
      this.evictions++;
    }
    if (this.valid[e] !== 0) this.invalidate(e);
    this.valid[e] = 1;
    this.cls[e] = c;
    this.tag[e] = t;
    this.asid[e] = asid;
    this.global[e] = g;
    this.ppnBase[e] = rec.ppn - (vpn - t * pages);
    this.lo[e] = rec.leafLo;
    this.hi[e] = rec.leafHi;
    this.fillVpn[e] = vpn;
    this.rootPpn[e] = rootPpn;
    this.modeLevels[e] = mode.levels;
    this.classCount[c]!++;
    this.validCount++;
    this.fills++;
    return e;
  }

  /**
   * sfence.vma. With neither operand every entry goes; with only an ASID the
   * non-global entries of that ASID; with only a VA every entry (global too)
   * covering it; with both, the non-global entries of that ASID covering it.
   */
  sfenceVma(vpn?: number, asid?: number): void {
    this.flushes++;
    if (vpn === undefined && asid === undefined) {
      this.flushAll();
      return;
    }
    for (let e = 0; e < this.capacity; e++) {
      if (this.valid[e] === 0) continue;
      if (vpn !== undefined && Math.floor(vpn / CLASS_PAGES[this.cls[e]!]!) !== this.tag[e]) continue;
      if (asid !== undefined && (this.global[e] !== 0 || this.asid[e] !== asid)) continue;
      this.invalidate(e);
    }
  }

  /** Drops everything without counting an sfence (reset, satp write with a bare mode, ...). */
  flushAll(): void {
    // An empty TLB has nothing to clear (the kernel flushes after every section it touches).
    if (this.validCount !== 0) {
      this.valid.fill(0);
      this.classCount.fill(0);
      this.validCount = 0;
    }
  }

  private invalidate(e: number): void {
    this.valid[e] = 0;
    this.classCount[this.cls[e]!]!--;
    this.validCount--;
  }

  /** Every valid entry, for display and tests. */
  entries(): TlbEntry[] {
    const out: TlbEntry[] = [];
    for (let e = 0; e < this.capacity; e++) if (this.valid[e] !== 0) out.push(this.entryAt(e));
    return out;
  }

  private entryAt(e: number): TlbEntry {
    const c = this.cls[e]!;
    const pages = CLASS_PAGES[c]!;
    return {
      vpn: this.tag[e]! * pages,
      pages,
      level: levelOfClass(c),
      napot: c === NAPOT_CLASS,
      asid: this.asid[e]!,
      global: this.global[e] !== 0,
      ppn: this.ppnBase[e]!,
      lo: this.lo[e]!,
      hi: this.hi[e]!,
    };
  }

  /**
   * Cached translations that a fresh walk of the tables now in `mem` would
   * not reproduce: the walk faults, or finds a leaf of another size, another
   * ppn, other permissions/attributes/G, or lacks an A/D bit the entry has.
   * The walk is redone at the vpn that filled the entry, from the root it
   * was filled under. Kernel code that changes a PTE and forgets to flush
   * shows up here. (A/D bits the hardware set after the fill are fine.)
   */
  staleEntries(mem: PhysMem): StaleEntry[] {
    const out: StaleEntry[] = [];
    const rec = this.scratch;
    for (let e = 0; e < this.capacity; e++) {
      if (this.valid[e] === 0) continue;
      const mode = PAGING_MODES[this.modeLevels[e]! - 3]!;
      const vpn = this.fillVpn[e]!;
      const base = this.entryAt(e);
      if (!findLeafInto(rec, mem, mode, this.rootPpn[e]!, vpn, 'load')) {
        out.push({ ...base, reason: 'fault', cause: causeName(rec.cause) });
        continue;
      }
      const fresh = {
        ppn: translatedPpn(rec.leafLo, rec.leafHi, rec.level, vpn),
        level: rec.level,
        lo: rec.leafLo,
        hi: rec.leafHi,
        global: rec.global,
      };
      let reason: StaleReason | undefined;
      const lo = this.lo[e]!;
      const hi = this.hi[e]!;
      if (classOf(rec.level, rec.leafHi) !== this.cls[e]) reason = 'level';
      else if (fresh.ppn !== this.ppnOf(e, vpn)) reason = 'ppn';
      else if (
        ((lo ^ fresh.lo) & PERM_LO) !== 0 ||
        ((hi ^ fresh.hi) & ATTR_HI) !== 0 ||
        fresh.global !== base.global ||
        (lo & ~fresh.lo & (PTE_A | PTE_D)) !== 0
      ) {
        reason = 'flags';
      }
      if (reason !== undefined) out.push({ ...base, reason, fresh });
    }
    return out;
  }
}

function isPow2(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}
