/**
 * A zone's free_area: the free pages split by migratetype, over pfn extents.
 */
import { PAGEBLOCK_NR_PAGES, PAGEBLOCK_ORDER } from './pageblock.js';
import { PfnExtents, MAX_PAGE_ORDER } from './pfn_extents.js';

export type MigrateType = 'unmovable' | 'movable';

/**
 * A zone's free lists split by migratetype, as __rmqueue does it: an
 * allocation looks in the lists of its own type first (smallest order, lowest
 * address); failing that __rmqueue_claim tries the other type's blocks from
 * the largest order down and claims their pageblocks when the block is big
 * enough or at least half of its pageblock is free or alike, so later
 * allocations of its type find the rest there; when nothing can be claimed,
 * __rmqueue_steal takes the smallest block that fits and leaves the pageblock
 * alone. Pageblocks are movable unless a claim made them unmovable.
 */
export class BuddyLists {
  private readonly movable = new PfnExtents();
  private readonly unmovable = new PfnExtents();
  /** Pageblock numbers (pfn >> 9) whose migratetype is unmovable. */
  private readonly unmovableBlocks = new Set<number>();

  private area(mt: MigrateType): PfnExtents {
    return mt === 'movable' ? this.movable : this.unmovable;
  }

  pageblockType(pfn: number): MigrateType {
    return this.unmovableBlocks.has(Math.floor(pfn / PAGEBLOCK_NR_PAGES)) ? 'unmovable' : 'movable';
  }

  get freePages(): number {
    return this.movable.freePages + this.unmovable.freePages;
  }

  /** Splits [start, end) at pageblock-type changes. */
  private *pieces(start: number, end: number): Generator<[number, number, PfnExtents]> {
    if (this.unmovableBlocks.size === 0) {
      yield [start, end, this.movable];
      return;
    }
    let s = start;
    while (s < end) {
      const t = this.pageblockType(s);
      let e = Math.min(end, (Math.floor(s / PAGEBLOCK_NR_PAGES) + 1) * PAGEBLOCK_NR_PAGES);
      while (e < end && this.pageblockType(e) === t) e = Math.min(end, e + PAGEBLOCK_NR_PAGES);
      yield [s, e, this.area(t)];
      s = e;
    }
  }

  add(start: number, end: number): void {
    for (const [s, e, a] of this.pieces(start, end)) a.add(s, e);
  }

  remove(start: number, end: number): void {
    for (const [s, e, a] of this.pieces(start, end)) a.remove(s, e);
  }

  removeAllIn(start: number, end: number): number {
    return this.movable.removeAllIn(start, end) + this.unmovable.removeAllIn(start, end);
  }

  isFree(pfn: number): boolean {
    return this.movable.isFree(pfn) || this.unmovable.isFree(pfn);
  }

  /** Is any of these pfns (ascending) free? */
  anyFree(sorted: ArrayLike<number>): boolean {
    return this.movable.anyFree(sorted) || this.unmovable.anyFree(sorted);
  }

  freeIn(start: number, end: number): number {
    return this.movable.freeIn(start, end) + this.unmovable.freeIn(start, end);
  }

  /** The free pieces of [start, end) of both types, merged and ascending. */
  piecesIn(start: number, end: number): Array<[number, number]> {
    const a = this.movable.piecesIn(start, end);
    const b = this.unmovable.piecesIn(start, end);
    if (!b.length) return a;
    if (!a.length) return b;
    const all = a.concat(b).sort((x, y) => x[0] - y[0]);
    const out: Array<[number, number]> = [];
    for (const x of all) {
      const last = out[out.length - 1];
      if (last && last[1] === x[0]) last[1] = x[1];
      else out.push([x[0], x[1]]);
    }
    return out;
  }

  /** Free extents of both types, merged and sorted. */
  *extents(): Generator<[number, number]> {
    const flat = this.movable.mergedWith(this.unmovable);
    for (let i = 0; i < flat.length; i += 2) yield [flat[i]!, flat[i + 1]!];
  }

  /** The same as a flat array [s0, e0, s1, e1, ...], for loops that run after every operation. */
  extentsFlat(): number[] {
    return this.movable.mergedWith(this.unmovable);
  }

  counts(): number[] {
    const a = this.movable.counts();
    const b = this.unmovable.counts();
    return a.map((v, i) => v + b[i]!);
  }

  /** Marks the pageblocks of [start, end) with a migratetype, moving their free pages to its lists. */
  setPageblockType(start: number, end: number, mt: MigrateType): void {
    const first = Math.floor(start / PAGEBLOCK_NR_PAGES);
    const last = Math.floor((end - 1) / PAGEBLOCK_NR_PAGES);
    for (let b = first; b <= last; b++) {
      const from = this.pageblockType(b * PAGEBLOCK_NR_PAGES);
      if (from === mt) continue;
      const s = b * PAGEBLOCK_NR_PAGES;
      const e = s + PAGEBLOCK_NR_PAGES;
      if (mt === 'unmovable') this.unmovableBlocks.add(b);
      else this.unmovableBlocks.delete(b);
      const src = this.area(from);
      const dst = this.area(mt);
      if (src.freeIn(s, e) === PAGEBLOCK_NR_PAGES) {
        // The usual steal: a wholly free pageblock changes lists in one piece.
        src.remove(s, e);
        dst.add(s, e);
        continue;
      }
      const moving = src.piecesIn(s, e);
      for (const [x, y] of moving) src.remove(x, y);
      for (const [x, y] of moving) dst.add(x, y);
    }
  }

  /**
   * Counts the in-use movable pages of [start, end) (move_freepages_block's
   * movable_pages); the kernel wires it to its workload. Pages the model does
   * not track are kernel pages.
   */
  movableInUse: (start: number, end: number) => number = () => 0;

  /** __rmqueue(): own type first, then claim from the other type, then steal from it. */
  alloc(order: number, mt: MigrateType): number | undefined {
    const own = this.area(mt).alloc(order);
    if (own !== undefined) return own;
    return this.claim(order, mt) ?? this.steal(order, mt);
  }

  /**
   * What up to `max` successive alloc(0, mt) calls give while nothing else changes the lists: a
   * run of pages from the own type's smallest block, or one page claimed or stolen from the other.
   */
  allocRun(mt: MigrateType, max: number): [number, number] | undefined {
    const run = this.area(mt).allocRun(max);
    if (run !== undefined) return run;
    const pfn = this.claim(0, mt) ?? this.steal(0, mt);
    return pfn === undefined ? undefined : [pfn, 1];
  }

  /** __rmqueue_claim(): the other type's blocks, largest order first. */
  private claim(order: number, mt: MigrateType): number | undefined {
    const other = this.area(mt === 'movable' ? 'unmovable' : 'movable');
    if (other.freePages < 2 ** order) return undefined;
    for (let co = MAX_PAGE_ORDER; co >= order; co--) {
      const block = other.lowestBlockOfOrder(co);
      if (block === undefined) continue;
      if (!canStealFallback(co, mt)) break;
      if (co >= PAGEBLOCK_ORDER) {
        this.setPageblockType(block, block + 2 ** co, mt);
        return this.area(mt).alloc(order);
      }
      // try_to_steal_block(): claim the pageblock if half of it is free or alike.
      const s = block - (block % PAGEBLOCK_NR_PAGES);
      const e = s + PAGEBLOCK_NR_PAGES;
      const free = this.freeIn(s, e);
      const movable = this.movableInUse(s, e);
      // A kernel request counts every in-use page that is not movable as alike.
      const alike = mt === 'movable' ? movable : PAGEBLOCK_NR_PAGES - free - movable;
      if (free + alike >= PAGEBLOCK_NR_PAGES / 2) {
        this.setPageblockType(s, e, mt);
        return this.area(mt).alloc(order);
      }
    }
    return undefined;
  }

  /** __rmqueue_steal(): the smallest block of the other type that fits; its pageblock keeps its type. */
  private steal(order: number, mt: MigrateType): number | undefined {
    const other = this.area(mt === 'movable' ? 'unmovable' : 'movable');
    if (other.freePages < 2 ** order) return undefined;
    for (let co = order; co <= MAX_PAGE_ORDER; co++) {
      const block = other.lowestBlockOfOrder(co);
      if (block === undefined) continue;
      other.remove(block, block + 2 ** order);
      return block;
    }
    return undefined;
  }
}

/**
 * can_steal_fallback(): big blocks, and every kernel request, may claim
 * pageblocks. pageblock_order / 2 is integer division in C: 4.
 */
function canStealFallback(order: number, mt: MigrateType): boolean {
  return order >= Math.floor(PAGEBLOCK_ORDER / 2) || mt === 'unmovable';
}
