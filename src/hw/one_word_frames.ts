/**
 * Frames whose only non-zero content is one 64-bit word: what a workload page
 * holds (its tag) and a fresh page table holds after its first entry. A
 * workload makes them by the hundred thousand, so they are kept without a
 * 4 KiB array each, and without a hash-map entry each: in typed arrays per
 * 4096 frames, found through one lookup per group (the last group is kept,
 * as pages are mostly taken in address order). Groups that empty are kept
 * for reuse, a few of them: page tables come and go one frame at a time, and
 * a snapshot restore empties whole groups that the next run fills again.
 */

const GROUP_FRAMES = 4096;
const SPARE_GROUPS = 32;

interface Group {
  /** Which 64-bit word holds the value, plus one (0: the frame is not one-word). */
  at: Uint16Array;
  lo: Uint32Array;
  hi: Uint32Array;
  /** The snapshot journal's generation in which the frame was logged. */
  gen: Uint32Array;
  count: number;
}

export class OneWordFrames {
  private readonly groups = new Map<number, Group>();
  /** Emptied groups (every `at` zero), for the next group to use instead of new arrays. */
  private readonly spares: Group[] = [];
  private lastNr = -1;
  private last: Group | undefined;
  /** Number of one-word frames. */
  size = 0;

  private group(pfn: number, create: boolean): Group | undefined {
    const nr = Math.floor(pfn / GROUP_FRAMES);
    if (nr === this.lastNr) return this.last;
    let g = this.groups.get(nr);
    if (g === undefined) {
      if (!create) return undefined;
      g = this.spares.pop() ?? {
        at: new Uint16Array(GROUP_FRAMES),
        lo: new Uint32Array(GROUP_FRAMES),
        hi: new Uint32Array(GROUP_FRAMES),
        gen: new Uint32Array(GROUP_FRAMES),
        count: 0,
      };
      this.groups.set(nr, g);
    }
    this.lastNr = nr;
    this.last = g;
    return g;
  }

  /** The index of the frame's non-zero word, or -1 when it is not a one-word frame. */
  wordIndex(pfn: number): number {
    const g = this.group(pfn, false);
    return g === undefined ? -1 : g.at[pfn % GROUP_FRAMES]! - 1;
  }

  has(pfn: number): boolean {
    return this.wordIndex(pfn) >= 0;
  }

  /** The word's halves and generation: only for a frame `wordIndex` says is one. */
  lo(pfn: number): number {
    return this.group(pfn, false)!.lo[pfn % GROUP_FRAMES]!;
  }

  hi(pfn: number): number {
    return this.group(pfn, false)!.hi[pfn % GROUP_FRAMES]!;
  }

  gen(pfn: number): number {
    return this.group(pfn, false)!.gen[pfn % GROUP_FRAMES]!;
  }

  set(pfn: number, index: number, lo: number, hi: number, gen: number): void {
    const g = this.group(pfn, true)!;
    const i = pfn % GROUP_FRAMES;
    if (g.at[i] === 0) {
      g.count++;
      this.size++;
    }
    g.at[i] = index + 1;
    g.lo[i] = lo;
    g.hi[i] = hi;
    g.gen[i] = gen;
  }

  setGen(pfn: number, gen: number): void {
    this.group(pfn, false)!.gen[pfn % GROUP_FRAMES] = gen;
  }

  delete(pfn: number): void {
    const g = this.group(pfn, false);
    if (g === undefined) return;
    const i = pfn % GROUP_FRAMES;
    if (g.at[i] === 0) return;
    g.at[i] = 0;
    g.count--;
    this.size--;
    if (g.count === 0) {
      this.groups.delete(Math.floor(pfn / GROUP_FRAMES));
      if (this.spares.length < SPARE_GROUPS) this.spares.push(g);
      this.lastNr = -1;
      this.last = undefined;
    }
  }

  /** The one-word frames, in no particular order. */
  *keys(): IterableIterator<number> {
    for (const [nr, g] of this.groups)
      for (let i = 0; i < GROUP_FRAMES; i++) if (g.at[i] !== 0) yield nr * GROUP_FRAMES + i;
  }

  /** The one-word frames in [base, base + pages), collected first (the caller may delete them). */
  keysIn(base: number, pages: number): number[] {
    const out: number[] = [];
    for (const p of this.keys()) if (p >= base && p < base + pages) out.push(p);
    return out;
  }
}
