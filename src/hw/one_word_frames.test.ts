import { describe, expect, it } from 'vitest';
import { OneWordFrames } from './one_word_frames.js';

describe('OneWordFrames', () => {
  it('keeps one word per frame, across groups and above 2^32 pages', () => {
    const w = new OneWordFrames();
    const pfns = [0x80000, 0x80001, 0x88000, 2 ** 40 + 5];
    pfns.forEach((p, i) => w.set(p, i, 100 + i, 200 + i, 7));
    expect(w.size).toBe(4);
    pfns.forEach((p, i) => {
      expect(w.wordIndex(p)).toBe(i);
      expect([w.lo(p), w.hi(p), w.gen(p)]).toEqual([100 + i, 200 + i, 7]);
    });
    expect(w.wordIndex(0x80002)).toBe(-1);
    expect(w.has(0x7ffff)).toBe(false);
    expect([...w.keys()].sort((a, b) => a - b)).toEqual(pfns);
    expect(w.keysIn(0x80000, 0x8000)).toEqual([0x80000, 0x80001]);
    expect(w.keysIn(0x80001, 1)).toEqual([0x80001]);
  });

  it('a rewrite replaces the word; a delete forgets it and drops an empty group', () => {
    const w = new OneWordFrames();
    w.set(0x80000, 3, 1, 2, 1);
    w.set(0x80000, 3, 5, 6, 2);
    expect(w.size).toBe(1);
    expect([w.lo(0x80000), w.hi(0x80000), w.gen(0x80000)]).toEqual([5, 6, 2]);
    w.setGen(0x80000, 9);
    expect(w.gen(0x80000)).toBe(9);
    w.delete(0x80000);
    w.delete(0x80000);
    w.delete(0x123456789);
    expect(w.size).toBe(0);
    expect(w.wordIndex(0x80000)).toBe(-1);
    expect([...w.keys()]).toEqual([]);
    // Index 511 (the last word) still fits.
    w.set(0x90000, 511, 1, 0, 0);
    expect(w.wordIndex(0x90000)).toBe(511);
  });
});

it('a group emptied and used again starts empty', () => {
  const w = new OneWordFrames();
  w.set(0x80005, 1, 9, 9, 1);
  w.delete(0x80005);
  w.set(0xa0000, 2, 3, 4, 1); // reuses the emptied group's arrays
  expect(w.wordIndex(0xa0005)).toBe(-1);
  expect([...w.keys()]).toEqual([0xa0000]);
  expect(w.size).toBe(1);
});
