/**
 * memblock, the boot-time memory manager (mm/memblock.c): two sorted region
 * lists, `memory` and `reserved`, with the kernel's merging rule (adjacent
 * regions merge only when node and flags agree) and top-down allocation.
 *
 * Byte addresses are numbers: boot RAM lies far below 2^53.
 */

export const MAX_NUMNODES = 1 << 10; // CONFIG_NODES_SHIFT 10 on riscv
export const NUMA_NO_NODE = -1;
export const MEMBLOCK_NONE = 0;
export const MEMBLOCK_HOTPLUG = 1;
export const MEMBLOCK_NOMAP = 4;

export interface MemblockRegion {
  base: number;
  size: number;
  flags: number;
  nid: number;
}

export class MemblockType {
  regions: MemblockRegion[] = [];

  constructor(readonly name: 'memory' | 'reserved') {}

  get totalSize(): number {
    return this.regions.reduce((s, r) => s + r.size, 0);
  }

  /** memblock_add_range: covers the holes of [base, base+size) with new regions, then merges neighbours. */
  addRange(base: number, size: number, nid: number, flags: number): void {
    if (size <= 0) return;
    const end = base + size;
    const added: MemblockRegion[] = [];
    let cur = base;
    for (const r of this.regions) {
      const rend = r.base + r.size;
      if (r.base >= end) break;
      if (rend <= cur) continue;
      if (r.base > cur) added.push({ base: cur, size: r.base - cur, flags, nid });
      cur = Math.min(rend, end);
    }
    if (cur < end) added.push({ base: cur, size: end - cur, flags, nid });
    this.regions.push(...added);
    this.regions.sort((a, b) => a.base - b.base);
    this.merge();
  }

  /** Splits regions so that base and end fall on region boundaries (memblock_isolate_range). */
  isolate(base: number, size: number): void {
    const end = base + size;
    const out: MemblockRegion[] = [];
    for (const r of this.regions) {
      const rend = r.base + r.size;
      const cuts = [r.base, rend];
      if (base > r.base && base < rend) cuts.push(base);
      if (end > r.base && end < rend) cuts.push(end);
      cuts.sort((a, b) => a - b);
      for (let i = 0; i + 1 < cuts.length; i++) {
        if (cuts[i + 1]! > cuts[i]!)
          out.push({ base: cuts[i]!, size: cuts[i + 1]! - cuts[i]!, flags: r.flags, nid: r.nid });
      }
    }
    this.regions = out;
  }

  removeRange(base: number, size: number): void {
    this.isolate(base, size);
    const end = base + size;
    this.regions = this.regions.filter((r) => r.base + r.size <= base || r.base >= end);
  }

  setClearFlag(base: number, size: number, flag: number, set: boolean): void {
    this.isolate(base, size);
    const end = base + size;
    for (const r of this.regions) {
      if (r.base >= base && r.base + r.size <= end) r.flags = set ? r.flags | flag : r.flags & ~flag;
    }
    this.merge();
  }

  setNode(base: number, size: number, nid: number): void {
    this.isolate(base, size);
    const end = base + size;
    for (const r of this.regions) if (r.base >= base && r.base + r.size <= end) r.nid = nid;
    this.merge();
  }

  isCovered(addr: number): boolean {
    return this.regions.some((r) => addr >= r.base && addr < r.base + r.size);
  }

  private merge(): void {
    const out: MemblockRegion[] = [];
    for (const r of this.regions) {
      const last = out[out.length - 1];
      if (last && last.base + last.size === r.base && last.nid === r.nid && last.flags === r.flags) {
        last.size += r.size;
      } else {
        out.push({ ...r });
      }
    }
    this.regions = out;
  }
}

/** memblock_alloc*() end: up to memblock.current_limit. */
export const MEMBLOCK_ALLOC_ACCESSIBLE = 0;
/** memblock_alloc*() end: anywhere in physical memory. */
export const MEMBLOCK_ALLOC_ANYWHERE = Number.MAX_SAFE_INTEGER;

export class Memblock {
  readonly memory = new MemblockType('memory');
  readonly reserved = new MemblockType('reserved');
  /** memblock.current_limit: top-down allocations stay below it. */
  currentLimit = MEMBLOCK_ALLOC_ANYWHERE;

  add(base: number, size: number, nid = MAX_NUMNODES): void {
    this.memory.addRange(base, size, nid, MEMBLOCK_NONE);
  }

  reserve(base: number, size: number, nid = MAX_NUMNODES): void {
    this.reserved.addRange(base, size, nid, MEMBLOCK_NONE);
  }

  free(base: number, size: number): void {
    this.reserved.removeRange(base, size);
  }

  markNomap(base: number, size: number): void {
    this.memory.setClearFlag(base, size, MEMBLOCK_NOMAP, true);
  }

  clearNomap(base: number, size: number): void {
    this.memory.setClearFlag(base, size, MEMBLOCK_NOMAP, false);
  }

  startOfDram(): number {
    return this.memory.regions[0]?.base ?? 0;
  }

  endOfDram(): number {
    const last = this.memory.regions[this.memory.regions.length - 1];
    return last ? last.base + last.size : 0;
  }

  /** memblock_enforce_memory_limit (mem=): keep the first `limit` bytes of memory. */
  enforceMemoryLimit(limit: number): void {
    if (limit <= 0) return;
    let left = limit;
    let maxAddr = Number.MAX_SAFE_INTEGER;
    for (const r of this.memory.regions) {
      if (left <= r.size) {
        maxAddr = r.base + left;
        break;
      }
      left -= r.size;
    }
    if (maxAddr === Number.MAX_SAFE_INTEGER) return;
    this.memory.removeRange(maxAddr, Number.MAX_SAFE_INTEGER - maxAddr);
    this.reserved.removeRange(maxAddr, Number.MAX_SAFE_INTEGER - maxAddr);
  }

  /** memblock_cap_memory_range: drop memory outside [base, base+size). */
  capMemoryRange(base: number, size: number): void {
    const end = base + size;
    this.memory.removeRange(end, Number.MAX_SAFE_INTEGER - end);
    if (base > 0) this.memory.removeRange(0, base);
  }

  /** Free ranges (memory minus reserved, skipping nomap), highest first. */
  freeRangesReverse(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    const res = this.reserved.regions;
    for (const m of this.memory.regions) {
      if (m.flags & MEMBLOCK_NOMAP) continue;
      let cur = m.base;
      const mend = m.base + m.size;
      for (const r of res) {
        const rend = r.base + r.size;
        if (rend <= cur) continue;
        if (r.base >= mend) break;
        if (r.base > cur) out.push([cur, r.base]);
        cur = Math.max(cur, rend);
        if (cur >= mend) break;
      }
      if (cur < mend) out.push([cur, mend]);
    }
    return out.reverse();
  }

  /**
   * memblock_find_in_range_node, top-down. MEMBLOCK_ALLOC_ACCESSIBLE as the
   * end means memblock.current_limit; an explicit end is used as given.
   * Returns 0 when nothing fits (as the kernel does).
   */
  findInRange(size: number, align: number, start: number, end: number): number {
    if (end === MEMBLOCK_ALLOC_ACCESSIBLE) end = this.currentLimit;
    start = Math.max(start, 4096);
    end = Math.max(start, end);
    for (const [fs, fe] of this.freeRangesReverse()) {
      const ts = Math.min(Math.max(fs, start), end);
      const te = Math.min(Math.max(fe, start), end);
      if (te < size) continue;
      const cand = Math.floor((te - size) / align) * align;
      if (cand >= ts) return cand;
    }
    return 0;
  }

  /**
   * memblock_phys_alloc_range / memblock_alloc_range_nid: find top-down and
   * reserve. 0 means failure.
   */
  alloc(size: number, align: number, start = 0, end = MEMBLOCK_ALLOC_ACCESSIBLE, nid = MAX_NUMNODES): number {
    const found = this.findInRange(size, align, start, end);
    if (found) this.reserve(found, size, nid);
    return found;
  }

  /**
   * memblock_alloc_try_nid (memblock_alloc_internal): allocations the kernel
   * will use through the linear map never end above current_limit, and when
   * nothing fits above `min` it tries again from 0.
   */
  allocTryNid(
    size: number,
    align: number,
    min = 0,
    max = MEMBLOCK_ALLOC_ACCESSIBLE,
    nid = MAX_NUMNODES,
  ): number {
    if (max > this.currentLimit) max = this.currentLimit;
    const found = this.alloc(size, align, min, max, nid);
    if (found || !min) return found;
    return this.alloc(size, align, 0, max, nid);
  }
}
