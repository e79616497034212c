/**
 * Zones and the node (include/linux/mmzone.h): ZONE_DMA32 below 4 GiB,
 * ZONE_NORMAL above it, ZONE_MOVABLE for memory onlined movable. A zone
 * spans [zoneStartPfn, zoneStartPfn + spannedPages); present pages have a
 * memmap, managed pages belong to the buddy allocator.
 */
import { BuddyLists } from './free_area.js';

export const ZONE_DMA32 = 0;
export const ZONE_NORMAL = 1;
export const ZONE_MOVABLE = 2;
/** ZONE_DEVICE (CONFIG_ZONE_DEVICE builds only): memremap_pages' struct pages, never onlined. */
export const ZONE_DEVICE = 3;
export const ZONE_NAMES = ['DMA32', 'Normal', 'Movable', 'Device'] as const;
export type ZoneName = (typeof ZONE_NAMES)[number];

export class Zone {
  zoneStartPfn = 0;
  spannedPages = 0;
  presentPages = 0;
  /** Pages handed to the buddy allocator (zone->managed_pages). */
  managedPages = 0;
  /** The buddy allocator's free lists of this zone. */
  readonly free = new BuddyLists();
  /** Allocations this zone served (zone_statistics(): NUMA_HIT and NUMA_LOCAL on a one-node machine). */
  numaHit = 0;

  constructor(
    readonly idx: number,
    readonly name: ZoneName,
  ) {}

  get zoneEndPfn(): number {
    return this.zoneStartPfn + this.spannedPages;
  }

  isEmpty(): boolean {
    return this.spannedPages === 0;
  }

  /** populated_zone(): has present pages. */
  isPopulated(): boolean {
    return this.presentPages !== 0;
  }

  /** zone_intersects(). */
  intersects(startPfn: number, nrPages: number): boolean {
    if (this.isEmpty()) return false;
    if (startPfn >= this.zoneEndPfn || startPfn + nrPages <= this.zoneStartPfn) return false;
    return true;
  }

  contains(pfn: number): boolean {
    return !this.isEmpty() && pfn >= this.zoneStartPfn && pfn < this.zoneEndPfn;
  }

  /** resize_zone_range(): grow the span to cover [startPfn, startPfn + nrPages). */
  resizeRange(startPfn: number, nrPages: number): void {
    const oldEnd = this.zoneEndPfn;
    if (this.isEmpty() || startPfn < this.zoneStartPfn) this.zoneStartPfn = startPfn;
    this.spannedPages = Math.max(startPfn + nrPages, this.isEmpty() ? 0 : oldEnd) - this.zoneStartPfn;
  }
}

export class PgData {
  readonly zones: Zone[] = [
    new Zone(ZONE_DMA32, 'DMA32'),
    new Zone(ZONE_NORMAL, 'Normal'),
    new Zone(ZONE_MOVABLE, 'Movable'),
  ];
  nodeStartPfn = 0;
  nodeSpannedPages = 0;
  nodePresentPages = 0;

  constructor(readonly nid: number) {}

  /** A CONFIG_ZONE_DEVICE build has a fourth zone. */
  addDeviceZone(): void {
    if (this.zones.length === ZONE_DEVICE) this.zones.push(new Zone(ZONE_DEVICE, 'Device'));
  }

  zone(idx: number): Zone {
    return this.zones[idx]!;
  }

  get nodeEndPfn(): number {
    return this.nodeStartPfn + this.nodeSpannedPages;
  }

  /** resize_pgdat_range(). */
  resizeRange(startPfn: number, nrPages: number): void {
    const end = Math.max(this.nodeSpannedPages ? this.nodeEndPfn : 0, startPfn + nrPages);
    if (!this.nodeSpannedPages || startPfn < this.nodeStartPfn) this.nodeStartPfn = startPfn;
    this.nodeSpannedPages = end - this.nodeStartPfn;
  }

  zoneOf(pfn: number): Zone | undefined {
    // Movable first: it may span inside the others' ranges after onlining. ZONE_DEVICE's span
    // never shrinks and may cover RAM: its pages are known by their sections.
    for (let i = ZONE_MOVABLE; i >= 0; i--) if (this.zones[i]!.contains(pfn)) return this.zones[i];
    return undefined;
  }
}
