/**
 * A small workload so offlining has something to do: pages allocated as
 * user memory (movable, migratable) or kernel memory (unmovable), each with a
 * content tag written into the page itself so migration can be checked.
 * Per-page state lives in typed arrays per 4096-page chunk (16 MiB), created on first use.
 */
import type { Kernel } from '../kernel.js';
import { RESTORE_STATE, SAVE_STATE, type SavesOwnState } from '../../hw/snapshot.js';
import { allocPages, freeContigRange, freePages } from './page_alloc.js';

/** Pages per chunk of per-page state: small enough that a few pages cost little, big enough for long runs. */
const CHUNK_PAGES = 4096;

function chunkOf(pfn: number): number {
  return Math.floor(pfn / CHUNK_PAGES);
}

export const PAGE_FREE_OR_KERNEL = 0;
export const PAGE_MOVABLE = 1;
export const PAGE_UNMOVABLE = 2;
/** User memory under a long-term pin (VFIO, RDMA): isolation lets it pass, migration never succeeds. */
export const PAGE_PINNED = 3;
export type WorkloadKind = 'movable' | 'unmovable' | 'pinned';
const KIND_CODE: Record<WorkloadKind, number> = {
  movable: PAGE_MOVABLE,
  unmovable: PAGE_UNMOVABLE,
  pinned: PAGE_PINNED,
};
const CODE_KIND: WorkloadKind[] = ['movable', 'movable', 'unmovable', 'pinned'];

interface ChunkPages {
  kind: Uint8Array;
  tag: Uint32Array;
  used: number;
  /** A snapshot holds these arrays too: they are copied before their first write (copy-on-write). */
  shared: boolean;
}

/** A snapshot of the workload: the per-chunk arrays themselves, shared copy-on-write. */
export interface WorkloadState {
  readonly chunks: ReadonlyArray<readonly [number, Uint8Array, Uint32Array, number]>;
  readonly counters: readonly [number, number, number, number];
}

export class Workload implements SavesOwnState<WorkloadState> {
  private readonly chunks = new Map<number, ChunkPages>();
  /** The chunk last looked up (pages are mostly taken and looked at in address order). */
  private lastNr = -1;
  private last: ChunkPages | undefined;
  /**
   * Pages whose record changed since the last `takeChanges` (for an incremental checker), or
   * undefined when any may have (a restore); null while nobody tracks them.
   */
  private changeLog: number[] | undefined | null = null;
  /** A chunk emptied whose arrays no snapshot holds: the next new chunk takes them. */
  private spare: ChunkPages | undefined;
  private nextTag = 1;
  /** Pages currently held, by kind. */
  movablePages = 0;
  unmovablePages = 0;
  pinnedPages = 0;

  private slot(pfn: number, create: boolean): ChunkPages | undefined {
    const nr = chunkOf(pfn);
    if (nr === this.lastNr) return this.last;
    let s = this.chunks.get(nr);
    if (!s && create) {
      s = this.spare ?? {
        kind: new Uint8Array(CHUNK_PAGES),
        tag: new Uint32Array(CHUNK_PAGES),
        used: 0,
        shared: false,
      };
      this.spare = undefined;
      this.chunks.set(nr, s);
    }
    if (s) {
      this.lastNr = nr;
      this.last = s;
    }
    return s;
  }

  /** From now on, note which pages' records change (`takeChanges`). */
  trackChanges(): void {
    this.changeLog ??= [];
  }

  /** The pages whose record changed since the last call, or undefined when any may have. */
  takeChanges(): readonly number[] | undefined {
    const log = this.changeLog;
    this.changeLog = [];
    return log ?? undefined;
  }

  /** O(chunks in use), no copying: the arrays become shared and are copied on their next write. */
  [SAVE_STATE](): WorkloadState {
    const chunks: Array<readonly [number, Uint8Array, Uint32Array, number]> = [];
    for (const [nr, s] of this.chunks) {
      s.shared = true;
      chunks.push([nr, s.kind, s.tag, s.used]);
    }
    return {
      chunks,
      counters: [this.nextTag, this.movablePages, this.unmovablePages, this.pinnedPages],
    };
  }

  [RESTORE_STATE](st: WorkloadState): void {
    this.chunks.clear();
    this.lastNr = -1;
    this.last = undefined;
    if (this.changeLog !== null) this.changeLog = undefined;
    for (const [nr, kind, tag, used] of st.chunks) this.chunks.set(nr, { kind, tag, used, shared: true });
    [this.nextTag, this.movablePages, this.unmovablePages, this.pinnedPages] = st.counters;
  }

  kindOf(pfn: number): number {
    const s = this.slot(pfn, false);
    return s ? s.kind[pfn % CHUNK_PAGES]! : PAGE_FREE_OR_KERNEL;
  }

  tagOf(pfn: number): number {
    const s = this.slot(pfn, false);
    return s ? s.tag[pfn % CHUNK_PAGES]! : 0;
  }

  private set(pfn: number, kind: number, tag: number): void {
    const s = this.slot(pfn, true)!;
    if (s.shared) {
      s.kind = s.kind.slice();
      s.tag = s.tag.slice();
      s.shared = false;
    }
    const i = pfn % CHUNK_PAGES;
    if (s.kind[i] === 0 && kind !== 0) s.used++;
    if (s.kind[i] !== 0 && kind === 0) s.used--;
    s.kind[i] = kind;
    s.tag[i] = tag;
    if (this.changeLog) this.changeLog.push(pfn);
    if (s.used === 0) {
      this.chunks.delete(chunkOf(pfn));
      // Every kind and tag is 0 again: the arrays are as new.
      if (!s.shared) this.spare = s;
      this.lastNr = -1;
      this.last = undefined;
    }
  }

  /** Allocates `count` pages; returns their pfns (fewer when memory ran out). */
  allocate(k: Kernel, count: number, kind: WorkloadKind): number[] {
    const out: number[] = [];
    for (let i = 0; i < count; i++) {
      const pfn = allocPages(k, 0, kind === 'movable' ? 'movable' : 'kernel');
      if (pfn === undefined) break;
      const tag = this.nextTag++;
      k.mem.write64(pfn, 0, tag, 0x5a5a5a5a);
      this.set(pfn, kind === 'movable' ? PAGE_MOVABLE : PAGE_UNMOVABLE, tag);
      if (kind === 'movable') this.movablePages++;
      else this.unmovablePages++;
      out.push(pfn);
    }
    return out;
  }

  /** Takes a page the caller allocated (from a chosen zone) into the workload; returns its tag. */
  adopt(k: Kernel, pfn: number, kind: WorkloadKind): number {
    const tag = this.nextTag++;
    k.mem.write64(pfn, 0, tag, 0x5a5a5a5a);
    this.set(pfn, KIND_CODE[kind], tag);
    if (kind === 'movable') this.movablePages++;
    else if (kind === 'pinned') this.pinnedPages++;
    else this.unmovablePages++;
    return tag;
  }

  /** Frees workload pages, the runs of consecutive ones in one call to the page allocator each. */
  releaseMany(k: Kernel, pfns: readonly number[]): void {
    const sorted = Float64Array.from(pfns).sort();
    for (const pfn of sorted) this.forget(pfn);
    for (let i = 0; i < sorted.length; ) {
      let j = i + 1;
      while (j < sorted.length && sorted[j] === sorted[j - 1]! + 1) j++;
      freeContigRange(k, sorted[i]!, j - i);
      i = j;
    }
  }

  /** Frees a workload page. */
  release(k: Kernel, pfn: number): void {
    this.forget(pfn);
    freePages(k, pfn, 0);
  }

  /** Takes a page out of the workload (the caller frees it). */
  private forget(pfn: number): void {
    const kind = this.kindOf(pfn);
    if (kind === PAGE_FREE_OR_KERNEL) throw new Error(`pfn 0x${pfn.toString(16)} is not a workload page`);
    this.set(pfn, 0, 0);
    if (kind === PAGE_MOVABLE) this.movablePages--;
    else if (kind === PAGE_PINNED) this.pinnedPages--;
    else this.unmovablePages--;
  }

  /** Calls `fn` for each workload page, ascending; `fn` must not change the workload. */
  forEachPage(fn: (pfn: number, kind: number, tag: number) => void): void {
    for (const nr of [...this.chunks.keys()].sort((a, b) => a - b)) {
      const s = this.chunks.get(nr)!;
      const base = nr * CHUNK_PAGES;
      const { kind, tag } = s;
      for (let i = 0; i < CHUNK_PAGES; i++) if (kind[i] !== 0) fn(base + i, kind[i]!, tag[i]!);
    }
  }

  /** The workload pages whose tag is in one of the [first, end) ranges, ascending. */
  pagesTagged(ranges: ReadonlyArray<readonly [number, number]>): number[] {
    const out: number[] = [];
    this.forEachPage((pfn, _kind, tag) => {
      if (ranges.some(([lo, hi]) => tag >= lo && tag < hi)) out.push(pfn);
    });
    return out;
  }

  /** All workload pages, ascending. */
  pages(): Array<{ pfn: number; kind: WorkloadKind; tag: number }> {
    const out: Array<{ pfn: number; kind: WorkloadKind; tag: number }> = [];
    this.forEachPage((pfn, kind, tag) => out.push({ pfn, kind: CODE_KIND[kind]!, tag }));
    return out;
  }

  /** Movable workload pages in [start, end). */
  movableIn(start: number, end: number): number {
    let n = 0;
    for (let pfn = start; pfn < end;) {
      const chunkEnd = Math.min(end, (chunkOf(pfn) + 1) * CHUNK_PAGES);
      const s = this.slot(pfn, false);
      if (s) for (let p = pfn; p < chunkEnd; p++) if (s.kind[p % CHUNK_PAGES] === PAGE_MOVABLE) n++;
      pfn = chunkEnd;
    }
    return n;
  }

  /** First pfn of [start, end) that is not a movable workload page (everything there is in use). */
  firstUnmovable(start: number, end: number): number | undefined {
    if (start >= end) return undefined;
    if (this.chunks.size === 0) return start;
    for (let pfn = start; pfn < end;) {
      const s = this.slot(pfn, false);
      const chunkEnd = Math.min(end, (chunkOf(pfn) + 1) * CHUNK_PAGES);
      if (!s) return pfn;
      // A pinned page is an LRU page: isolation lets it pass, migration is what fails.
      for (; pfn < chunkEnd; pfn++) {
        const kind = s.kind[pfn % CHUNK_PAGES];
        if (kind !== PAGE_MOVABLE && kind !== PAGE_PINNED) return pfn;
      }
    }
    return undefined;
  }

  /**
   * Migrates every movable page of [start, end) to a page outside it (the
   * caller has isolated the range's free pages); the freed sources are
   * pushed to `freed`. Returns the number of pages
   * migrated, -1 when no destination could be allocated, -2 when a pinned page cannot move.
   */
  migrateOut(k: Kernel, start: number, end: number, freed: number[]): number {
    if (this.chunks.size === 0) return 0;
    let moved = 0;
    const nrFirst = chunkOf(start);
    const nrLast = chunkOf(end - 1);
    for (const nr of [...this.chunks.keys()]
      .filter((n) => n >= nrFirst && n <= nrLast)
      .sort((a, b) => a - b)) {
      const s = this.chunks.get(nr);
      if (!s) continue;
      for (let i = 0; i < CHUNK_PAGES; i++) {
        const pfn = nr * CHUNK_PAGES + i;
        if (pfn < start || pfn >= end) continue;
        // An elevated reference count: migration fails however often it is retried.
        if (s.kind[i] === PAGE_PINNED) return -2;
        if (s.kind[i] !== PAGE_MOVABLE) continue;
        const dst = allocPages(k, 0, 'movable');
        if (dst === undefined) return -1;
        k.mem.copy(dst, pfn);
        const tag = s.tag[i]!;
        this.set(pfn, 0, 0);
        this.set(dst, PAGE_MOVABLE, tag);
        // The source page is free now, but stays isolated with the range.
        freed.push(pfn);
        moved++;
      }
    }
    return moved;
  }

  /** Pages whose content no longer carries their tag (a migration that lost data), ascending. */
  corrupted(k: Kernel): number[] {
    const bad: number[] = [];
    this.forEachPage((pfn, _kind, tag) => {
      if (k.mem.readLo(pfn, 0) !== tag) bad.push(pfn);
    });
    return bad;
  }

  /** Is this a workload page whose content lost its tag? */
  isCorrupted(k: Kernel, pfn: number): boolean {
    const s = this.slot(pfn, false);
    if (!s) return false;
    const i = pfn % CHUNK_PAGES;
    return s.kind[i] !== 0 && k.mem.readLo(pfn, 0) !== s.tag[i];
  }
}
