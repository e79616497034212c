/**
 * The free pages of one zone, kept as sorted disjoint pfn extents.
 *
 * The buddy allocator's free lists are a function of which pages are free:
 * two free buddies of the same order always merge (up to MAX_PAGE_ORDER),
 * so the free blocks are exactly the canonical split of the free extents into
 * maximal aligned power-of-two blocks. Keeping extents instead of lists makes
 * onlining a terabyte one insertion instead of 262144.
 */
export const MAX_PAGE_ORDER = 10;
export const NR_ORDERS = MAX_PAGE_ORDER + 1;
const MAX_BLOCK = 1 << MAX_PAGE_ORDER;

/** Largest order whose aligned block starts at pfn and ends at or before end. */
export function blockOrderAt(pfn: number, end: number): number {
  // Alignment: trailing zeros of the low ten bits (pfn may exceed 32 bits).
  const low = pfn % MAX_BLOCK;
  let order = low === 0 ? MAX_PAGE_ORDER : 31 - Math.clz32(low & -low);
  const room = end - pfn;
  while (order > 0 && 1 << order > room) order--;
  return order;
}

export class FreeArea {
  private starts: number[] = [];
  private ends: number[] = [];
  private total = 0;

  get freePages(): number {
    return this.total;
  }

  get extentCount(): number {
    return this.starts.length;
  }

  *extents(): Generator<[number, number]> {
    for (let i = 0; i < this.starts.length; i++) yield [this.starts[i]!, this.ends[i]!];
  }

  /** Index of the first extent whose end is > pfn. */
  private find(pfn: number): number {
    let lo = 0;
    let hi = this.starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.ends[mid]! <= pfn) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  isFree(pfn: number): boolean {
    const i = this.find(pfn);
    return i < this.starts.length && this.starts[i]! <= pfn;
  }

  /** The free pieces of [start, end), ascending. */
  piecesIn(start: number, end: number): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (let i = this.find(start); i < this.starts.length && this.starts[i]! < end; i++) {
      out.push([Math.max(start, this.starts[i]!), Math.min(end, this.ends[i]!)]);
    }
    return out;
  }

  /** Pages of [start, end) that are free. */
  freeIn(start: number, end: number): number {
    let n = 0;
    for (let i = this.find(start); i < this.starts.length && this.starts[i]! < end; i++) {
      n += Math.min(end, this.ends[i]!) - Math.max(start, this.starts[i]!);
    }
    return n;
  }

  /** Frees [start, end); every page must be in use. */
  add(start: number, end: number): void {
    if (end <= start) return;
    const i = this.find(start);
    if (i < this.starts.length && this.starts[i]! < end)
      throw new Error(`double free of pfn 0x${start.toString(16)}`);
    this.total += end - start;
    const joinsPrev = i > 0 && this.ends[i - 1] === start;
    const joinsNext = i < this.starts.length && this.starts[i] === end;
    if (joinsPrev && joinsNext) {
      this.ends[i - 1] = this.ends[i]!;
      this.starts.splice(i, 1);
      this.ends.splice(i, 1);
    } else if (joinsPrev) {
      this.ends[i - 1] = end;
    } else if (joinsNext) {
      this.starts[i] = start;
    } else {
      this.starts.splice(i, 0, start);
      this.ends.splice(i, 0, end);
    }
  }

  /** Takes [start, end) out of the free pages; every page must be free. */
  remove(start: number, end: number): void {
    if (end <= start) return;
    const i = this.find(start);
    if (i >= this.starts.length || this.starts[i]! > start || this.ends[i]! < end) {
      throw new Error(`pfn range 0x${start.toString(16)}-0x${end.toString(16)} is not free`);
    }
    const s = this.starts[i]!;
    const e = this.ends[i]!;
    this.total -= end - start;
    // Shrink in place where possible: allocation takes from the front of an extent.
    if (s === start && e === end) {
      this.starts.splice(i, 1);
      this.ends.splice(i, 1);
    } else if (s === start) {
      this.starts[i] = end;
    } else if (e === end) {
      this.ends[i] = start;
    } else {
      this.ends[i] = start;
      this.starts.splice(i + 1, 0, end);
      this.ends.splice(i + 1, 0, e);
    }
  }

  /** Takes whatever is free inside [start, end) out; returns how many pages that was. */
  removeAllIn(start: number, end: number): number {
    const taken: Array<[number, number]> = [];
    for (let i = this.find(start); i < this.starts.length && this.starts[i]! < end; i++) {
      taken.push([Math.max(start, this.starts[i]!), Math.min(end, this.ends[i]!)]);
    }
    let n = 0;
    for (const [s, e] of taken) {
      this.remove(s, e);
      n += e - s;
    }
    return n;
  }

  /**
   * __rmqueue_smallest: the free block of the smallest order >= `order`,
   * lowest address first; the block is split and the pages handed out.
   */
  alloc(order: number): number | undefined {
    let best = -1;
    let bestOrder = NR_ORDERS;
    const size = 2 ** order;
    for (let i = 0; i < this.starts.length; i++) {
      const s = this.starts[i]!;
      const e = this.ends[i]!;
      if (e - s < size) continue;
      // The canonical split reaches the first 2^order boundary exactly, and every block before it is
      // smaller: a block of exactly the wanted order there is this extent's best and the lowest.
      const a = Math.ceil(s / size) * size;
      if (a + size <= e && blockOrderAt(a, e) === order) {
        if (order < bestOrder) {
          best = a;
          bestOrder = order;
        }
        break;
      }
      // Only the edges of an extent hold blocks below the maximum order.
      let p = s;
      while (p < e) {
        const o = blockOrderAt(p, e);
        if (o >= order && o < bestOrder) {
          best = p;
          bestOrder = o;
          if (o === order) break;
        }
        if (o === MAX_PAGE_ORDER) {
          // Skip the run of max-order blocks to the tail edge.
          const tail = e - ((e - p) % MAX_BLOCK);
          p = tail > p ? tail : p + MAX_BLOCK;
        } else {
          p += 2 ** o;
        }
      }
      if (bestOrder === order) break;
    }
    if (best < 0) return undefined;
    this.remove(best, best + 2 ** order);
    return best;
  }

  /** Free blocks per order (/proc/buddyinfo). */
  counts(): number[] {
    const c = new Array<number>(NR_ORDERS).fill(0);
    for (let i = 0; i < this.starts.length; i++) {
      const e = this.ends[i]!;
      let p = this.starts[i]!;
      while (p < e) {
        const o = blockOrderAt(p, e);
        if (o === MAX_PAGE_ORDER) {
          const n = Math.floor((e - p) / MAX_BLOCK);
          c[MAX_PAGE_ORDER]! += n;
          p += n * MAX_BLOCK;
        } else {
          c[o]!++;
          p += 2 ** o;
        }
      }
    }
    return c;
  }
}

/** Lowest-address block whose canonical order is exactly `order`, or undefined. */
export function lowestBlockOfOrder(area: FreeArea, order: number): number | undefined {
  for (const [s, e] of area.extents()) {
    let p = s;
    while (p < e) {
      const o = blockOrderAt(p, e);
      if (o === order) return p;
      if (o === MAX_PAGE_ORDER) {
        const tail = e - ((e - p) % MAX_BLOCK);
        p = tail > p ? tail : p + MAX_BLOCK;
      } else {
        p += 2 ** o;
      }
    }
  }
  return undefined;
}

/** The lowest-address block of the largest order present ([pfn, order]), in one scan. */
export function largestBlock(area: FreeArea): [number, number] | undefined {
  let best: [number, number] | undefined;
  for (const [s, e] of area.extents()) {
    let p = s;
    while (p < e) {
      const o = blockOrderAt(p, e);
      if (!best || o > best[1]) best = [p, o];
      if (o === MAX_PAGE_ORDER) return best;
      p += 2 ** o;
    }
  }
  return best;
}

export const PAGEBLOCK_ORDER = 9;
export const PAGEBLOCK_NR_PAGES = 1 << PAGEBLOCK_ORDER;
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
  private readonly movable = new FreeArea();
  private readonly unmovable = new FreeArea();
  /** Pageblock numbers (pfn >> 9) whose migratetype is unmovable. */
  private readonly unmovableBlocks = new Set<number>();

  private area(mt: MigrateType): FreeArea {
    return mt === 'movable' ? this.movable : this.unmovable;
  }

  pageblockType(pfn: number): MigrateType {
    return this.unmovableBlocks.has(Math.floor(pfn / PAGEBLOCK_NR_PAGES)) ? 'unmovable' : 'movable';
  }

  get freePages(): number {
    return this.movable.freePages + this.unmovable.freePages;
  }

  /** Splits [start, end) at pageblock-type changes. */
  private *pieces(start: number, end: number): Generator<[number, number, FreeArea]> {
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
    const all = [...this.movable.extents(), ...this.unmovable.extents()].sort((a, b) => a[0] - b[0]);
    let cur: [number, number] | undefined;
    for (const x of all) {
      if (cur && cur[1] === x[0]) cur[1] = x[1];
      else {
        if (cur) yield cur;
        cur = [x[0], x[1]];
      }
    }
    if (cur) yield cur;
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

  /** __rmqueue_claim(): the other type's blocks, largest order first. */
  private claim(order: number, mt: MigrateType): number | undefined {
    const other = this.area(mt === 'movable' ? 'unmovable' : 'movable');
    for (let co = MAX_PAGE_ORDER; co >= order; co--) {
      const block = lowestBlockOfOrder(other, co);
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
    for (let co = order; co <= MAX_PAGE_ORDER; co++) {
      const block = lowestBlockOfOrder(other, co);
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
