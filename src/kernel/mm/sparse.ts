/**
 * SPARSEMEM sections (mm/sparse.c): 128 MiB units of physical memory, each
 * with a state and, once it has a memmap, 2 MiB of struct pages in the
 * vmemmap. One record per section that ever existed: cost grows with
 * sections, never with pages.
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

// ---- hotplug: sparse_add_section / sparse_remove_section ------------------------------
import type { Kernel } from '../kernel.js';
import { memmapVpnRange, vmemmapPopulate, type VmemAltmap, type VmemmapContext } from './sparse_vmemmap.js';
import { vmemmapFree } from '../arch/riscv/init.js';

/** populate_section_memmap() for hot-added memory (the buddy allocator or the altmap backs it). */
function populateSectionMemmap(
  k: Kernel,
  pfn: number,
  nr: number,
  altmap: VmemAltmap | undefined,
  ctx: VmemmapContext,
): boolean {
  const [start, end] = memmapVpnRange(k, pfn, nr);
  return vmemmapPopulate(k, start, end, ctx, altmap) === 0;
}

/** depopulate_section_memmap() / free_map_bootmem(): both end in vmemmap_free(). */
function depopulateSectionMemmap(k: Kernel, pfn: number, nr: number, altmap: VmemAltmap | undefined): void {
  const [start, end] = memmapVpnRange(k, pfn, nr);
  vmemmapFree(k, start, end, altmap);
}

/** section_deactivate(). */
function sectionDeactivate(k: Kernel, pfn: number, nr: number, altmap: VmemAltmap | undefined): void {
  const ms = k.sparse.get(pfnToSectionNr(pfn));
  if (ms) {
    ms.present = false;
    ms.hasMemMap = false;
    ms.online = false;
  }
  depopulateSectionMemmap(k, pfn, nr, altmap);
  if (ms && !ms.early) k.sparse.delete(ms.nr);
}

/** sparse_add_section(): activate one (whole) section: populate its memmap and mark it present. Returns 0 or -errno. */
export function sparseAddSection(
  k: Kernel,
  nid: number,
  pfn: number,
  nr: number,
  altmap: VmemAltmap | undefined,
): number {
  const nrSec = pfnToSectionNr(pfn);
  const existing = k.sparse.get(nrSec);
  // fill_subsection_map(): a subsection that is already active.
  if (existing && existing.hasMemMap) return -17;
  const ms = k.sparse.getOrCreate(nrSec);
  if (!populateSectionMemmap(k, pfn, nr, altmap, { early: undefined })) {
    sectionDeactivate(k, pfn, nr, altmap);
    return -12;
  }
  ms.nid = nid;
  ms.present = true;
  ms.hasMemMap = true;
  return 0;
}

/** sparse_remove_section(): WARNs and does nothing for a section without a memmap. */
export function sparseRemoveSection(
  k: Kernel,
  pfn: number,
  nr: number,
  altmap: VmemAltmap | undefined,
): boolean {
  const ms = k.sparse.get(pfnToSectionNr(pfn));
  if (!ms || !ms.valid) return false;
  sectionDeactivate(k, pfn, nr, altmap);
  return true;
}
