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
  let order = MAX_PAGE_ORDER;
  while (order > 0 && (pfn % 2 ** order !== 0 || pfn + 2 ** order > end)) order--;
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
    if (i < this.starts.length && this.starts[i]! < end) throw new Error(`double free of pfn 0x${start.toString(16)}`);
    // Merge with the neighbours it touches.
    let s = start;
    let e = end;
    let removeFrom = i;
    let removeCount = 0;
    if (i > 0 && this.ends[i - 1] === start) {
      s = this.starts[i - 1]!;
      removeFrom = i - 1;
      removeCount++;
    }
    if (i < this.starts.length && this.starts[i] === end) {
      e = this.ends[i]!;
      removeCount++;
    }
    this.starts.splice(removeFrom, removeCount, s);
    this.ends.splice(removeFrom, removeCount, e);
    this.total += end - start;
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
    const pieces: Array<[number, number]> = [];
    if (s < start) pieces.push([s, start]);
    if (end < e) pieces.push([end, e]);
    this.starts.splice(i, 1, ...pieces.map((p) => p[0]));
    this.ends.splice(i, 1, ...pieces.map((p) => p[1]));
    this.total -= end - start;
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
    for (let i = 0; i < this.starts.length; i++) {
      const s = this.starts[i]!;
      const e = this.ends[i]!;
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

export const PAGEBLOCK_ORDER = 9;
export const PAGEBLOCK_NR_PAGES = 1 << PAGEBLOCK_ORDER;
export type MigrateType = 'unmovable' | 'movable';

/**
 * A zone's free lists split by migratetype, as __rmqueue does it: an
 * allocation looks in the lists of its own type first (smallest order, lowest
 * address); failing that it steals the largest free block of the other type
 * and, for blocks of at least half a pageblock, claims the pageblocks, so
 * later allocations of its type find the rest there. Pageblocks are movable
 * unless a steal made them unmovable.
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
      const moving = [...this.area(from).extents()].filter(([x, y]) => y > s && x < e).map(([x, y]): [number, number] => [Math.max(x, s), Math.min(y, e)]);
      for (const [x, y] of moving) this.area(from).remove(x, y);
      if (mt === 'unmovable') this.unmovableBlocks.add(b);
      else this.unmovableBlocks.delete(b);
      for (const [x, y] of moving) this.area(mt).add(x, y);
    }
  }

  /** __rmqueue(): own type first, then steal from the other (largest block first). */
  alloc(order: number, mt: MigrateType): number | undefined {
    const own = this.area(mt).alloc(order);
    if (own !== undefined) return own;
    const other = this.area(mt === 'movable' ? 'unmovable' : 'movable');
    for (let o = MAX_PAGE_ORDER; o >= order; o--) {
      const block = lowestBlockOfOrder(other, o);
      if (block === undefined) continue;
      if (o >= PAGEBLOCK_ORDER / 2) {
        this.setPageblockType(block, block + 2 ** o, mt);
        return this.area(mt).alloc(order);
      }
      other.remove(block, block + 2 ** order);
      return block;
    }
    return undefined;
  }
}
