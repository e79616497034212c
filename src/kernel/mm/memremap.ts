/**
 * mm/memremap.c: ZONE_DEVICE. memremap_pages() gives device memory (a PCI BAR, pmem, GPU
 * memory) struct pages without making it System RAM: the range is mapped by arch_add_memory
 * (or, for MEMORY_DEVICE_PRIVATE, only gets a memmap), its pages move to ZONE_DEVICE and are
 * never onlined, never in the buddy allocator, and have no memory block devices. Ranges are
 * 2 MiB (sub-section) granular, so one section may hold several of them, and their struct
 * pages share the section's vmemmap. memunmap_pages() undoes exactly one range.
 */
import type { Kernel } from '../kernel.js';
import { EINVAL, ENOMEM, ENXIO } from '../errno.js';
import { IORESOURCE_SYSTEM_RAM, type Resource } from '../kernel/resource.js';
import { hexll } from '../lib/vsprintf.js';
import {
  __addPages,
  __removePages,
  mhpRangeAllowed,
  movePfnRangeToZone,
  removePfnRangeFromZone,
} from './memory_hotplug.js';
import { ZONE_DEVICE } from './zone.js';
import { pageZone, pageReserved, structPageAccess } from './page_alloc.js';
import { pfnToSectionNr } from './mmzone.js';
import { vmemAltmapOffset, type VmemAltmap } from './sparse_vmemmap.js';

export type MemoryDeviceType = 'private' | 'coherent' | 'fs_dax' | 'generic' | 'pci_p2pdma';

/** struct dev_pagemap with one range. */
export interface DevPagemap {
  readonly type: MemoryDeviceType;
  /** range.start and range.end (inclusive), bytes. */
  readonly start: bigint;
  readonly end: bigint;
  /** PGMAP_ALTMAP_VALID: the memmap is carved from the start of the range. */
  readonly altmap: VmemAltmap | undefined;
  /** The node it was mapped on (set by memremap_pages). */
  nid: number;
  /** pgmap->ops with migrate_to_ram and page_free, and an owner (what PRIVATE and COHERENT need). */
  readonly ops: boolean;
}

/** The ranges memremap_pages mapped, in the order they were mapped. */
export function devPagemaps(k: Kernel): readonly DevPagemap[] {
  return k.devPagemaps;
}

/** get_dev_pagemap(): the pgmap whose range holds pfn. */
export function getDevPagemap(k: Kernel, pfn: number): DevPagemap | undefined {
  const pa = BigInt(pfn) << 12n;
  return k.devPagemaps.find((m) => pa >= m.start && pa <= m.end);
}

/** Pages of a pgmap's range. */
export function pgmapPages(m: DevPagemap): number {
  return Number((m.end - m.start + 1n) >> 12n);
}

export const REGION_DISJOINT = 0;
export const REGION_INTERSECTS = 1;
export const REGION_MIXED = 2;

/**
 * region_intersects(start, size, IORESOURCE_SYSTEM_RAM, IORES_DESC_NONE): the top-level
 * resources overlapping the range are System RAM (INTERSECTS), none of them (DISJOINT), or
 * both kinds (MIXED); a non-RAM resource counts as RAM where a descendant of it is.
 */
export function regionIntersectsSystemRam(root: Resource, start: bigint, size: bigint): number {
  const end = start + size - 1n;
  const overlaps = (r: Resource): boolean => r.start <= end && r.end >= start;
  const isRam = (r: Resource): boolean => (r.flags & IORESOURCE_SYSTEM_RAM) === IORESOURCE_SYSTEM_RAM;
  const ramBelow = (r: Resource): boolean => r.children.some((c) => (overlaps(c) && isRam(c)) || ramBelow(c));
  let type = 0;
  let other = 0;
  for (const p of root.children) {
    if (!overlaps(p)) continue;
    if (isRam(p)) type++;
    else if (ramBelow(p)) type++;
    else other++;
  }
  if (type === 0) return REGION_DISJOINT;
  return other === 0 ? REGION_INTERSECTS : REGION_MIXED;
}

/** The pgprot the type asks arch_add_memory for (pgprot_noncached adds nothing without Svpbmt, as on QEMU 7.2's CPU). */
function pgprotFor(k: Kernel, _type: MemoryDeviceType): number {
  return k.arch.pageKernel;
}

/** pagemap_range() for the pgmap's one range: 0 or -errno, and nothing left behind on failure. */
function pagemapRange(k: Kernel, pgmap: DevPagemap, nid: number): number {
  const startPfn = Number(pgmap.start >> 12n);
  const size = pgmap.end - pgmap.start + 1n;
  const isPrivate = pgmap.type === 'private';
  for (const pfn of [startPfn, Number(pgmap.end >> 12n)]) {
    if (getDevPagemap(k, pfn)) {
      k.log.warn('Conflicting mapping in same section');
      return -ENOMEM;
    }
  }
  const isRam = regionIntersectsSystemRam(k.iomem, pgmap.start, size);
  if (isRam !== REGION_DISJOINT) {
    if (k.log.once('pagemap_range ram region')) {
      k.log.warn(
        `attempted on ${isRam === REGION_MIXED ? 'mixed' : 'ram'} region ${hexll(pgmap.start)}-${hexll(pgmap.end)}`,
      );
    }
    return -ENXIO;
  }
  // xa_store_range(): from here on the range is known to get_dev_pagemap.
  k.devPagemaps.push(pgmap);
  const del = (): void => {
    const i = k.devPagemaps.indexOf(pgmap);
    if (i >= 0) k.devPagemaps.splice(i, 1);
  };
  if (!(isPrivate ? privateRangeAllowed(pgmap.start, size) : mhpRangeAllowed(k, pgmap.start, size))) {
    del();
    return -EINVAL;
  }
  const nrPages = Number(size >> 12n);
  const err = isPrivate
    ? __addPages(k, nid, startPfn, nrPages, undefined)
    : k.arch.archAddMemory(k, nid, startPfn, nrPages, {
        altmap: pgmap.altmap,
        pgprot: pgprotFor(k, pgmap.type),
      });
  if (err) {
    del();
    return err;
  }
  // move_pfn_range_to_zone(ZONE_DEVICE) and memmap_init_zone_device(): reserved pages of the Device zone.
  movePfnRangeToZone(k, k.pgdat.zone(ZONE_DEVICE), startPfn, nrPages);
  pgmap.nid = nid;
  return 0;
}

/** mhp_range_allowed(need_mapping = false): anything below the end of physical memory. */
function privateRangeAllowed(start: bigint, size: bigint): boolean {
  const end = start + size;
  return start < end && end - 1n <= (1n << 56n) - 1n;
}

/**
 * memremap_pages(pgmap, nid): 0 or -errno. The range is checked (another pgmap at either
 * end: -ENOMEM, System RAM: -ENXIO, outside the pluggable range: -EINVAL), mapped with the
 * type's pgprot and the pgmap's altmap, and its pages moved to ZONE_DEVICE.
 */
export function memremapPages(k: Kernel, pgmap: DevPagemap, nid: number): number {
  if (!k.profile.config.ZONE_DEVICE) return -EINVAL;
  if (pgmap.end < pgmap.start) return -EINVAL;
  const refuse = (why: string): number => {
    k.log.warn(why);
    return -EINVAL;
  };
  switch (pgmap.type) {
    case 'private':
      if (!k.profile.config.DEVICE_PRIVATE) return refuse('Device private memory not supported');
      if (!pgmap.ops) return refuse('Missing migrate_to_ram method');
      break;
    case 'coherent':
      if (!pgmap.ops) return refuse('Missing page_free method');
      break;
    default:
      break;
  }
  return pagemapRange(k, pgmap, nid);
}

/** memunmap_pages(): pageunmap_range() of the pgmap's range, exactly as it was mapped. */
export function memunmapPages(k: Kernel, pgmap: DevPagemap): void {
  const startPfn = Number(pgmap.start >> 12n);
  const nrPages = pgmapPages(pgmap);
  // page_zone(first_page): reads the struct page of the first pfn the pgmap initialised.
  const first = startPfn + vmemAltmapOffset(pgmap.altmap);
  readStructPage(k, first, 'memunmap_pages');
  const zone = pageZone(k, first);
  if (zone) removePfnRangeFromZone(k, zone, startPfn, nrPages);
  if (pgmap.type === 'private') __removePages(k, startPfn, nrPages, undefined);
  else k.arch.archRemoveMemory(k, startPfn, nrPages, pgmap.altmap);
  const i = k.devPagemaps.indexOf(pgmap);
  if (i >= 0) k.devPagemaps.splice(i, 1);
  if (pgmap.altmap && pgmap.altmap.alloc) k.log.warn('failed to free all reserved pages');
}

/** A new MEMORY_DEVICE_* pgmap of [start, start + size) (no checks: memremap_pages makes them). */
export function newDevPagemap(
  type: MemoryDeviceType,
  start: bigint,
  size: bigint,
  altmap?: VmemAltmap,
  ops = false,
): DevPagemap {
  return { type, start, end: start + size - 1n, altmap, nid: -1, ops };
}

// ---- struct pages as the CPU reads them ----------------------------------------------

/** pfn_valid(): the section has a memmap and (for a hot-added section) the pfn's sub-section is active. */
export function pfnValid(k: Kernel, pfn: number): boolean {
  const ms = k.sparse.get(pfnToSectionNr(pfn));
  return !!ms && ms.valid && ms.subsectionActive(pfn);
}

/** What a struct page holds, as the `page` file prints it. */
export interface StructPage {
  /** Its virtual address (pfn_to_page). */
  va: bigint;
  flags: bigint;
  refcount: number;
  zone: number;
}

const PG_reserved = 1n << 13n;
/** ZONES_PGSHIFT of this build: node bits 62-63, zone bits 60-61. */
const ZONES_PGSHIFT = 60n;

/**
 * Reads pfn's struct page through the vmemmap, as the kernel's load does: an unmapped
 * struct page is a load page fault in kernel mode (KernelOops), which the machine does not survive.
 */
export function readStructPage(k: Kernel, pfn: number, where: string): StructPage {
  const va = k.layout.pfnToPage(BigInt(pfn));
  // An unmapped struct page is a load page fault in the kernel: the oops ends the machine.
  structPageAccess(k, pfn, where);
  const ms = k.sparse.get(pfnToSectionNr(pfn));
  const zone = pageZone(k, pfn)?.idx ?? 0;
  const device = ms?.zoneIdx === ZONE_DEVICE;
  const reserved = device || pageReserved(k, pfn);
  const free = !device && (pageZone(k, pfn)?.free.isFree(pfn) ?? false);
  return {
    va,
    flags: (BigInt(zone) << ZONES_PGSHIFT) | (reserved ? PG_reserved : 0n),
    refcount: free ? 0 : 1,
    zone,
  };
}
