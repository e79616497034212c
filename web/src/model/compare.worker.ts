/**
 * Runs the comparison off the page's thread: arm64 maps a 1 GiB hot-add with 4 KiB pages, which
 * takes seconds, and the page should stay usable meanwhile. One message per strategy as it finishes.
 */
import { compareOne } from './compare.js';
import type { Comparison } from '../../../src/session/compare.js';

export interface CompareRequest {
  argv: string[];
  strategies: string[];
  script: string;
}

export type CompareReply =
  | { kind: 'column'; index: number; column: Comparison; ms: number }
  | { kind: 'error'; message: string }
  | { kind: 'done'; ms: number };

// The DOM lib types `self` as a Window; in a worker only these two members are used.
const scope = self as unknown as {
  onmessage: ((e: MessageEvent<CompareRequest>) => void) | null;
  postMessage(m: CompareReply): void;
};

scope.onmessage = (e) => {
  const { argv, strategies, script } = e.data;
  const t0 = performance.now();
  try {
    strategies.forEach((s, index) => {
      const t = performance.now();
      const column = compareOne(argv, s, script);
      scope.postMessage({ kind: 'column', index, column, ms: performance.now() - t });
    });
    scope.postMessage({ kind: 'done', ms: performance.now() - t0 });
  } catch (err) {
    scope.postMessage({ kind: 'error', message: err instanceof Error ? err.message : String(err) });
  }
};
