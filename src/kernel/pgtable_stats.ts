/** What the kernel did to its page tables and TLBs (for `compare`): counters that only grow. */
export interface PgtableStats {
  pteWrites: number;
  tablesAllocated: number;
  tablesFreed: number;
  flushAll: number;
  flushRange: number;
}

export function newPgtableStats(): PgtableStats {
  return { pteWrites: 0, tablesAllocated: 0, tablesFreed: 0, flushAll: 0, flushRange: 0 };
}
