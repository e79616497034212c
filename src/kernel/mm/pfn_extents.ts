/**
 * A set of page frames kept as sorted disjoint pfn extents: a zone's free
 * pages of one migratetype, the boot pages still PG_reserved, the pages a
 * driver holds fake-offline.
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

export class PfnExtents {
  private starts: number[] = [];
  private ends: number[] = [];
  private total = 0;
  /** The order of the block the last smallestBlock() found. */
  private bestOrder = 0;

  get freePages(): number {
    return this.total;
  }

  get extentCount(): number {
    return this.starts.length;
  }

  *extents(): Generator<[number, number]> {
    for (let i = 0; i < this.starts.length; i++) yield [this.starts[i]!, this.ends[i]!];
  }

  /** The extents of this set and `other` (disjoint from it), merged where they touch: [s0, e0, s1, e1, ...]. */
  mergedWith(other: PfnExtents): number[] {
    const out: number[] = [];
    const push = (s: number, e: number): void => {
      if (out.length && out[out.length - 1] === s) out[out.length - 1] = e;
      else out.push(s, e);
    };
    let i = 0;
    let j = 0;
    const [as, ae, bs, be] = [this.starts, this.ends, other.starts, other.ends];
    while (i < as.length || j < bs.length) {
      if (j === bs.length || (i < as.length && as[i]! < bs[j]!)) {
        push(as[i]!, ae[i]!);
        i++;
      } else {
        push(bs[j]!, be[j]!);
        j++;
      }
    }
    return out;
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

  /** Is any of these pfns (ascending) free? One merge of the two sorted lists. */
  anyFree(sorted: ArrayLike<number>): boolean {
    let i = 0;
    for (let j = 0; j < sorted.length; j++) {
      const pfn = sorted[j]!;
      while (i < this.starts.length && this.ends[i]! <= pfn) i++;
      if (i === this.starts.length) return false;
      if (this.starts[i]! <= pfn) return true;
    }
    return false;
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
    if (this.total < 2 ** order) return undefined;
    const best = this.smallestBlock(order);
    if (best < 0) return undefined;
    this.remove(best, best + 2 ** order);
    return best;
  }

  /**
   * What up to `max` successive alloc(0) calls hand out while nothing else changes the set: the
   * smallest block's pages in address order (the rest of a split block holds the smallest blocks
   * until it is used up). Returns the first pfn and the count, or undefined when nothing is free.
   */
  allocRun(max: number): [number, number] | undefined {
    if (this.total === 0 || max < 1) return undefined;
    const best = this.smallestBlock(0);
    if (best < 0) return undefined;
    const n = Math.min(max, 2 ** this.bestOrder);
    this.remove(best, best + n);
    return [best, n];
  }

  /** The lowest-address block of the smallest order >= `order` (its order in bestOrder), or -1. */
  private smallestBlock(order: number): number {
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
    this.bestOrder = bestOrder;
    return best;
  }

  /** Lowest-address block whose canonical order is exactly `order`, or undefined. */
  lowestBlockOfOrder(order: number): number | undefined {
    if (this.total < 2 ** order) return undefined;
    for (let i = 0; i < this.starts.length; i++) {
      const e = this.ends[i]!;
      let p = this.starts[i]!;
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

/** The lowest-address block of the largest order present ([pfn, order]), in one scan. */
export function largestBlock(area: PfnExtents): [number, number] | undefined {
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
