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
