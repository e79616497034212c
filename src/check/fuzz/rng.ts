/**
 * The random stream of one fuzz sequence: a pure function of the campaign's
 * seed and the sequence's index, so any sequence can be re-run alone, on any
 * shard or worker, and give the same operations.
 */
import { xoroshiro128plusFromState } from 'pure-rand/generator/xoroshiro128plus';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator';

/** One step of splitmix32: spreads nearby inputs (seed 1 and 2, index 7 and 8) far apart. */
function mix32(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) | 0;
}

/** The largest seed and index accepted: JavaScript's safe integers (both halves feed the state). */
export const MAX_SEED = Number.MAX_SAFE_INTEGER;

export class FuzzRng {
  private readonly g: RandomGenerator;

  /** The stream of sequence `index` in the campaign of `seed` (both non-negative safe integers). */
  constructor(seed: number, index: number) {
    const words = [seed % 2 ** 32, Math.floor(seed / 2 ** 32), index % 2 ** 32, Math.floor(index / 2 ** 32)];
    let h = 0x243f6a88;
    const state = words.map((w, i) => (h = mix32(h ^ mix32(w + i))));
    // xoroshiro's all-zero state is a fixed point; mixing makes it practically impossible, this makes it impossible.
    if (!state.some((w) => w !== 0)) state[0] = 1;
    this.g = xoroshiro128plusFromState(state);
  }

  /** An integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return uniformInt(this.g, lo, hi);
  }

  bool(pTrue = 0.5): boolean {
    return this.int(0, 9999) < pTrue * 10000;
  }

  pick<T>(xs: readonly T[]): T {
    if (xs.length === 0) throw new RangeError('FuzzRng.pick: nothing to pick from');
    return xs[this.int(0, xs.length - 1)]!;
  }

  /** One of `choices`, with probability proportional to its weight. */
  weighted<T>(choices: ReadonlyArray<readonly [T, number]>): T {
    const total = choices.reduce((n, [, w]) => n + w, 0);
    let r = this.int(0, total - 1);
    for (const [x, w] of choices) {
      if (r < w) return x;
      r -= w;
    }
    return choices[choices.length - 1]![0];
  }
}
