/**
 * The resource tree behind /proc/iomem (kernel/resource.c): nested, sorted,
 * non-overlapping ranges. Addresses are bigint: a physical address may need
 * more than 53 bits.
 */
export const IORESOURCE_MEM = 0x200;
export const IORESOURCE_SYSRAM = 0x01000000;
export const IORESOURCE_SYSTEM_RAM = IORESOURCE_MEM | IORESOURCE_SYSRAM;
export const IORESOURCE_BUSY = 0x80000000;
export const IORESOURCE_EXCLUSIVE = 0x08000000;
export const IORESOURCE_SYSRAM_DRIVER_MANAGED = 0x02000000;
export const IORESOURCE_SYSRAM_MERGEABLE = 0x04000000;

const MAX_IORES_LEVEL = 5;

export class Resource {
  parent: Resource | undefined;
  children: Resource[] = [];

  constructor(
    public start: bigint,
    public end: bigint,
    public name: string,
    public flags = 0,
  ) {}

  /** __request_resource: insert as a child of this, or return the child it conflicts with. */
  request(res: Resource): Resource | undefined {
    if (res.end < res.start || res.start < this.start || res.end > this.end) return this;
    let i = 0;
    for (; i < this.children.length; i++) {
      const c = this.children[i]!;
      if (c.start > res.end) break;
      if (c.end >= res.start) return c;
    }
    this.children.splice(i, 0, res);
    res.parent = this;
    return undefined;
  }

  /**
   * insert_resource: like request, but a new resource that fully contains
   * existing siblings adopts them as its children; descends into a child that
   * fully contains it.
   */
  insert(res: Resource): Resource | undefined {
    return insertResource(this, res);
  }

  /** release_resource: unlink (children go with it). */
  release(): void {
    const p = this.parent;
    if (!p) return;
    p.children = p.children.filter((c) => c !== this);
    this.parent = undefined;
  }

  /** Finds the child (any depth) with exactly this range and name predicate. */
  find(pred: (r: Resource) => boolean): Resource | undefined {
    for (const c of this.children) {
      if (pred(c)) return c;
      const d = c.find(pred);
      if (d) return d;
    }
    return undefined;
  }

  /** Does any resource in the subtree overlap [start, end]? */
  overlaps(start: bigint, end: bigint): boolean {
    return this.children.some((c) => c.start <= end && c.end >= start);
  }
}

/** insert_resource() below `root`. */
function insertResource(root: Resource, res: Resource): Resource | undefined {
  let parent = root;
  for (;;) {
    const conflict = parent.request(res);
    if (conflict === undefined) return undefined;
    if (conflict === parent) return conflict;
    if (conflict === res) return conflict;
    // Descend into a resource that strictly contains the new one; an identical
    // one becomes the new one's child instead.
    const same = conflict.start === res.start && conflict.end === res.end;
    if (!same && conflict.start <= res.start && conflict.end >= res.end) {
      parent = conflict;
      continue;
    }
    // The new one must cover every sibling it overlaps, which become its children.
    const overlapping = parent.children.filter((c) => c.end >= res.start && c.start <= res.end);
    const partial = overlapping.find((c) => c.start < res.start || c.end > res.end);
    if (partial) return partial;
    parent.children = parent.children.filter((c) => !overlapping.includes(c));
    for (const c of overlapping) c.parent = res;
    res.children = overlapping;
    const idx = parent.children.findIndex((c) => c.start > res.end);
    parent.children.splice(idx < 0 ? parent.children.length : idx, 0, res);
    res.parent = parent;
    return undefined;
  }
}

/** /proc/iomem as r_show prints it: every resource, indentation capped at MAX_IORES_LEVEL. */
export function formatIomem(root: Resource): string {
  const width = root.end < 0x10000n ? 4 : 8;
  const lines: string[] = [];
  const visit = (r: Resource, depth: number): void => {
    for (const c of r.children) {
      lines.push(
        `${' '.repeat(Math.min(depth, MAX_IORES_LEVEL) * 2)}${c.start.toString(16).padStart(width, '0')}-${c.end.toString(16).padStart(width, '0')} : ${c.name}`,
      );
      visit(c, depth + 1);
    }
  };
  visit(root, 0);
  return lines.length ? lines.join('\n') + '\n' : '';
}

// ---- kernel/resource.c functions the memory model calls ---------------------------------

/**
 * __request_region(): a busy region may nest inside a non-busy parent that
 * covers it, never overlap a busy one. Undefined when it conflicts.
 */
export function __requestRegion(
  root: Resource,
  start: bigint,
  size: bigint,
  name: string,
  flags: number,
): Resource | undefined {
  const end = start + size - 1n;
  if (end < start) return undefined;
  const res = new Resource(start, end, name, flags);
  let parent = root;
  for (;;) {
    const conflict = parent.request(res);
    if (!conflict) return res;
    if (conflict === parent) return undefined;
    if ((conflict.flags & IORESOURCE_BUSY) === 0 && conflict.start <= start && conflict.end >= end) {
      parent = conflict;
      continue;
    }
    return undefined;
  }
}

/** Bytes of [start, end] covered by busy System RAM resources, at any depth. */
function systemRamBytes(r: Resource, start: bigint, end: bigint): bigint {
  let bytes = 0n;
  for (const c of r.children) {
    if (c.end < start) continue;
    if (c.start > end) break;
    if ((c.flags & IORESOURCE_SYSTEM_RAM) === IORESOURCE_SYSTEM_RAM && (c.flags & IORESOURCE_BUSY) !== 0) {
      bytes += (c.end < end ? c.end : end) - (c.start > start ? c.start : start) + 1n;
    } else {
      bytes += systemRamBytes(c, start, end);
    }
  }
  return bytes;
}

/**
 * walk_system_ram_range() as offline_pages uses it (counting with check_pages_isolated's
 * callback): the pages of [startPfn, startPfn + nrPages) that busy System RAM covers.
 */
export function walkSystemRamRange(root: Resource, startPfn: number, nrPages: number): number {
  const start = BigInt(startPfn) << 12n;
  const end = (BigInt(startPfn + nrPages) << 12n) - 1n;
  return Number(systemRamBytes(root, start, end) >> 12n);
}

/** merge_system_ram_resource(): mark mergeable and fold into adjacent identical mergeable resources. */
export function mergeSystemRamResource(res: Resource): void {
  res.flags |= IORESOURCE_SYSRAM_MERGEABLE;
  const parent = res.parent;
  if (!parent) return;
  const i = parent.children.indexOf(res);
  const prev = parent.children[i - 1];
  if (prev && prev.end + 1n === res.start && prev.name === res.name && prev.flags === res.flags) {
    prev.end = res.end;
    res.release();
    res = prev;
  }
  const next = parent.children[parent.children.indexOf(res) + 1];
  if (next && res.end + 1n === next.start && next.name === res.name && next.flags === res.flags) {
    res.end = next.end;
    next.release();
  }
}

/**
 * release_mem_region_adjustable(): only a busy resource that contains the
 * whole range is trimmed, split or dropped. A range spanning two resources
 * releases neither, as in the kernel (they stay in /proc/iomem).
 */
export function releaseMemRegionAdjustable(root: Resource, start: bigint, size: bigint): void {
  const end = start + size - 1n;
  let parent = root;
  for (let i = 0; i < parent.children.length;) {
    const res = parent.children[i]!;
    if (res.start >= end) break;
    if (res.start > start || res.end < end) {
      i++;
      continue;
    }
    if ((res.flags & IORESOURCE_MEM) === 0) break;
    if ((res.flags & IORESOURCE_BUSY) === 0) {
      parent = res;
      i = 0;
      continue;
    }
    if (res.start === start && res.end === end) {
      res.release();
    } else if (res.start === start) {
      res.start = end + 1n;
    } else if (res.end === end) {
      res.end = start - 1n;
    } else {
      const tail = new Resource(end + 1n, res.end, res.name, res.flags);
      res.end = start - 1n;
      parent.request(tail);
    }
    break;
  }
}

/** __reserve_region_with_split(): claim [start, end] around whatever already sits there. */
export function __reserveRegionWithSplit(root: Resource, start: bigint, end: bigint, name: string): void {
  const pending: Array<[bigint, bigint]> = [[start, end]];
  while (pending.length) {
    const [s, e] = pending.shift()!;
    let res = new Resource(s, e, name, IORESOURCE_MEM | IORESOURCE_BUSY);
    for (;;) {
      const conflict = root.request(res);
      if (!conflict) break;
      if (conflict.start <= res.start && conflict.end >= res.end) break;
      if (conflict.start > res.start) {
        const oldEnd = res.end;
        res = new Resource(res.start, conflict.start - 1n, name, res.flags);
        if (conflict.end < oldEnd) pending.unshift([conflict.end + 1n, oldEnd]);
      } else {
        res = new Resource(conflict.end + 1n, res.end, name, res.flags);
      }
    }
  }
}
