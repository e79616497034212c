/**
 * The shrinker: a failing sequence cut down to a minimal one that still fails
 * the same way (the same invariants after its last operation). Delta
 * debugging first drops chunks of operations, halving the chunk size down to
 * single operations; then each operation is replaced by simpler forms of it
 * (ops.ts); both repeat until nothing changes. The result is 1-minimal: no
 * single operation can be dropped or simplified. Deterministic: the same
 * input gives the same script.
 */
import { signature, type Finding, type RunOutcome } from './runner.js';
import { simplerOps, type FuzzOp } from './ops.js';

export interface ShrinkResult {
  ops: FuzzOp[];
  finding: Finding;
  /** How many candidate sequences were run. */
  tries: number;
  /** The budget ran out before the sequence was minimal. */
  exhausted: boolean;
}

/** How many candidates at most: each boots a machine and checks every step. */
export const DEFAULT_SHRINK_BUDGET = 2000;

export function shrink(
  ops: readonly FuzzOp[],
  finding: Finding,
  /** Runs candidate operations from a fresh machine (runOps with the campaign's factory). */
  test: (ops: readonly FuzzOp[]) => RunOutcome,
  budget = DEFAULT_SHRINK_BUDGET,
): ShrinkResult {
  const target = signature(finding);
  let cur = ops.slice(0, finding.step + 1);
  let best = finding;
  let tries = 0;
  /** Runs a candidate; keeps it (cut after its finding) when it fails the same way. */
  const attempt = (cand: FuzzOp[]): boolean => {
    if (tries >= budget) return false;
    tries++;
    const r = test(cand);
    if (!r.finding || signature(r.finding) !== target) return false;
    cur = r.ops;
    best = r.finding;
    return true;
  };
  let changed = true;
  while (changed && tries < budget) {
    changed = false;
    // Drop chunks, largest first; from the end, where operations after the cause usually are.
    for (let chunk = Math.max(1, cur.length >> 1); chunk >= 1; chunk >>= 1) {
      for (let start = cur.length - chunk; start >= 0; start -= chunk) {
        if (start >= cur.length) continue;
        if (attempt([...cur.slice(0, start), ...cur.slice(start + chunk)])) changed = true;
      }
      if (chunk === 1) break;
    }
    for (let i = 0; i < cur.length; i++) {
      for (const simpler of simplerOps(cur[i]!)) {
        if (attempt([...cur.slice(0, i), simpler, ...cur.slice(i + 1)])) {
          changed = true;
          break;
        }
      }
    }
  }
  return { ops: cur, finding: best, tries, exhausted: tries >= budget };
}
