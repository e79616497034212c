/**
 * mm/sparse.c: creating the sections' memmaps at boot (sparse_init) and on
 * hotplug (sparse_add_section / sparse_remove_section).
 */
import type { Kernel } from '../kernel.js';
import { EEXIST, EINVAL, ENOMEM, KernelBug } from '../errno.js';
import { hexll } from '../lib/vsprintf.js';
import type { EarlyVmemmapSource } from '../arch/arch_ops.js';
import { depopulateSectionMemmap, populateSectionMemmap, type VmemAltmap } from './sparse_vmemmap.js';

import {
  PAGES_PER_SECTION,
  SECTION_SIZE_BITS,
  pfnToSectionNr,
  sectionNrToPfn,
  subsectionMask,
  type MemSection,
} from './mmzone.js';

// ---- boot: sparse_init --------------------------------------------------------------

const SZ_2M = 2 << 20;
const SMP_CACHE_BYTES = 64;
/** sizeof(struct mem_section_usage) in this build. */
const MEM_SECTION_USAGE_SIZE = 56;
/** NR_SECTION_ROOTS * sizeof(pointer): 2^(56-27) sections / 256 per root. */
const MEM_SECTION_ROOTS_BYTES = (1 << 21) * 8;
const SECTIONS_PER_ROOT = 256;

/** sparse_init(): section roots, usage maps, the memmap buffer and the vmemmap itself. */
export function sparseInit(k: Kernel, pgdatPa: number): void {
  const mb = k.memblock;
  const start = mb.startOfDram();
  const end = mb.endOfDram();
  // memblocks_present(): SPARSEMEM_EXTREME allocates the root array, then one page of sections per root.
  mb.alloc(MEM_SECTION_ROOTS_BYTES, SMP_CACHE_BYTES);
  const sec0 = Math.floor(start / (1 << SECTION_SIZE_BITS));
  const sec1 = Math.floor((end - 1) / (1 << SECTION_SIZE_BITS));
  const roots = new Set<number>();
  for (let s = sec0; s <= sec1; s++) roots.add(Math.floor(s / SECTIONS_PER_ROOT));
  for (let r = 0; r < roots.size; r++) mb.alloc(4096, SMP_CACHE_BYTES);
  const nsec = sec1 - sec0 + 1;
  const goal = pgdatPa - (pgdatPa % (1 << SECTION_SIZE_BITS));
  if (
    !mb.allocTryNid(MEM_SECTION_USAGE_SIZE * nsec, SMP_CACHE_BYTES, goal, goal + (1 << SECTION_SIZE_BITS))
  ) {
    mb.alloc(MEM_SECTION_USAGE_SIZE * nsec, SMP_CACHE_BYTES);
  }
  // sparse_buffer_init(): one allocation for every present section's memmap.
  const bufSize = nsec * SZ_2M;
  let buf = mb.alloc(bufSize, SZ_2M);
  const bufEnd = buf + bufSize;
  const source: EarlyVmemmapSource = {
    bufferAlloc: (bytes) => {
      if (!buf || buf + bytes > bufEnd) return undefined;
      const p = buf;
      buf += bytes;
      return p / 4096;
    },
    memblockAlloc: (bytes, align) => {
      const p = mb.alloc(bytes, align);
      return p ? p / 4096 : undefined;
    },
  };
  for (let s = sec0; s <= sec1; s++) {
    const ms = k.sparse.getOrCreate(s);
    ms.present = true;
    ms.early = true;
    // subsection_map_init(): the sub-sections memblock describes.
    const secStart = sectionNrToPfn(s);
    const from = Math.max(secStart, Math.floor(start / 4096));
    const to = Math.min(secStart + PAGES_PER_SECTION, Math.ceil(end / 4096));
    ms.subsectionMap |= subsectionMask(from, to - from);
    if (populateSectionMemmap(k, sectionNrToPfn(s), PAGES_PER_SECTION, 0, undefined, source))
      throw new KernelBug('mm/sparse.c: sparse_init');
    k.memmapBootPages += memmapPagesOf(PAGES_PER_SECTION);
    ms.hasMemMap = true;
  }
  // sparse_buffer_fini(): what is left of the buffer goes back.
  if (buf && buf < bufEnd) mb.free(buf, bufEnd - buf);
}

// ---- hotplug: sparse_add_section / sparse_remove_section ------------------------------

/** fill_subsection_map(): 0, -EINVAL for an empty mask, -EEXIST when a sub-section already has a memmap. */
function fillSubsectionMap(ms: MemSection, pfn: number, nr: number): number {
  const mask = subsectionMask(pfn, nr);
  if (mask === 0n) return -EINVAL;
  if (ms.subsectionMap === 0n) {
    ms.subsectionMap = mask;
    return 0;
  }
  if ((mask & ms.subsectionMap) !== 0n) return -EEXIST;
  ms.subsectionMap |= mask;
  return 0;
}

/** clear_subsection_map(): 0, or -EINVAL (with the kernel's warning) when part of the range was not active. */
function clearSubsectionMap(k: Kernel, ms: MemSection, pfn: number, nr: number): number {
  const mask = subsectionMask(pfn, nr);
  if (ms.subsectionMap === mask) {
    ms.subsectionMap = 0n;
    return 0;
  }
  if ((ms.subsectionMap & mask) !== mask) {
    k.log.warn(`section already deactivated (${hexll(pfn)} + ${nr})`);
    return -EINVAL;
  }
  ms.subsectionMap &= ~mask;
  return 0;
}

/** A range whose memmap section_deactivate() gave to vmemmap_free (what the checker names when a neighbour's goes too). */
export interface MemmapFree {
  readonly pfn: number;
  readonly nr: number;
}

/** The pfn range of section `nr` whose memmap the last section_deactivate() there gave to vmemmap_free. */
export function lastSectionMemmapFree(k: Kernel, nr: number): MemmapFree | undefined {
  return k.lastMemmapFree.get(nr);
}

function noteMemmapFree(k: Kernel, nr: number, free: MemmapFree | undefined): void {
  if (free) k.lastMemmapFree.set(nr, free);
  else k.lastMemmapFree.delete(nr);
}

/**
 * section_deactivate(): clear the range's sub-sections and free their part of the vmemmap
 * (an early section keeps its memmap until the whole section goes). The last sub-section
 * takes the section's memmap and presence with it.
 */
function sectionDeactivate(k: Kernel, pfn: number, nr: number, altmap: VmemAltmap | undefined): void {
  const ms = k.sparse.get(pfnToSectionNr(pfn));
  if (!ms) return;
  if (clearSubsectionMap(k, ms, pfn, nr)) return;
  const empty = ms.subsectionMap === 0n;
  if (empty) ms.hasMemMap = false;
  // Only a section that keeps some of its memmap can have lost a neighbour's part of it.
  noteMemmapFree(k, ms.nr, empty || ms.early ? undefined : { pfn, nr });
  if (!ms.early) {
    k.memmapPages -= memmapPagesOf(nr);
    depopulateSectionMemmap(k, pfn, nr, altmap);
  } else if (empty) {
    // free_map_bootmem().
    k.memmapBootPages -= memmapPagesOf(PAGES_PER_SECTION);
    depopulateSectionMemmap(k, sectionNrToPfn(ms.nr), PAGES_PER_SECTION, undefined);
  }
  if (empty) {
    ms.present = false;
    ms.online = false;
    if (!ms.early) k.sparse.delete(ms.nr);
  }
}

/** section_activate(): mark the sub-sections, then populate their memmap. 0 or -errno. */
function sectionActivate(k: Kernel, nid: number, pfn: number, nr: number, altmap?: VmemAltmap): number {
  const ms = k.sparse.getOrCreate(pfnToSectionNr(pfn));
  const rc = fillSubsectionMap(ms, pfn, nr);
  if (rc) {
    if (ms.subsectionMap === 0n && !ms.present && !ms.early) k.sparse.delete(ms.nr);
    return rc;
  }
  // An early section's memmap is always whole: its sub-sections need nothing more.
  if (nr < PAGES_PER_SECTION && ms.early) return 0;
  // populate_section_memmap() counts the pages before it knows whether they could be had;
  // section_deactivate() takes them off again on failure.
  k.memmapPages += memmapPagesOf(nr);
  if (populateSectionMemmap(k, pfn, nr, nid, altmap, undefined)) {
    sectionDeactivate(k, pfn, nr, altmap);
    return -ENOMEM;
  }
  return 0;
}

/** section_nr_vmemmap_pages() without vmemmap optimisation: the struct pages of nr pfns, in pages. */
function memmapPagesOf(nr: number): number {
  return Math.ceil((nr * 64) / 4096);
}

/** sparse_add_section(): activate [pfn, pfn + nr) of one section (a whole section or sub-sections). 0 or -errno. */
export function sparseAddSection(
  k: Kernel,
  nid: number,
  pfn: number,
  nr: number,
  altmap: VmemAltmap | undefined,
): number {
  const rc = sectionActivate(k, nid, pfn, nr, altmap);
  if (rc) return rc;
  const ms = k.sparse.get(pfnToSectionNr(pfn))!;
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
