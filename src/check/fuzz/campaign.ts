/**
 * A campaign: sequences 0..N-1 of one seed. A shard I/N takes the sequences
 * with index % N == I, so shards are disjoint, their union is the campaign,
 * and any batch system (a Kubernetes Indexed Job, a CI matrix) can run one
 * shard per machine. Within a process the share is spread over jobs the same
 * way. Results are ordered by index, so how the work was split never shows.
 */
import { signature, type SequenceResult } from './runner.js';

export interface Shard {
  index: number;
  count: number;
}

/** "I/N" with 0 <= I < N; a one-line message otherwise. */
export function parseShard(text: string): Shard | string {
  const m = /^(\d+)\/(\d+)$/.exec(text);
  if (!m) return `--shard: '${text}' is not I/N (e.g. 0/4)`;
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (!Number.isSafeInteger(count) || count < 1)
    return `--shard: the shard count in '${text}' must be at least 1`;
  if (index >= count) return `--shard: shard ${index} of ${count} does not exist (0 to ${count - 1})`;
  return { index, count };
}

/** The sequence indices of a shard: every count-th from index. */
export function shardIndices(sequences: number, shard: Shard): number[] {
  const out: number[] = [];
  for (let i = shard.index; i < sequences; i += shard.count) out.push(i);
  return out;
}

/** A process's share dealt out round-robin to `jobs` workers (empty lists for idle ones are dropped). */
export function splitForJobs(indices: readonly number[], jobs: number): number[][] {
  const parts: number[][] = Array.from({ length: jobs }, () => []);
  indices.forEach((x, k) => parts[k % jobs]!.push(x));
  return parts.filter((p) => p.length > 0);
}

export interface CampaignTally {
  sequences: number;
  ops: number;
  failing: number;
  /** Failing sequences per signature (the invariants violated, or the crash). */
  bySignature: Record<string, number>;
  /** Failing sequences per invariant (a sequence violating two counts for both). */
  byInvariant: Record<string, number>;
  /** The lowest-index failing sequence of each signature: the one to shrink. */
  representatives: SequenceResult[];
}

/** Adds up results (in any order: they are sorted by index first). */
export function tally(results: readonly SequenceResult[]): CampaignTally {
  const sorted = [...results].sort((a, b) => a.index - b.index);
  const t: CampaignTally = {
    sequences: 0,
    ops: 0,
    failing: 0,
    bySignature: {},
    byInvariant: {},
    representatives: [],
  };
  const seen = new Set<string>();
  for (const r of sorted) {
    t.sequences++;
    t.ops += r.ops.length;
    if (!r.finding) continue;
    t.failing++;
    const sig = signature(r.finding);
    t.bySignature[sig] = (t.bySignature[sig] ?? 0) + 1;
    for (const inv of r.finding.invariants) t.byInvariant[inv] = (t.byInvariant[inv] ?? 0) + 1;
    if (!seen.has(sig)) {
      seen.add(sig);
      t.representatives.push(r);
    }
  }
  return t;
}
