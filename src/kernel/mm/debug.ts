/**
 * mm/debug.c dump_page() for the pages the model can describe (boot
 * reservations, workload pages, slab pages): what
 * start_isolate_page_range() prints (with REPORT_FAILURE, as offline_pages
 * asks) for the first page that keeps a range from being isolated.
 *
 * struct page on riscv64 is 64 bytes, printed as two `raw:` lines of four
 * words: flags, lru.next, lru.prev, mapping, index, private, _mapcount and
 * _refcount (one word, refcount in the high half), memcg_data. page->flags
 * keeps the node above the zone at its top (SPARSEMEM_VMEMMAP: no section
 * bits; NODES_SHIFT 2; ZONES_SHIFT 2; no last_cpupid without NUMA
 * balancing).
 */
import type { Kernel } from '../kernel.js';
import { pageReserved, pageZone } from './page_alloc.js';
import { PAGE_PINNED } from './workload.js';
import type { Slab } from './slub.js';

const PG_HEAD = 6n;
const PG_RESERVED = 13n;
/** PGTY_slab << 24: the page type a slab page carries in _mapcount. */
const PGTY_SLAB = 0xf5000000n;
const NODES_PGSHIFT = 62n;
const ZONES_PGSHIFT = 60n;
/** list_del() poisons a page's lru when the buddy allocator hands the page out. */
const LIST_POISON1 = 0xdead000000000100n;
const LIST_POISON2 = 0xdead000000000122n;

const w = (v: bigint): string => v.toString(16).padStart(16, '0');

/** The lines dump_page(page, reason) logs for pfn. */
export function dumpPageLines(k: Kernel, pfn: number, reason: string): string[] {
  const slab = k.slub.slabOf(pfn);
  if (slab && slab.pfn === pfn) return [...dumpSlabHead(k, slab), `page dumped because: ${reason}`];
  const zone = pageZone(k, pfn)?.idx ?? 0;
  const nid = 0n;
  const reserved = pageReserved(k, pfn);
  const pinned = k.workload.kindOf(pfn) === PAGE_PINNED;
  let flags = (nid << NODES_PGSHIFT) | (BigInt(zone) << ZONES_PGSHIFT);
  const names: string[] = [];
  if (reserved) {
    flags |= 1n << PG_RESERVED;
    names.push('reserved');
  }
  names.push(`node=${nid}`, `zone=${zone}`);
  // A reserved (memblock) page's lru was initialised to point at itself; an allocated one was poisoned.
  const self = k.layout.pfnToPage(BigInt(pfn)) + 8n;
  const lru = reserved ? [self, self] : [LIST_POISON1, LIST_POISON2];
  // A long-term pin adds GUP_PIN_COUNTING_BIAS (1024) references to the one the owner holds.
  const refcount = pinned ? 1025n : 1n;
  const mapcount = pinned ? 0n : -1n;
  const countWord = (refcount << 32n) | (mapcount & 0xffffffffn);
  return [
    `page: refcount:${refcount} mapcount:${pinned ? 1 : 0} mapping:0000000000000000 index:0x0 pfn:0x${pfn.toString(16)}`,
    `flags: 0x${flags.toString(16)}(${names.join('|')})`,
    `raw: ${w(flags)} ${w(lru[0]!)} ${w(lru[1]!)} 0000000000000000`,
    `raw: 0000000000000000 0000000000000000 ${w(countWord)} 0000000000000000`,
    `page dumped because: ${reason}`,
  ];
}

/**
 * __dump_folio() of a slab's head page. struct slab overlays struct page:
 * slab_cache and slab_list where lru and mapping are, the freelist where
 * index is (so "index:" shows the first free object, 0 when the slab is
 * full), the counters (inuse, objects) in private, and the page type
 * (PGTY_slab) in _mapcount. A slab of order 1 is a large folio: the "head:"
 * line, and a hex dump of the folio's two struct pages. The kmem_cache and
 * list pointers point into the boot footprint, whose layout the model does
 * not know: they print as 0.
 */
function dumpSlabHead(k: Kernel, slab: Slab): string[] {
  const pfn = slab.pfn;
  const zone = pageZone(k, pfn)?.idx ?? 0;
  const large = slab.order > 0;
  let flags = BigInt(zone) << ZONES_PGSHIFT;
  const names: string[] = [];
  if (large) {
    flags |= 1n << PG_HEAD;
    names.push('head');
  }
  names.push('node=0', `zone=${zone}`);
  const cache = slab.cache;
  // Objects are handed out in address order from a fresh slab: the next free one follows those in use.
  const freelist =
    slab.inuse < cache.objects ? k.layout.va((BigInt(pfn) << 12n) + BigInt(slab.inuse * cache.size)) : 0n;
  const counters = BigInt(slab.inuse) | (BigInt(cache.objects) << 16n);
  const typeWord = (1n << 32n) | PGTY_SLAB;
  const raw = [
    `raw: ${w(flags)} ${w(0n)} ${w(0n)} ${w(0n)}`,
    `raw: ${w(freelist)} ${w(counters)} ${w(typeWord)} ${w(0n)}`,
  ];
  const lines = [
    `page: refcount:1 mapcount:0 mapping:0000000000000000 index:0x${freelist.toString(16)} pfn:0x${pfn.toString(16)}`,
  ];
  if (large)
    lines.push(`head: order:${slab.order} mapcount:0 entire_mapcount:0 nr_pages_mapped:0 pincount:0`);
  lines.push(`flags: 0x${flags.toString(16)}(${names.join('|')})`, `page_type: f5(slab)`, ...raw);
  if (large) {
    // The first tail page: order in _flags_1, compound_head, the folio's mapcounts (-1), nr_pages, a tail's counts.
    const tailFlags = (BigInt(zone) << ZONES_PGSHIFT) | BigInt(slab.order);
    const head = k.layout.pfnToPage(BigInt(pfn)) | 1n;
    lines.push(
      ...raw.map((l) => l.replace(/^raw:/, 'head:')),
      `head: ${w(tailFlags)} ${w(head)} ffffffffffffffff 0000000000000000`,
      `head: ${w(BigInt(2 ** slab.order))} 0000000000000000 00000000ffffffff 0000000000000000`,
    );
  }
  return lines;
}

/** dump_page(): the lines go to the kernel log at KERN_WARNING. */
export function dumpPage(k: Kernel, pfn: number, reason: string): void {
  for (const l of dumpPageLines(k, pfn, reason)) k.log.warn(l);
}
