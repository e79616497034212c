/**
 * A page-walk cache: the non-leaf entries a hart read on earlier walks, so
 * that a later TLB miss can start below the root. The privileged spec lets a
 * hart keep them, and only `sfence.vma` with rs1 = x0 is required to drop
 * them: a fence for one address orders the leaf entries of that address
 * only. So after a page-table page is freed, a hart may still walk through
 * it until the next full fence; this is what the concurrency explorer's
 * free-before-flush scenario asks about.
 *
 * The cache has no capacity limit: the adversarial hart keeps every pointer.
 */
import { type PagingMode } from './paging.js';
import type { WalkRecord } from './mmu.js';

/** Pages one entry of each level covers (level 0 = PTE). */
const SPAN = [1, 512, 512 ** 2, 512 ** 3, 512 ** 4, 512 ** 5];

function key(level: number, vpn: number): number {
  // The table of `level` that translates vpn is identified by vpn / span(level + 1).
  return Math.floor(vpn / SPAN[level + 1]!) * 8 + level;
}

export interface CachedTable {
  /** Level of the table (0 = a PTE table). */
  level: number;
  tablePpn: number;
}

export class PageWalkCache {
  private readonly tables = new Map<number, number>();
  /** Walks that started from a cached table. */
  hits = 0;

  get size(): number {
    return this.tables.size;
  }

  /** The deepest cached table on the way to `vpn`, if any. */
  lookup(vpn: number, mode: PagingMode): CachedTable | undefined {
    for (let level = 0; level < mode.levels - 1; level++) {
      const t = this.tables.get(key(level, vpn));
      if (t !== undefined) return { level, tablePpn: t };
    }
    return undefined;
  }

  /** Keeps the pointers a walk followed (each table below the root it read). */
  fill(rec: WalkRecord, mode: PagingMode, startLevel: number): void {
    const top = mode.levels - 1;
    // ptePfns[top - L] is the table of level L that the walk read.
    for (let level = Math.min(startLevel, top - 1); level >= rec.level && level >= 0; level--) {
      this.tables.set(key(level, rec.vpn), rec.ptePfns[top - level]!);
    }
  }

  /** sfence.vma x0, x0 (or any fence without an address). */
  flush(): void {
    this.tables.clear();
  }

  /** The cached pointers, for the explorer's timeline: [level, first vpn covered, table ppn]. */
  entries(): Array<{ level: number; vpn: number; tablePpn: number }> {
    return [...this.tables].map(([k, t]) => {
      const level = k % 8;
      return { level, vpn: ((k - level) / 8) * SPAN[level + 1]!, tablePpn: t };
    });
  }
}
