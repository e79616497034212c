/** Shards are disjoint and cover the campaign; jobs split a share without loss; tallies ignore order. */
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { parseShard, shardIndices, splitForJobs, tally } from './campaign.js';
import type { SequenceResult } from './runner.js';

describe('campaigns', () => {
  test('the shards of a campaign are disjoint and their union is the campaign', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 500 }), fc.integer({ min: 1, max: 40 }), (sequences, count) => {
        const seen = new Map<number, number>();
        for (let index = 0; index < count; index++)
          for (const i of shardIndices(sequences, { index, count })) seen.set(i, (seen.get(i) ?? 0) + 1);
        expect([...seen.keys()].sort((a, b) => a - b)).toEqual([...Array(sequences).keys()]);
        expect([...seen.values()].every((n) => n === 1)).toBe(true);
      }),
    );
  });

  test('jobs split a share into disjoint parts that cover it', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.nat(1000)), fc.integer({ min: 1, max: 16 }), (share, jobs) => {
        const parts = splitForJobs(share, jobs);
        expect(parts.length).toBeLessThanOrEqual(jobs);
        expect(parts.flat().sort((a, b) => a - b)).toEqual([...share].sort((a, b) => a - b));
      }),
    );
  });

  test('--shard I/N is checked', () => {
    expect(parseShard('2/4')).toEqual({ index: 2, count: 4 });
    expect(parseShard('4/4')).toMatch(/shard 4 of 4 does not exist/);
    expect(parseShard('0/0')).toMatch(/at least 1/);
    expect(parseShard('1')).toMatch(/not I\/N/);
  });

  test('a tally does not depend on the order results arrive in; the lowest index represents a failure', () => {
    const r = (index: number, inv?: string): SequenceResult => ({
      index,
      ops: [{ kind: 'free', id: 'all' }],
      finding: inv ? { step: 0, invariants: [inv], details: [] } : undefined,
    });
    const results = [r(5, 'a'), r(1), r(3, 'a'), r(4, 'b'), r(0)];
    const t = tally(results);
    expect(tally([...results].reverse())).toEqual(t);
    expect(t).toMatchObject({ sequences: 5, ops: 5, failing: 3, bySignature: { a: 2, b: 1 } });
    expect(t.representatives.map((x) => x.index)).toEqual([3, 4]);
  });
});
