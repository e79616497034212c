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
