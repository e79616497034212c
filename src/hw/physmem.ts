/**
 * Sparse physical memory of the machine.
 *
 * The address space is a list of regions (RAM, hot-pluggable RAM backed by a
 * memory backend, device memory windows, holes). A 4 KiB frame gets host
 * storage only when it is first written; a never-written RAM frame reads as
 * zero. So adding a 1 TiB region costs one region record, not 1 TiB.
 *
 * Frames are Uint32Arrays of 1024 words, which is also how a page-table page
 * is read: 64-bit entry i is words [2i] (low half) and [2i+1] (high half).
 */

import { RESTORE_STATE, SAVE_STATE, type SavesOwnState } from './snapshot.js';
import { OneWordFrames } from './one_word_frames.js';

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;
export const WORDS_PER_FRAME = PAGE_SIZE / 4;

export type RegionKind = 'ram' | 'device';

export interface MemRegion {
  /** A name for messages and `info mtree`, e.g. "riscv_virt_board.ram" or a backend id. */
  readonly name: string;
  readonly kind: RegionKind;
  /** First frame number. */
  readonly basePfn: number;
  /** Number of 4 KiB frames. */
  readonly pages: number;
}

/** An access to a physical address with no memory behind it (the spec's access-fault case). */
export class AccessFault extends Error {
  constructor(readonly pfn: number) {
    super(`access fault at physical frame 0x${pfn.toString(16)}`);
  }
}

// Direct-mapped cache of frame lookups for hot walks. A const enum so the
// mask is a literal in the hot path (a module-level const costs a load and a
// TDZ check per use in V8).
const enum Cache {
  Size = 1024,
  Mask = 1023,
}
const CACHE_SIZE = Cache.Size;
const ZERO_FRAME = new Uint32Array(WORDS_PER_FRAME);

/**
 * The frame journal behind snapshots: after a snapshot, the first change to a
 * frame (write, zero, drop) logs its old contents, so a restore undoes only
 * the frames that changed. Positions in the log are the snapshots; restoring
 * one drops the log after it, so snapshots nest last-in-first-out (the later
 * ones become unrestorable, which `restore` says).
 */
interface FrameJournal {
  pfns: number[];
  /** Old contents (a private copy, never handed out), or undefined for "had no storage". */
  olds: Array<Uint32Array | undefined>;
  /** The snapshots that can still be restored, oldest first (a restore drops those taken after it). */
  marks: JournalMark[];
  /** Ordinary frames logged since the last snapshot or restore (a second change needs no entry). */
  logged: Set<number>;
  /** Counts snapshots and restores: a one-word frame logged since the last one carries its value. */
  gen: number;
}

interface JournalMark {
  pos: number;
  index: number;
  live: boolean;
}

/** What a snapshot of physical memory holds: its place in the journal and the region list. */
export interface PhysMemState {
  readonly pos: number;
  readonly mark: JournalMark;
  readonly regions: readonly MemRegion[];
}

export class PhysMem implements SavesOwnState<PhysMemState> {
  private readonly frames = new Map<number, Uint32Array>();
  /** Frames with storage that hold one non-zero word (never also in `frames`). */
  private readonly oneWord = new OneWordFrames();
  /** Undefined until the first snapshot: a machine never snapshotted pays one test per write. */
  private journal: FrameJournal | undefined;
  /**
   * Frames changed since `trackChanges`, in order (a frame written twice in a row is logged once):
   * a checker re-reads only the page-table frames that changed since it last looked. Change number
   * n is changeLog[n - changeBase]; the log's first half goes when it grows long.
   */
  private changeLog: number[] | undefined;
  private changeBase = 0;
  /** Readers of the change log and how far each has read (see `caughtUp`). */
  private readonly readers = new Map<object, number>();
  /** Someone read the count since the last entry: a repeat of that entry is a new change for them. */
  private changeSeen = true;
  /** Either of the two above is on: the one test a write makes on the fast path. */
  private tracking = false;
  private readonly regionList: MemRegion[] = [];
  /**
   * The lookup cache also holds never-written frames (as ZERO_FRAME), which page-table scans read
   * 512 times each: a write never takes a cached ZERO_FRAME for the frame's storage, and whatever
   * gives a frame storage, or turns a frame into a hole, forgets its slot.
   */
  private readonly cacheKey = new Float64Array(CACHE_SIZE).fill(-1);
  // Always a real frame (ZERO_FRAME when empty, with key -1), so the array stays packed and monomorphic.
  private readonly cacheVal: Uint32Array[] = Array.from({ length: CACHE_SIZE }, () => ZERO_FRAME);

  get regions(): readonly MemRegion[] {
    return this.regionList;
  }

  /** Number of frames that have host storage (were written at least once). */
  get writtenFrames(): number {
    return this.frames.size + this.oneWord.size;
  }

  addRegion(region: MemRegion): void {
    if (region.pages <= 0) throw new RangeError(`region ${region.name} is empty`);
    const end = region.basePfn + region.pages;
    for (const r of this.regionList) {
      if (region.basePfn < r.basePfn + r.pages && r.basePfn < end) {
        throw new RangeError(`region ${region.name} overlaps ${r.name}`);
      }
    }
    this.regionList.push(region);
    this.regionList.sort((a, b) => a.basePfn - b.basePfn);
    this.regionsChanged();
  }

  /** Removes a region and drops the storage of its frames (unplugging a DIMM loses its contents). */
  removeRegion(name: string): MemRegion {
    const i = this.regionList.findIndex((r) => r.name === name);
    if (i < 0) throw new RangeError(`no region ${name}`);
    const [region] = this.regionList.splice(i, 1) as [MemRegion];
    this.dropFrames(region.basePfn, region.pages);
    this.regionsChanged();
    return region;
  }

  regionAt(pfn: number): MemRegion | undefined {
    // Few regions (boot RAM + a handful of devices): a linear scan is fastest.
    for (const r of this.regionList) {
      if (pfn >= r.basePfn && pfn < r.basePfn + r.pages) return r;
    }
    return undefined;
  }

  isBacked(pfn: number): boolean {
    return this.regionAt(pfn) !== undefined;
  }

  /** The frame's words for reading; a never-written frame is a shared zero page. Throws AccessFault on a hole. */
  read(pfn: number): Uint32Array {
    const f = this.readOrUndefined(pfn);
    if (f === undefined) throw new AccessFault(pfn);
    return f;
  }

  /**
   * Like `read`, but a hole gives undefined instead of throwing: for hot
   * loops (the MMU walk) that turn holes into their own fault codes.
   */
  readOrUndefined(pfn: number): Uint32Array | undefined {
    const slot = pfn & Cache.Mask;
    if (this.cacheKey[slot] === pfn) return this.cacheVal[slot]!;
    const f = this.frames.get(pfn) ?? this.widen(pfn) ?? (this.isBacked(pfn) ? ZERO_FRAME : undefined);
    if (f !== undefined) {
      this.cacheKey[slot] = pfn;
      this.cacheVal[slot] = f;
    }
    return f;
  }

  /** Forgets the cache slot of a frame (it gets storage of another kind, or loses it). */
  private uncache(pfn: number): void {
    const slot = pfn & Cache.Mask;
    if (this.cacheKey[slot] === pfn) {
      this.cacheKey[slot] = -1;
      this.cacheVal[slot] = ZERO_FRAME;
    }
  }

  /** A one-word frame made an ordinary one (same contents), or undefined when it is not one. */
  private widen(pfn: number): Uint32Array | undefined {
    const ow = this.oneWord;
    const index = ow.wordIndex(pfn);
    if (index < 0) return undefined;
    // Logged as a one-word frame in this generation: as an ordinary frame it needs no second entry.
    if (this.journal !== undefined && ow.gen(pfn) === this.journal.gen) this.journal.logged.add(pfn);
    const f = new Uint32Array(WORDS_PER_FRAME);
    f[index * 2] = ow.lo(pfn);
    f[index * 2 + 1] = ow.hi(pfn);
    ow.delete(pfn);
    this.frames.set(pfn, f);
    return f;
  }

  /**
   * The direct-mapped lookup cache, for the MMU walk's inner loop to probe
   * without a call: with slot = pfn & (cacheKeys.length - 1), if
   * cacheKeys[slot] === pfn then cacheFrames[slot] is that frame; otherwise
   * ask `readOrUndefined`. Read-only: never write to these arrays.
   */
  get cacheKeys(): Float64Array {
    return this.cacheKey;
  }

  get cacheFrames(): readonly Uint32Array[] {
    return this.cacheVal;
  }

  /** The frame's words for writing (storage is created on first write). Throws AccessFault on a hole. */
  write(pfn: number): Uint32Array {
    if (this.tracking) this.track(pfn);
    const slot = pfn & Cache.Mask;
    if (this.cacheKey[slot] === pfn && this.cacheVal[slot] !== ZERO_FRAME) return this.cacheVal[slot]!;
    let f = this.frames.get(pfn) ?? this.widen(pfn);
    if (f === undefined) {
      if (!this.isBacked(pfn)) throw new AccessFault(pfn);
      f = new Uint32Array(WORDS_PER_FRAME);
      this.frames.set(pfn, f);
    }
    this.cacheKey[slot] = pfn;
    this.cacheVal[slot] = f;
    return f;
  }

  /** Low and high halves of 64-bit word `index` (0..511) of a frame. */
  readLo(pfn: number, index: number): number {
    const slot = pfn & Cache.Mask;
    if (this.cacheKey[slot] === pfn) return this.cacheVal[slot]![index * 2]!;
    // A one-word frame read at its word (a workload tag check) stays one; a read of another word is
    // most likely a scan of a page table, which the whole (cached) frame serves faster.
    if (this.oneWord.wordIndex(pfn) === index) return this.oneWord.lo(pfn);
    return this.read(pfn)[index * 2]!;
  }

  readHi(pfn: number, index: number): number {
    const slot = pfn & Cache.Mask;
    if (this.cacheKey[slot] === pfn) return this.cacheVal[slot]![index * 2 + 1]!;
    if (this.oneWord.wordIndex(pfn) === index) return this.oneWord.hi(pfn);
    return this.read(pfn)[index * 2 + 1]!;
  }

  write64(pfn: number, index: number, lo: number, hi: number): void {
    const slot = pfn & Cache.Mask;
    if ((this.cacheKey[slot] !== pfn || this.cacheVal[slot] === ZERO_FRAME) && !this.frames.has(pfn)) {
      // No ordinary frame: keep it a one-word frame while it holds at most one non-zero word.
      const ow = this.oneWord;
      const at = ow.wordIndex(pfn);
      if (at < 0 && (lo | hi) === 0) {
        if (!this.isBacked(pfn)) throw new AccessFault(pfn);
        return;
      }
      if (at < 0 || at === index) {
        if (at < 0 && !this.isBacked(pfn)) throw new AccessFault(pfn);
        const j = this.journal;
        if (this.tracking) {
          this.logChange(pfn);
          // The journal's entry without the set lookup of `logFrame`: the frame says whether it has one.
          if (j !== undefined && (at < 0 || ow.gen(pfn) !== j.gen)) this.journalPush(pfn, at);
        }
        if ((lo | hi) === 0) ow.delete(pfn);
        else {
          // Cached as a never-written frame, it reads as its word now.
          if (at < 0) this.uncache(pfn);
          ow.set(pfn, index, lo, hi, j === undefined ? 0 : j.gen);
        }
        return;
      }
    }
    const f = this.write(pfn);
    f[index * 2] = lo;
    f[index * 2 + 1] = hi;
  }

  /** Fills a frame with zeroes (clear_page); a zero frame needs no storage. */
  zero(pfn: number): void {
    if (!this.isBacked(pfn)) throw new AccessFault(pfn);
    this.dropFrames(pfn, 1);
  }

  /** True when the frame has never been written or holds only zeroes. */
  isZero(pfn: number): boolean {
    if (this.oneWord.has(pfn)) return false;
    const f = this.frames.get(pfn);
    if (f === undefined) return true;
    for (let i = 0; i < WORDS_PER_FRAME; i++) if (f[i] !== 0) return false;
    return true;
  }

  /** Copies one frame's contents to another (migration). */
  copy(dstPfn: number, srcPfn: number): void {
    const src = this.frames.get(srcPfn);
    if (!this.isBacked(srcPfn)) throw new AccessFault(srcPfn);
    if (src === undefined) {
      const at = this.oneWord.wordIndex(srcPfn);
      const lo = at < 0 ? 0 : this.oneWord.lo(srcPfn);
      const hi = at < 0 ? 0 : this.oneWord.hi(srcPfn);
      this.zero(dstPfn);
      if (at >= 0) this.write64(dstPfn, at, lo, hi);
      return;
    }
    this.write(dstPfn).set(src);
  }

  private dropFrames(basePfn: number, pages: number): void {
    const t = this.tracking;
    if (pages <= this.frames.size) {
      for (let p = basePfn; p < basePfn + pages; p++) {
        if (t && (this.frames.has(p) || this.oneWord.has(p))) this.track(p);
        this.frames.delete(p);
        this.oneWord.delete(p);
      }
    } else {
      for (const p of this.frames.keys())
        if (p >= basePfn && p < basePfn + pages) {
          if (t) this.track(p);
          this.frames.delete(p);
        }
      for (const p of this.oneWord.keysIn(basePfn, pages)) {
        if (t) this.track(p);
        this.oneWord.delete(p);
      }
    }
    if (pages < CACHE_SIZE) {
      // Only the slots those frames can occupy.
      for (let p = basePfn; p < basePfn + pages; p++) {
        const slot = p & Cache.Mask;
        if (this.cacheKey[slot] === p) {
          this.cacheKey[slot] = -1;
          this.cacheVal[slot] = ZERO_FRAME;
        }
      }
    } else {
      this.cacheKey.fill(-1);
      this.cacheVal.fill(ZERO_FRAME);
    }
  }

  /**
   * From now on, log which frames change (`changesSince`). Costs an array push per write to another
   * frame than the last; a machine nobody checks incrementally never pays it. A reader that says
   * how far it has read (`caughtUp`) lets the log be emptied once every such reader has read it all.
   */
  trackChanges(reader?: object): void {
    if (reader !== undefined) this.readers.set(reader, this.changeCount);
    if (this.changeLog !== undefined) return;
    this.changeLog = [];
    this.tracking = true;
  }

  /** `reader` has read the changes up to count `at`: when all readers have read everything, the log empties. */
  caughtUp(reader: object, at: number): void {
    const log = this.changeLog;
    if (log === undefined) return;
    this.readers.set(reader, at);
    const end = this.changeBase + log.length;
    for (const pos of this.readers.values()) if (pos !== end) return;
    this.changeBase = end;
    log.length = 0;
  }

  /** How many changes were logged so far: give it to `changesSince` later. */
  get changeCount(): number {
    this.changeSeen = true;
    return this.changeBase + (this.changeLog?.length ?? 0);
  }

  /**
   * The frames changed since the count was `at`, with repeats: log[from..], read in place (thousands
   * of workload pages change in one operation), valid until the next change. Undefined when that
   * part of the log is gone. -1 stands for "regions were added or removed" (any frame may read
   * differently).
   */
  changesSince(at: number): { log: readonly number[]; from: number } | undefined {
    this.changeSeen = true;
    if (this.changeLog === undefined || at < this.changeBase) return undefined;
    return { log: this.changeLog, from: at - this.changeBase };
  }

  private regionsChanged(): void {
    // A frame cached as never written may be a hole now.
    this.cacheKey.fill(-1);
    this.cacheVal.fill(ZERO_FRAME);
    this.logChange(-1);
  }

  private logChange(pfn: number): void {
    let log = this.changeLog;
    if (log === undefined || (!this.changeSeen && log[log.length - 1] === pfn)) return;
    this.changeSeen = false;
    if (log.length >= 1 << 20) {
      // A checker that has not looked for this long starts afresh (changesSince says so). A new
      // array, so that a log handed out by changesSince stays as it was.
      const drop = log.length >> 1;
      log = this.changeLog = log.slice(drop);
      this.changeBase += drop;
    }
    log.push(pfn);
  }

  /** A frame is about to change: log it, and its old contents for the snapshots. */
  private track(pfn: number): void {
    this.logChange(pfn);
    if (this.journal !== undefined) this.logFrame(pfn);
  }

  /** Logs a frame's contents before its first change since the last snapshot or restore. */
  private logFrame(pfn: number): void {
    const j = this.journal!;
    const at = this.oneWord.wordIndex(pfn);
    if (at >= 0) {
      if (this.oneWord.gen(pfn) !== j.gen) this.journalPush(pfn, at);
      return;
    }
    if (j.logged.has(pfn)) return;
    j.logged.add(pfn);
    const f = this.frames.get(pfn);
    j.pfns.push(pfn);
    j.olds.push(f === undefined ? undefined : f.slice());
  }

  /** A journal entry for a one-word frame (its word at `at`; -1: a frame without storage), marked logged. */
  private journalPush(pfn: number, at: number): void {
    const j = this.journal!;
    j.pfns.push(pfn);
    if (at < 0) {
      j.olds.push(undefined);
      return;
    }
    const old = new Uint32Array(WORDS_PER_FRAME);
    old[at * 2] = this.oneWord.lo(pfn);
    old[at * 2 + 1] = this.oneWord.hi(pfn);
    j.olds.push(old);
    this.oneWord.setGen(pfn, j.gen);
  }

  /** Numbers of the frames that have storage, in no particular order (for comparisons and tests). */
  *writtenPfns(): IterableIterator<number> {
    yield* this.frames.keys();
    yield* this.oneWord.keys();
  }

  /** A snapshot: O(regions); from now on each changed frame is copied once before its first change. */
  [SAVE_STATE](): PhysMemState {
    this.journal ??= { pfns: [], olds: [], marks: [], logged: new Set(), gen: 1 };
    this.tracking = true;
    const j = this.journal;
    j.logged.clear();
    j.gen++;
    const mark = { pos: j.pfns.length, index: j.marks.length, live: true };
    j.marks.push(mark);
    return { pos: mark.pos, mark, regions: this.regionList.slice() };
  }

  /** Undoes every frame change logged since the snapshot: O(frames changed since). */
  [RESTORE_STATE](s: PhysMemState): void {
    const j = this.journal;
    if (j === undefined || !s.mark.live || j.marks[s.mark.index] !== s.mark)
      throw new Error(
        'physical memory snapshot can no longer be restored: an older snapshot was restored after it was taken (snapshots restore last-in-first-out)',
      );
    for (let i = j.pfns.length - 1; i >= s.pos; i--) {
      const pfn = j.pfns[i]!;
      const old = j.olds[i];
      this.logChange(pfn);
      this.oneWord.delete(pfn);
      const cur = this.frames.get(pfn);
      if (old === undefined) this.frames.delete(pfn);
      else if (cur !== undefined) cur.set(old);
      // A fresh copy: the logged one must stay as it is for the next restore.
      else this.frames.set(pfn, old.slice());
      // The lookup cache may hold a frame that is gone (or is about to be replaced): forget the slot.
      const slot = pfn & Cache.Mask;
      if (this.cacheKey[slot] === pfn) {
        this.cacheKey[slot] = -1;
        this.cacheVal[slot] = ZERO_FRAME;
      }
    }
    j.pfns.length = s.pos;
    j.olds.length = s.pos;
    // The snapshots taken after this one cannot be restored any more.
    for (let i = s.mark.index + 1; i < j.marks.length; i++) j.marks[i]!.live = false;
    j.marks.length = s.mark.index + 1;
    j.logged.clear();
    j.gen++;
    if (!sameRegions(this.regionList, s.regions)) {
      this.regionList.splice(0, this.regionList.length, ...s.regions);
      this.regionsChanged();
    }
  }
}

function sameRegions(a: readonly MemRegion[], b: readonly MemRegion[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
