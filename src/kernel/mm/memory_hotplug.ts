/**
 * mm/memory_hotplug.c: adding, onlining, offlining and removing memory.
 * Every function follows its kernel namesake's order of checks and side
 * effects, so errors and partial states are the kernel's own.
 */
import type { Kernel } from '../kernel.js';
import { E2BIG, EBUSY, EEXIST, EINTR, EINVAL, KernelBug } from '../errno.js';
import { dumpPage } from './debug.js';
import {
  IORESOURCE_BUSY,
  IORESOURCE_SYSRAM_DRIVER_MANAGED,
  IORESOURCE_SYSTEM_RAM,
  __requestRegion,
  mergeSystemRamResource,
  releaseMemRegionAdjustable,
  walkSystemRamRange,
  type Resource,
} from '../kernel/resource.js';
import { newAltmap, vmemAltmapOffset, type VmemAltmap } from './sparse_vmemmap.js';
import { PAGES_PER_SECTION, PAGES_PER_SUBSECTION, pfnToSectionNr, sectionNrToPfn } from './mmzone.js';
import { sparseAddSection, sparseRemoveSection } from './sparse.js';
import { ZONE_DEVICE, ZONE_MOVABLE, ZONE_NORMAL, type Zone } from './zone.js';
import { adjustManagedPageCount, pageZone, structPageAccess } from './page_alloc.js';
import {
  createMemoryBlockDevices,
  findMemoryBlock,
  memoryBlockSizeBytes,
  memoryNotify,
  removeMemoryBlockDevices,
  deviceOnline,
  deviceOffline,
  type MemoryBlock,
} from '../drivers/base/memory.js';
import type { OnlineType } from '../kernel/cmdline.js';
import { PAGEBLOCK_NR_PAGES } from './pageblock.js';
import { withDeviceHotplug, withMemHotplug } from '../locking/hotplug_locks.js';
import {
  isolateFreePages,
  migrateMovablePages,
  startIsolatePageRange,
  undoIsolatePageRange,
} from './page_isolation.js';
import { hex010, hexll, pa } from '../lib/vsprintf.js';

export const MHP_NONE = 0;
export const MHP_MERGE_RESOURCE = 1 << 0;
export const MHP_MEMMAP_ON_MEMORY = 1 << 1;
export const MHP_NID_IS_MGID = 1 << 2;

const PHYSMEM_END = (1n << 56n) - 1n;

// ---- adding pages: __add_pages / __remove_pages --------------------------------------

/** check_pfn_span(): with SPARSEMEM_VMEMMAP ranges come in whole 2 MiB sub-sections. */
function checkPfnSpan(pfn: number, nrPages: number): boolean {
  return pfn % PAGES_PER_SUBSECTION !== 0 || nrPages % PAGES_PER_SUBSECTION !== 0;
}

/** __add_pages(): sparse_add_section for each section of the range; stops at the first failure (earlier sections stay). */
export function __addPages(
  k: Kernel,
  nid: number,
  pfn: number,
  nrPages: number,
  altmap: VmemAltmap | undefined,
): number {
  const end = pfn + nrPages;
  if (altmap) {
    // The altmap must lie at the start of the range and fit in it.
    if (altmap.basePfn !== pfn || vmemAltmapOffset(altmap) > nrPages) {
      k.log.warn('memory add fail, invalid altmap');
      return -EINVAL;
    }
    altmap.alloc = 0;
  }
  if (checkPfnSpan(pfn, nrPages)) {
    k.log.warn(`Misaligned __add_pages start: ${hexll(pfn)} end: ${hexll(end - 1)}`);
    return -EINVAL;
  }
  for (let p = pfn; p < end;) {
    const cur = Math.min(end - p, (pfnToSectionNr(p) + 1) * PAGES_PER_SECTION - p);
    const err = sparseAddSection(k, nid, p, cur, altmap);
    if (err) return err;
    p += cur;
  }
  return 0;
}

/** __remove_pages(). */
export function __removePages(k: Kernel, pfn: number, nrPages: number, altmap: VmemAltmap | undefined): void {
  const end = pfn + nrPages;
  if (checkPfnSpan(pfn, nrPages)) {
    k.log.warn(`Misaligned __remove_pages start: ${hexll(pfn)} end: ${hexll(end - 1)}`);
    return;
  }
  for (let p = pfn; p < end;) {
    const cur = Math.min(end - p, (pfnToSectionNr(p) + 1) * PAGES_PER_SECTION - p);
    // WARN_ON_ONCE(!valid_section(ms)) in sparse_remove_section(): one splat per boot.
    if (!sparseRemoveSection(k, p, cur, altmap) && k.log.once('sparse_remove_section')) {
      k.log.warn('------------[ cut here ]------------');
      k.log.warn('WARNING: CPU: 0 PID: 1 at mm/sparse-vmemmap.c:809 sparse_remove_section+0x22/0x44');
      k.log.warn('---[ end trace 0000000000000000 ]---');
    }
    p += cur;
  }
}

// ---- zones -------------------------------------------------------------------------------

/** move_pfn_range_to_zone(): the range's struct pages now say `zone`; spans grow to cover it. */
export function movePfnRangeToZone(k: Kernel, zone: Zone, startPfn: number, nrPages: number): void {
  // memmap_init_range() writes every struct page of the range through the vmemmap.
  structPageAccess(k, startPfn, 'memmap_init_range');
  structPageAccess(k, startPfn + nrPages - 1, 'memmap_init_range');
  zone.resizeRange(startPfn, nrPages);
  k.pgdat.resizeRange(startPfn, nrPages);
  for (let s = pfnToSectionNr(startPfn); s < pfnToSectionNr(startPfn + nrPages - 1) + 1; s++) {
    const ms = k.sparse.get(s);
    if (ms) ms.zoneIdx = zone.idx;
  }
}

/** Does the section hold online pages of `zone` (pfn_to_online_page + page_zone)? */
function sectionInZone(k: Kernel, nr: number, zone: Zone): boolean {
  const ms = k.sparse.get(nr);
  return !!ms && ms.online && ms.zoneIdx === zone.idx;
}

/** shrink_zone_span(): only the ends of a zone shrink, to the nearest online section of the zone. */
function shrinkZoneSpan(k: Kernel, zone: Zone, startPfn: number, endPfn: number): void {
  if (zone.zoneStartPfn === startPfn) {
    let found = -1;
    for (let s = pfnToSectionNr(endPfn); sectionNrToPfn(s) < zone.zoneEndPfn; s++) {
      if (sectionInZone(k, s, zone)) {
        found = sectionNrToPfn(s);
        break;
      }
    }
    if (found >= 0) {
      zone.spannedPages = zone.zoneEndPfn - found;
      zone.zoneStartPfn = found;
    } else {
      zone.zoneStartPfn = 0;
      zone.spannedPages = 0;
    }
  } else if (zone.zoneEndPfn === endPfn) {
    let found = -1;
    for (let s = pfnToSectionNr(startPfn) - 1; s >= pfnToSectionNr(zone.zoneStartPfn); s--) {
      if (sectionInZone(k, s, zone)) {
        found = sectionNrToPfn(s + 1) - 1;
        break;
      }
    }
    if (found >= 0) zone.spannedPages = found - zone.zoneStartPfn + 1;
    else {
      zone.zoneStartPfn = 0;
      zone.spannedPages = 0;
    }
  }
}

/** update_pgdat_span(): the node spans the union of its zones. */
function updatePgdatSpan(k: Kernel): void {
  let start = Infinity;
  let end = 0;
  for (const z of k.pgdat.zones) {
    if (z.isEmpty()) continue;
    start = Math.min(start, z.zoneStartPfn);
    end = Math.max(end, z.zoneEndPfn);
  }
  k.pgdat.nodeStartPfn = start === Infinity ? 0 : start;
  k.pgdat.nodeSpannedPages = start === Infinity ? 0 : end - start;
}

/** remove_pfn_range_from_zone(). */
export function removePfnRangeFromZone(k: Kernel, zone: Zone, startPfn: number, nrPages: number): void {
  // The zone-shrinking code cannot deal with ZONE_DEVICE: its span stays as it is.
  if (zone.idx === ZONE_DEVICE) return;
  shrinkZoneSpan(k, zone, startPfn, startPfn + nrPages);
  updatePgdatSpan(k);
  for (let s = pfnToSectionNr(startPfn); s <= pfnToSectionNr(startPfn + nrPages - 1); s++) {
    const ms = k.sparse.get(s);
    if (ms) ms.zoneIdx = -1;
  }
}

/** default_kernel_zone_for_pfn(): the first kernel zone the range touches, else ZONE_NORMAL. */
export function defaultKernelZoneForPfn(k: Kernel, startPfn: number, nrPages: number): Zone {
  for (let zid = 0; zid <= ZONE_NORMAL; zid++) {
    const z = k.pgdat.zone(zid);
    if (z.intersects(startPfn, nrPages)) return z;
  }
  return k.pgdat.zone(ZONE_NORMAL);
}

function defaultZoneForPfn(k: Kernel, startPfn: number, nrPages: number): Zone {
  const kernelZone = defaultKernelZoneForPfn(k, startPfn, nrPages);
  const movable = k.pgdat.zone(ZONE_MOVABLE);
  const inKernel = kernelZone.intersects(startPfn, nrPages);
  const inMovable = movable.intersects(startPfn, nrPages);
  if (inKernel !== inMovable) return inKernel ? kernelZone : movable;
  return k.params.movableNode ? movable : kernelZone;
}

/** Pages present at boot in the kernel zones (zone->present_early_pages), for auto-movable. */
export function presentEarlyPages(k: Kernel, zone: Zone): number {
  let n = 0;
  for (const s of k.sparse.all()) if (s.early && s.zoneIdx === zone.idx && s.online) n += PAGES_PER_SECTION;
  return Math.min(n, zone.presentPages);
}

/** Memory groups (virtio-mem's units); a static group has a fixed size, a dynamic one a unit. */
export interface MemoryGroup {
  readonly id: number;
  readonly nid: number;
  readonly isDynamic: boolean;
  /** Static: max_pages; dynamic: unit_pages. */
  readonly pages: number;
  presentKernelPages: number;
  presentMovablePages: number;
}

function autoMovableCanOnlineMovable(k: Kernel, group: MemoryGroup | undefined, nrPages: number): boolean {
  let kernelEarly = 0;
  let movable = 0;
  for (const z of k.pgdat.zones) {
    if (!z.isPopulated()) continue;
    if (z.idx === ZONE_MOVABLE) movable += z.presentPages;
    else kernelEarly += presentEarlyPages(k, z);
  }
  // Remove the effect of every dynamic group but this one.
  let reqKernelEarly = 0;
  let groupMovable = 0;
  for (const g of k.memoryGroups.values()) {
    if (!g.isDynamic || g === group) continue;
    const ratio = k.params.autoMovableRatio;
    reqKernelEarly +=
      Math.floor((g.presentMovablePages * 100) / ratio) - g.presentKernelPages > 0
        ? Math.floor((g.presentMovablePages * 100) / ratio) - g.presentKernelPages
        : 0;
    groupMovable += g.presentMovablePages;
  }
  if (kernelEarly <= reqKernelEarly) return false;
  kernelEarly -= reqKernelEarly;
  movable -= groupMovable;
  if (group && group.isDynamic) kernelEarly += group.presentKernelPages;
  movable += nrPages;
  return movable <= Math.floor((k.params.autoMovableRatio * kernelEarly) / 100);
}

function autoMovableZoneForPfn(
  k: Kernel,
  group: MemoryGroup | undefined,
  pfn: number,
  nrPages: number,
): Zone {
  let onlinePages = 0;
  let maxPages: number;
  const kernelZone = (): Zone => defaultKernelZoneForPfn(k, pfn, nrPages);
  if (!k.params.autoMovableRatio) return kernelZone();
  if (group && !group.isDynamic) {
    maxPages = group.pages;
    onlinePages = group.presentMovablePages;
    if (group.presentKernelPages) return kernelZone();
  } else if (!group || group.pages === nrPages) {
    maxPages = nrPages;
  } else {
    maxPages = group.pages;
    const start = Math.floor(pfn / group.pages) * group.pages;
    for (let p = start; p < start + group.pages; p += PAGES_PER_SECTION) {
      const ms = k.sparse.get(pfnToSectionNr(p));
      if (!ms || !ms.online) continue;
      if (ms.zoneIdx !== ZONE_MOVABLE) return kernelZone();
      onlinePages += PAGES_PER_SECTION;
    }
  }
  const want = maxPages - onlinePages;
  if (!autoMovableCanOnlineMovable(k, group, want)) return kernelZone();
  return k.pgdat.zone(ZONE_MOVABLE);
}

/** zone_for_pfn_range(). */
export function zoneForPfnRange(
  k: Kernel,
  onlineType: OnlineType,
  group: MemoryGroup | undefined,
  startPfn: number,
  nrPages: number,
): Zone {
  if (onlineType === 'online_kernel') return defaultKernelZoneForPfn(k, startPfn, nrPages);
  if (onlineType === 'online_movable') return k.pgdat.zone(ZONE_MOVABLE);
  if (k.params.onlinePolicy === 'auto-movable') return autoMovableZoneForPfn(k, group, startPfn, nrPages);
  return defaultZoneForPfn(k, startPfn, nrPages);
}

/** build_all_zonelists(): its boot-time banner, printed again when a zone gains or loses its last pages. */
export function buildAllZonelists(k: Kernel): void {
  const total = k.pgdat.zones.reduce((s, z) => s + z.managedPages, 0);
  const policy = k.pgdat.zone(ZONE_NORMAL).isPopulated() ? 'Normal' : 'DMA32';
  k.log.info('Fallback order for Node 0: 0 ');
  k.log.info(`Built 1 zonelists, mobility grouping on.  Total pages: ${total}`);
  k.log.info(`Policy zone: ${policy}`);
}

// ---- online / offline ------------------------------------------------------------------------

/** online_pages(): the pages join the buddy allocator in max-order chunks. */
export function onlinePages(
  k: Kernel,
  pfn: number,
  nrPages: number,
  zone: Zone,
  group: MemoryGroup | undefined,
): number {
  if (!nrPages || pfn % PAGEBLOCK_NR_PAGES !== 0 || (pfn + nrPages) % PAGES_PER_SECTION !== 0) return -EINVAL;
  movePfnRangeToZone(k, zone, pfn, nrPages);
  const arg = { startPfn: pfn, nrPages, zone };
  const nret = memoryNotify(k, 'going-online', arg);
  if (nret) {
    removePfnRangeFromZone(k, zone, pfn, nrPages);
    memoryNotify(k, 'cancel-online', arg);
    return nret;
  }
  const needRebuild = !zone.isPopulated();
  // online_pages_range(): sections go online, pages are freed (to the tail) in MAX_PAGE_ORDER chunks;
  // a driver's online_page callback (virtio-mem) may keep parts it has not plugged.
  for (let s = pfnToSectionNr(pfn); s <= pfnToSectionNr(pfn + nrPages - 1); s++) {
    const ms = k.sparse.get(s);
    if (ms) ms.online = true;
  }
  let freed = nrPages;
  if (k.onlinePageCallback) {
    freed = 0;
    for (const [s, e] of k.onlinePageCallback(pfn, nrPages)) {
      zone.free.add(s, e);
      freed += e - s;
    }
  } else {
    zone.free.add(pfn, pfn + nrPages);
  }
  adjustManagedPageCount(k, zone, freed);
  adjustPresentPageCount(k, zone, group, nrPages);
  if (needRebuild) buildAllZonelists(k);
  memoryNotify(k, 'online', arg);
  return 0;
}

/** adjust_present_page_count(). */
export function adjustPresentPageCount(
  k: Kernel,
  zone: Zone,
  group: MemoryGroup | undefined,
  nrPages: number,
): void {
  zone.presentPages += nrPages;
  k.pgdat.nodePresentPages += nrPages;
  if (group) {
    if (zone.idx === ZONE_MOVABLE) group.presentMovablePages += nrPages;
    else group.presentKernelPages += nrPages;
  }
}

/** offline_pages(). */
export function offlinePages(
  k: Kernel,
  startPfn: number,
  nrPages: number,
  zone: Zone,
  group: MemoryGroup | undefined,
): number {
  const endPfn = startPfn + nrPages;
  // The kernel reports why with pr_debug, which prints only under dynamic debug; the model keeps it for --check reports.
  const fail = (ret: number, reason: string): number => {
    k.lastOfflineFailure = `memory offlining [mem ${hex010(BigInt(startPfn) << 12n)}-${hex010((BigInt(endPfn) << 12n) - 1n)}] failed due to ${reason}`;
    return ret;
  };
  if (!nrPages || startPfn % PAGEBLOCK_NR_PAGES !== 0 || endPfn % PAGES_PER_SECTION !== 0) return -EINVAL;
  if (walkSystemRamRange(k.iomem, startPfn, nrPages) !== nrPages) return fail(-EINVAL, 'memory holes');
  if (pageZone(k, startPfn) !== zone || pageZone(k, endPfn - 1) !== zone)
    return fail(-EINVAL, 'multizone range');
  // zone_pcp_disable(): every CPU's pcp pages of the zone go back to the buddy lists first.
  k.pcp.drainZone(zone);
  // start_isolate_page_range(): any unmovable page makes the whole range fail.
  const unmovable = startIsolatePageRange(k, startPfn, endPfn);
  if (unmovable !== undefined) {
    // set_migratetype_isolate() with REPORT_FAILURE: dump_page() of the page that blocked it.
    dumpPage(k, unmovable, 'unmovable page');
    return fail(-EBUSY, 'failure to isolate range');
  }
  const arg = { startPfn, nrPages, zone };
  const nret = memoryNotify(k, 'going-offline', arg);
  if (nret) {
    memoryNotify(k, 'cancel-offline', arg);
    return fail(nret, 'notifier failure');
  }
  const isolated = isolateFreePages(zone, startPfn, endPfn);
  const freed: number[] = [];
  const migrated = migrateMovablePages(k, startPfn, endPfn, freed);
  for (const pfn of freed) isolated.push([pfn, pfn + 1]);
  if (migrated < 0) {
    // Pages freed by migration stay free, in the buddy again.
    undoIsolatePageRange(zone, isolated);
    memoryNotify(k, 'cancel-offline', arg);
    // A pinned page: offline_pages() retries migration until a signal arrives (the user's Ctrl-C).
    if (migrated === -2) return fail(-EINTR, 'signal backoff');
    return fail(-EBUSY, 'unmovable page');
  }
  // __offline_isolated_pages(): sections go offline, their free pages leave the buddy.
  for (let s = pfnToSectionNr(startPfn); s <= pfnToSectionNr(endPfn - 1); s++) {
    const ms = k.sparse.get(s);
    if (ms) ms.online = false;
  }
  const managed = isolated.reduce((n, [s, e]) => n + e - s, 0);
  k.fakeOffline.removeAllIn(startPfn, endPfn);
  adjustManagedPageCount(k, zone, -managed);
  adjustPresentPageCount(k, zone, group, -nrPages);
  if (!zone.isPopulated()) buildAllZonelists(k);
  memoryNotify(k, 'offline', arg);
  removePfnRangeFromZone(k, zone, startPfn, nrPages);
  return 0;
}

// ---- add_memory ---------------------------------------------------------------------------------

/** mhp_get_pluggable_range(need_mapping = true). */
export function mhpGetPluggableRange(k: Kernel): { start: bigint; end: bigint } {
  const r = k.arch.archGetMappableRange(k);
  let start = r.start;
  let end = r.end;
  if (start > PHYSMEM_END) {
    start = 0n;
    end = 0n;
  }
  if (end > PHYSMEM_END) end = PHYSMEM_END;
  return { start, end };
}

/** mhp_range_allowed(): with the kernel's 64-bit wrap of start + size. */
export function mhpRangeAllowed(k: Kernel, start: bigint, size: bigint): boolean {
  const r = mhpGetPluggableRange(k);
  const end = (start + size) & ((1n << 64n) - 1n);
  if (start < end && start >= r.start && end - 1n <= r.end) return true;
  k.log.warn(
    `Hotplug memory [${hexll(start)}-${hexll(end)}] exceeds maximum addressable range [${hexll(r.start)}-${hexll(r.end)}]`,
  );
  return false;
}

/** check_hotplug_memory_range(). */
export function checkHotplugMemoryRange(k: Kernel, start: bigint, size: bigint): number {
  const bs = BigInt(memoryBlockSizeBytes());
  if (!size || start % bs !== 0n || size % bs !== 0n) {
    k.log.err(
      `Block size [${hexll(bs)}] unaligned hotplug range: start ${hexll(start)}, size ${hexll(size)}`,
    );
    return -EINVAL;
  }
  return 0;
}

/** register_memory_resource(): claim the range in /proc/iomem; the resource or -errno (ERR_PTR). */
function registerMemoryResource(k: Kernel, start: bigint, size: bigint, name: string): Resource | number {
  let flags = IORESOURCE_SYSTEM_RAM | IORESOURCE_BUSY;
  if (name !== 'System RAM') flags |= IORESOURCE_SYSRAM_DRIVER_MANAGED;
  if (!mhpRangeAllowed(k, start, size)) return -E2BIG;
  return __requestRegion(k.iomem, start, size, name, flags) ?? -EEXIST;
}

/** memory_block_memmap_size(): the struct pages of one memory block, in bytes. */
export function memoryBlockMemmapSize(): number {
  return (memoryBlockSizeBytes() / 4096) * 64;
}

/**
 * memory_block_memmap_on_memory_pages(): force mode rounds up to whole
 * pageblocks, wasting the difference, so unaligned memmaps still qualify.
 */
export function memoryBlockMemmapOnMemoryPages(k: Kernel): number {
  const pages = Math.ceil(memoryBlockMemmapSize() / 4096);
  if (k.params.memmapMode === 'force') return Math.ceil(pages / PAGEBLOCK_NR_PAGES) * PAGEBLOCK_NR_PAGES;
  return pages;
}

/** mhp_supports_memmap_on_memory(). */
export function mhpSupportsMemmapOnMemory(k: Kernel): boolean {
  if (k.params.memmapMode === 'off') return false;
  const vmemmapSize = memoryBlockMemmapSize();
  const pages = memoryBlockMemmapOnMemoryPages(k);
  if (vmemmapSize % 4096 !== 0) return false;
  if (pages % PAGEBLOCK_NR_PAGES !== 0) return false;
  if (pages === memoryBlockSizeBytes() / 4096) return false;
  return vmemmapSize % (2 << 20) === 0;
}

/** add_memory_resource(). Returns 0 or -errno. */
export function addMemoryResource(
  k: Kernel,
  nid: number,
  res: Resource,
  mhpFlags: number,
  group: MemoryGroup | undefined,
): number {
  const start = res.start;
  const size = res.end - res.start + 1n;
  const ret = checkHotplugMemoryRange(k, start, size);
  if (ret) return ret;
  if (mhpFlags & MHP_NID_IS_MGID) {
    const g = k.memoryGroups.get(nid);
    if (!g) return -EINVAL;
    group = g;
    nid = g.nid;
  }
  const req = { nid, startPfn: Number(start >> 12n), nrPages: Number(size >> 12n) };
  return withMemHotplug(k, () => addMemoryResourceLocked(k, req, res, mhpFlags, group));
}

/** The part of add_memory_resource() between mem_hotplug_begin() and mem_hotplug_done(). */
function addMemoryResourceLocked(
  k: Kernel,
  { nid, startPfn, nrPages }: { nid: number; startPfn: number; nrPages: number },
  res: Resource,
  mhpFlags: number,
  group: MemoryGroup | undefined,
): number {
  if (nid !== 0) {
    k.log.warn(`WARNING: node ${nid} was absent from the node_possible_map`);
    return -EINVAL;
  }
  if (mhpFlags & MHP_MEMMAP_ON_MEMORY && mhpSupportsMemmapOnMemory(k)) {
    const r = createAltmapsAndMemoryBlocks(k, nid, group, startPfn, nrPages);
    if (r) return r;
  } else {
    const r = k.arch.archAddMemory(k, nid, startPfn, nrPages, {
      altmap: undefined,
      pgprot: k.arch.pageKernel,
    });
    if (r < 0) return r;
    const c = createMemoryBlockDevices(k, startPfn, nrPages, undefined, group);
    if (c) {
      k.arch.archRemoveMemory(k, startPfn, nrPages, undefined);
      return c;
    }
  }
  if (mhpFlags & MHP_MERGE_RESOURCE) mergeSystemRamResource(res);
  if (k.params.defaultOnlineType !== 'offline') {
    for (const mem of memoryBlocksIn(k, startPfn, nrPages)) {
      mem.onlineType = k.params.defaultOnlineType;
      deviceOnline(k, mem);
    }
  }
  return 0;
}

/** create_altmaps_and_memory_blocks(): one altmap per memory block, each block's memmap on itself. */
function createAltmapsAndMemoryBlocks(
  k: Kernel,
  nid: number,
  group: MemoryGroup | undefined,
  startPfn: number,
  nrPages: number,
): number {
  const blockPages = memoryBlockSizeBytes() / 4096;
  for (let cur = startPfn; cur < startPfn + nrPages; cur += blockPages) {
    const altmap = newAltmap(cur, cur + blockPages - 1, memoryBlockMemmapOnMemoryPages(k));
    let ret = k.arch.archAddMemory(k, nid, cur, blockPages, { altmap, pgprot: k.arch.pageKernel });
    if (ret < 0) {
      removeMemoryBlocksAndAltmaps(k, startPfn, cur - startPfn);
      return ret;
    }
    ret = createMemoryBlockDevices(k, cur, blockPages, altmap, group);
    if (ret) {
      k.arch.archRemoveMemory(k, cur, blockPages, altmap);
      removeMemoryBlocksAndAltmaps(k, startPfn, cur - startPfn);
      return ret;
    }
  }
  return 0;
}

function removeMemoryBlocksAndAltmaps(k: Kernel, startPfn: number, nrPages: number): void {
  const blockPages = memoryBlockSizeBytes() / 4096;
  for (let cur = startPfn; cur < startPfn + nrPages; cur += blockPages) {
    const mem = findMemoryBlock(k, pfnToSectionNr(cur));
    const altmap = mem?.altmap;
    removeMemoryBlockDevices(k, cur, blockPages);
    k.arch.archRemoveMemory(k, cur, blockPages, altmap);
  }
}

export function memoryBlocksIn(k: Kernel, startPfn: number, nrPages: number): MemoryBlock[] {
  const out: MemoryBlock[] = [];
  const blockPages = memoryBlockSizeBytes() / 4096;
  const first = Math.floor(startPfn / blockPages);
  const last = Math.floor((startPfn + nrPages - 1) / blockPages);
  if (last - first > k.memoryBlocks.size) {
    for (const m of [...k.memoryBlocks.values()].sort((a, b) => a.id - b.id))
      if (m.id >= first && m.id <= last) out.push(m);
    return out;
  }
  for (let id = first; id <= last; id++) {
    const m = k.memoryBlocks.get(id);
    if (m) out.push(m);
  }
  return out;
}

/** __add_memory() under lock_device_hotplug: claim the resource, then add it. 0 or -errno. */
function __addMemory(
  k: Kernel,
  nid: number,
  start: bigint,
  size: bigint,
  mhpFlags: number,
  resourceName: string,
): number {
  const res = registerMemoryResource(k, start, size, resourceName);
  if (typeof res === 'number') return res;
  const ret = addMemoryResource(k, nid, res, mhpFlags, undefined);
  if (ret < 0) res.release();
  return ret;
}

/** add_memory(): 0 or -errno. */
export function addMemory(k: Kernel, nid: number, start: bigint, size: bigint, mhpFlags: number): number {
  return withDeviceHotplug(k, () => __addMemory(k, nid, start, size, mhpFlags, 'System RAM'));
}

/** add_memory_driver_managed(): the resource is named "System RAM (driver)". 0 or -errno. */
export function addMemoryDriverManaged(
  k: Kernel,
  nid: number,
  start: bigint,
  size: bigint,
  resourceName: string,
  mhpFlags: number,
): number {
  if (
    resourceName === 'System RAM' ||
    !resourceName.startsWith('System RAM (') ||
    !resourceName.endsWith(')')
  ) {
    return -EINVAL;
  }
  return __addMemory(k, nid, start, size, mhpFlags, resourceName);
}

// ---- remove_memory ------------------------------------------------------------------------------

/** try_remove_memory(): every block must be offline; then blocks, memmap, linear map and resource go. */
export function tryRemoveMemory(k: Kernel, start: bigint, size: bigint): number {
  if (checkHotplugMemoryRange(k, start, size)) {
    throw new KernelBug('mm/memory_hotplug.c: BUG_ON(check_hotplug_memory_range(start, size))');
  }
  const startPfn = Number(start >> 12n);
  const nrPages = Number(size >> 12n);
  const blocks = memoryBlocksIn(k, startPfn, nrPages);
  for (const mem of blocks) {
    if (mem.state !== 'offline') {
      const begin = BigInt(sectionNrToPfn(mem.id)) << 12n;
      const endpa = begin + BigInt(memoryBlockSizeBytes()) - 1n;
      k.log.warn(`removing memory fails, because memory [${pa(begin)}-${pa(endpa)}] is onlined`);
      return -EBUSY;
    }
  }
  return withMemHotplug(k, () => tryRemoveMemoryLocked(k, start, size, blocks));
}

/** The part of try_remove_memory() under mem_hotplug_begin(). */
function tryRemoveMemoryLocked(k: Kernel, start: bigint, size: bigint, blocks: MemoryBlock[]): number {
  const startPfn = Number(start >> 12n);
  const nrPages = Number(size >> 12n);
  const veto = k.arch.archPrepareRemoveMemory?.(k, startPfn, nrPages) ?? 0;
  if (veto) return veto;
  const withAltmap = blocks.filter((m) => m.altmap !== undefined).length;
  if (withAltmap > 0 && withAltmap !== blocks.length) {
    k.log.warn('WARNING: memory_blocks_have_altmaps: mixed altmap and non-altmap blocks');
    return -EINVAL;
  }
  if (withAltmap === 0) {
    removeMemoryBlockDevices(k, startPfn, nrPages);
    k.arch.archRemoveMemory(k, startPfn, nrPages, undefined);
  } else {
    removeMemoryBlocksAndAltmaps(k, startPfn, nrPages);
  }
  releaseMemRegionAdjustable(k.iomem, start, size);
  return 0;
}

/** remove_memory(): 0 or -errno. */
export function removeMemory(k: Kernel, start: bigint, size: bigint): number {
  return withDeviceHotplug(k, () => tryRemoveMemory(k, start, size));
}

/**
 * offline_and_remove_memory(): 0 or -errno. Offline every block (remembering whether it was
 * movable), then remove; on any failure the blocks it offlined come back
 * online in the zone type they had.
 */
export function offlineAndRemoveMemory(k: Kernel, start: bigint, size: bigint): number {
  const bs = BigInt(memoryBlockSizeBytes());
  if (size % bs !== 0n || start % bs !== 0n || size === 0n) return -EINVAL;
  return withDeviceHotplug(k, () => offlineAndRemoveMemoryLocked(k, start, size));
}

function offlineAndRemoveMemoryLocked(k: Kernel, start: bigint, size: bigint): number {
  const startPfn = Number(start >> 12n);
  const nrPages = Number(size >> 12n);
  const blocks = memoryBlocksIn(k, startPfn, nrPages);
  const onlineTypes: OnlineType[] = blocks.map(() => 'offline');
  let rc = 0;
  for (let i = 0; i < blocks.length; i++) {
    const mem = blocks[i]!;
    const ms = k.sparse.get(mem.id);
    const type: OnlineType =
      ms && ms.online && ms.zoneIdx === ZONE_MOVABLE ? 'online_movable' : 'online_kernel';
    const r = deviceOffline(k, mem);
    if (r === 0) onlineTypes[i] = type;
    if (r < 0) {
      rc = r;
      break;
    }
  }
  if (!rc) {
    rc = tryRemoveMemory(k, start, size);
    if (rc) k.log.err(`offline_and_remove_memory: Failed to remove memory: ${rc}`);
  }
  if (rc) {
    for (let i = 0; i < blocks.length; i++) {
      if (onlineTypes[i] === 'offline') continue;
      const mem = blocks[i]!;
      mem.onlineType = onlineTypes[i]!;
      const r = deviceOnline(k, mem);
      if (r < 0) k.log.warn(`try_reonline_memory_block: Failed to re-online memory: ${r}`);
    }
  }
  return rc;
}
