/**
 * mm/mm_init.c: zone sizing at boot (free_area_init), handing memblock's free
 * pages to the buddy allocator (memblock_free_all) and the memory banner.
 */
import type { Kernel } from '../kernel.js';
import { ZONE_DMA32, ZONE_NORMAL } from './zone.js';
import { sectionNrToPfn } from './mmzone.js';
import { adjustManagedPageCount } from './page_alloc.js';
import { pa } from '../lib/vsprintf.js';

const PAGE = 4096;
const GiB = 1 << 30;

/** zone_sizes_init() / free_area_init(): DMA32 below 4 GiB, NORMAL above. */
export function zoneSizesInit(k: Kernel): void {
  const mb = k.memblock;
  const startPfn = mb.startOfDram() / PAGE;
  const endPfn = mb.endOfDram() / PAGE;
  const dma32End = Math.min(endPfn, (4 * GiB) / PAGE);
  const dma = k.pgdat.zone(ZONE_DMA32);
  const normal = k.pgdat.zone(ZONE_NORMAL);
  k.log.info('Zone ranges:');
  if (startPfn < dma32End) {
    dma.zoneStartPfn = startPfn;
    dma.spannedPages = dma32End - startPfn;
    k.log.info(`  DMA32    [mem ${pa(startPfn * PAGE)}-${pa(dma32End * PAGE - 1)}]`);
  } else {
    k.log.info('  DMA32    empty');
  }
  if (endPfn > (4 * GiB) / PAGE) {
    normal.zoneStartPfn = Math.max(startPfn, (4 * GiB) / PAGE);
    normal.spannedPages = endPfn - normal.zoneStartPfn;
    k.log.info(`  Normal   [mem ${pa(normal.zoneStartPfn * PAGE)}-${pa(endPfn * PAGE - 1)}]`);
  } else {
    k.log.info('  Normal   empty');
  }
  k.log.info('Movable zone start for each node');
  k.log.info('Early memory node ranges');
  for (const r of mb.memory.regions) k.log.info(`  node   0: [mem ${pa(r.base)}-${pa(r.base + r.size - 1)}]`);
  k.pgdat.nodeStartPfn = startPfn;
  k.pgdat.nodeSpannedPages = endPfn - startPfn;
  for (const r of mb.memory.regions) {
    for (let pfn = r.base / PAGE; pfn < (r.base + r.size) / PAGE;) {
      const zone = pfn < dma32End ? dma : normal;
      const stop = Math.min((r.base + r.size) / PAGE, pfn < dma32End ? dma32End : Infinity);
      zone.presentPages += stop - pfn;
      k.pgdat.nodePresentPages += stop - pfn;
      pfn = stop;
    }
  }
  for (const s of k.sparse.all()) {
    const pfn = sectionNrToPfn(s.nr);
    s.zoneIdx = pfn < dma32End ? ZONE_DMA32 : ZONE_NORMAL;
    s.online = true;
  }
}

/** memblock_free_all(): every free page joins the buddy allocator; reserved ones stay PG_reserved. */
export function memblockFreeAll(k: Kernel): void {
  const mb = k.memblock;
  // Pages touched by a reserved region stay reserved (the whole page).
  const reservedExtents: Array<[number, number]> = [];
  for (const r of mb.reserved.regions) {
    const s = Math.floor(r.base / PAGE);
    const e = Math.ceil((r.base + r.size) / PAGE);
    const last = reservedExtents[reservedExtents.length - 1];
    if (last && s <= last[1]) last[1] = Math.max(last[1], e);
    else reservedExtents.push([s, e]);
  }
  for (const m of mb.memory.regions) {
    let cur = m.base / PAGE;
    const end = (m.base + m.size) / PAGE;
    const addFree = (s: number, e: number): void => {
      for (let p = s; p < e;) {
        const zone = k.pgdat.zoneOf(p)!;
        const stop = Math.min(e, zone.zoneEndPfn);
        zone.free.add(p, stop);
        adjustManagedPageCount(k, zone, stop - p);
        p = stop;
      }
    };
    for (const [rs, re] of reservedExtents) {
      if (re <= cur || rs >= end) continue;
      if (rs > cur) addFree(cur, rs);
      k.bootReserved.add(Math.max(rs, cur), Math.min(re, end));
      cur = Math.max(cur, re);
    }
    if (cur < end) addFree(cur, end);
  }
}

/** mem_init_print_info(): the "Memory: ...K/...K available" line. */
export function memInitPrintInfo(k: Kernel): string {
  const total = k.memblock.memory.totalSize / 1024;
  const avail = k.totalramPages * 4;
  const sym = k.profile.symbols;
  const kb = (a: bigint, b: bigint): number => Math.round(Number(b - a) / 1024);
  return (
    `Memory: ${avail}K/${total}K available (${kb(sym._stext, sym._etext)}K kernel code, ` +
    `${kb(sym._sdata, sym._edata)}K rwdata, ${kb(sym.__start_rodata, sym.__end_rodata)}K rodata, ` +
    `${kb(sym.__init_begin, sym.__init_end)}K init, ${kb(sym.__bss_start, sym.__bss_stop)}K bss, ` +
    `${total - avail}K reserved, 0K cma-reserved)`
  );
}
