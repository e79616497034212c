/**
 * mm/sparse.c: creating the sections' memmaps at boot (sparse_init) and on
 * hotplug (sparse_add_section / sparse_remove_section).
 */
import type { Kernel } from '../kernel.js';
import { EEXIST, ENOMEM, KernelBug } from '../errno.js';
import type { EarlyVmemmapSource } from '../arch/arch_ops.js';
import { depopulateSectionMemmap, populateSectionMemmap, type VmemAltmap } from './sparse_vmemmap.js';

import { PAGES_PER_SECTION, SECTION_SIZE_BITS, pfnToSectionNr, sectionNrToPfn } from './mmzone.js';

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
    if (populateSectionMemmap(k, sectionNrToPfn(s), PAGES_PER_SECTION, 0, undefined, source))
      throw new KernelBug('mm/sparse.c: sparse_init');
    ms.hasMemMap = true;
  }
  // sparse_buffer_fini(): what is left of the buffer goes back.
  if (buf && buf < bufEnd) mb.free(buf, bufEnd - buf);
}

// ---- hotplug: sparse_add_section / sparse_remove_section ------------------------------

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
  if (existing && existing.hasMemMap) return -EEXIST;
  const ms = k.sparse.getOrCreate(nrSec);
  if (populateSectionMemmap(k, pfn, nr, nid, altmap, undefined)) {
    sectionDeactivate(k, pfn, nr, altmap);
    return -ENOMEM;
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
