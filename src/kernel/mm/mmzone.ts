/**
 * include/linux/mmzone.h's SPARSEMEM part: 128 MiB sections, each with a
 * state and, once it has a memmap, 2 MiB of struct pages in the vmemmap. One
 * record per section that ever existed: cost grows with sections, never with
 * pages. mm/sparse.c (sparse.ts) creates and removes them.
 */
export const SECTION_SIZE_BITS = 27;
export const PFN_SECTION_SHIFT = SECTION_SIZE_BITS - 12;
export const PAGES_PER_SECTION = 1 << PFN_SECTION_SHIFT;

export function pfnToSectionNr(pfn: number): number {
  return Math.floor(pfn / PAGES_PER_SECTION);
}

export function sectionNrToPfn(nr: number): number {
  return nr * PAGES_PER_SECTION;
}

export class MemSection {
  /** SECTION_MARKED_PRESENT. */
  present = false;
  /** SECTION_HAS_MEM_MAP: its memmap is populated. */
  hasMemMap = false;
  /** SECTION_IS_ONLINE. */
  online = false;
  /** SECTION_IS_EARLY: described by memblock at boot. */
  early = false;
  /** The zone its pages were last moved to (-1: none). */
  zoneIdx = -1;
  nid = 0;

  constructor(readonly nr: number) {}

  get startPfn(): number {
    return sectionNrToPfn(this.nr);
  }

  /** valid_section(): has a memmap. */
  get valid(): boolean {
    return this.hasMemMap;
  }
}

/** Sections per chunk of the two-level section table (like SPARSEMEM_EXTREME's roots). */
const ROOT_SECTIONS = 4096;

export class SparseMem {
  private readonly roots = new Map<number, Array<MemSection | undefined>>();
  private lastRootNr = -1;
  private lastRoot: Array<MemSection | undefined> | undefined;
  private count = 0;

  private root(nr: number, create: boolean): Array<MemSection | undefined> | undefined {
    const r = Math.floor(nr / ROOT_SECTIONS);
    if (r === this.lastRootNr) return this.lastRoot;
    let arr = this.roots.get(r);
    if (!arr && create) {
      arr = new Array<MemSection | undefined>(ROOT_SECTIONS).fill(undefined);
      this.roots.set(r, arr);
    }
    if (arr) {
      this.lastRootNr = r;
      this.lastRoot = arr;
    }
    return arr;
  }

  get(nr: number): MemSection | undefined {
    return this.root(nr, false)?.[nr % ROOT_SECTIONS];
  }

  getOrCreate(nr: number): MemSection {
    const arr = this.root(nr, true)!;
    let s = arr[nr % ROOT_SECTIONS];
    if (!s) {
      s = new MemSection(nr);
      arr[nr % ROOT_SECTIONS] = s;
      this.count++;
    }
    return s;
  }

  delete(nr: number): void {
    const arr = this.root(nr, false);
    if (arr && arr[nr % ROOT_SECTIONS]) {
      arr[nr % ROOT_SECTIONS] = undefined;
      this.count--;
    }
  }

  /** Sections in ascending order. */
  all(): MemSection[] {
    const out: MemSection[] = [];
    for (const r of [...this.roots.keys()].sort((a, b) => a - b)) {
      for (const s of this.roots.get(r)!) if (s) out.push(s);
    }
    return out;
  }

  get size(): number {
    return this.count;
  }

  presentSectionNr(pfn: number): MemSection | undefined {
    const s = this.get(pfnToSectionNr(pfn));
    return s && s.present ? s : undefined;
  }
}
