/**
 * include/linux/mmzone.h's SPARSEMEM part: 128 MiB sections, each with a
 * state and, once it has a memmap, 2 MiB of struct pages in the vmemmap. One
 * record per section that ever existed: cost grows with sections, never with
 * pages. mm/sparse.c (sparse.ts) creates and removes them.
 */
import { RESTORE_STATE, SAVE_STATE, type SavesOwnState } from '../../hw/snapshot.js';

export const SECTION_SIZE_BITS = 27;
export const PFN_SECTION_SHIFT = SECTION_SIZE_BITS - 12;
export const PAGES_PER_SECTION = 1 << PFN_SECTION_SHIFT;

/** Sub-sections (SPARSEMEM_VMEMMAP): 2 MiB, 64 per section; ZONE_DEVICE maps and unmaps at this grain. */
export const SUBSECTION_SHIFT = 21;
export const PFN_SUBSECTION_SHIFT = SUBSECTION_SHIFT - 12;
export const PAGES_PER_SUBSECTION = 1 << PFN_SUBSECTION_SHIFT;
export const SUBSECTIONS_PER_SECTION = PAGES_PER_SECTION / PAGES_PER_SUBSECTION;
/** All 64 bits of a section's subsection_map. */
export const FULL_SUBSECTION_MAP = (1n << BigInt(SUBSECTIONS_PER_SECTION)) - 1n;

/** subsection_mask_set(): the bits of [pfn, pfn + nr) within pfn's section (nr must not cross it). */
export function subsectionMask(pfn: number, nr: number): bigint {
  if (nr <= 0) return 0n;
  // Whole sections (all RAM hotplug) take the constant: no BigInt arithmetic on the hot path.
  if (nr === PAGES_PER_SECTION && pfn % PAGES_PER_SECTION === 0) return FULL_SUBSECTION_MAP;
  const first = Math.floor((pfn % PAGES_PER_SECTION) / PAGES_PER_SUBSECTION);
  const last = Math.floor(((pfn + nr - 1) % PAGES_PER_SECTION) / PAGES_PER_SUBSECTION);
  return ((1n << BigInt(last - first + 1)) - 1n) << BigInt(first);
}

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
  /** usage->subsection_map: which 2 MiB sub-sections have a memmap (bit i: pages [i * 512, i * 512 + 512)). */
  subsectionMap = 0n;
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

  /** pfn_section_valid(): pfn's sub-section is active (an early section's memmap is always whole). */
  subsectionActive(pfn: number): boolean {
    if (this.early) return true;
    const bit = BigInt(Math.floor((pfn % PAGES_PER_SECTION) / PAGES_PER_SUBSECTION));
    return ((this.subsectionMap >> bit) & 1n) === 1n;
  }
}

/** Sections per chunk of the two-level section table (like SPARSEMEM_EXTREME's roots). */
const ROOT_SECTIONS = 4096;

/** A snapshot of the section table: the sections by number (their contents are snapshotted with them). */
export interface SparseMemState {
  readonly nrs: number[];
  readonly sections: MemSection[];
  readonly roots: number[];
}

/**
 * SparseMem.all(), kept until a section comes or goes (scanning the mostly empty root arrays costs
 * more than the sections). Beside the object, not in it: a cache is not state to snapshot or compare.
 */
const sortedSections = new WeakMap<SparseMem, MemSection[]>();

export class SparseMem implements SavesOwnState<SparseMemState> {
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
      sortedSections.delete(this);
    }
    return s;
  }

  delete(nr: number): void {
    const arr = this.root(nr, false);
    if (arr && arr[nr % ROOT_SECTIONS]) {
      arr[nr % ROOT_SECTIONS] = undefined;
      this.count--;
      sortedSections.delete(this);
    }
  }

  /** Sections in ascending order (kept until a section comes or goes: do not change the array). */
  all(): readonly MemSection[] {
    let sorted = sortedSections.get(this);
    if (sorted === undefined) {
      sorted = [];
      for (const r of [...this.roots.keys()].sort((a, b) => a - b)) {
        for (const s of this.roots.get(r)!) if (s) sorted.push(s);
      }
      sortedSections.set(this, sorted);
    }
    return sorted;
  }

  get size(): number {
    return this.count;
  }

  /** O(sections), not O(table size): the root arrays are mostly empty. */
  [SAVE_STATE](walk: (child: unknown) => void): SparseMemState {
    const nrs: number[] = [];
    const sections: MemSection[] = [];
    for (const [r, arr] of this.roots)
      for (let i = 0; i < arr.length; i++) {
        const s = arr[i];
        if (s === undefined) continue;
        nrs.push(r * ROOT_SECTIONS + i);
        sections.push(s);
        walk(s);
      }
    return { nrs, sections, roots: [...this.roots.keys()] };
  }

  [RESTORE_STATE](st: SparseMemState): void {
    let same = this.count === st.sections.length;
    for (let i = 0; same && i < st.nrs.length; i++) same = this.get(st.nrs[i]!) === st.sections[i];
    if (same && this.roots.size === st.roots.length) return;
    this.roots.clear();
    this.lastRootNr = -1;
    this.lastRoot = undefined;
    this.count = 0;
    sortedSections.delete(this);
    for (const r of st.roots) this.root(r * ROOT_SECTIONS, true);
    for (let i = 0; i < st.nrs.length; i++) {
      this.root(st.nrs[i]!, true)![st.nrs[i]! % ROOT_SECTIONS] = st.sections[i];
      this.count++;
    }
  }

  presentSectionNr(pfn: number): MemSection | undefined {
    const s = this.get(pfnToSectionNr(pfn));
    return s && s.present ? s : undefined;
  }
}
