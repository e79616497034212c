/**
 * mm/debug.c dump_page() for the pages the model can describe: what
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

const PG_RESERVED = 13n;
const NODES_PGSHIFT = 62n;
const ZONES_PGSHIFT = 60n;
/** list_del() poisons a page's lru when the buddy allocator hands the page out. */
const LIST_POISON1 = 0xdead000000000100n;
const LIST_POISON2 = 0xdead000000000122n;

const w = (v: bigint): string => v.toString(16).padStart(16, '0');

/** The lines dump_page(page, reason) logs for pfn. */
export function dumpPageLines(k: Kernel, pfn: number, reason: string): string[] {
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

/** dump_page(): the lines go to the kernel log at KERN_WARNING. */
export function dumpPage(k: Kernel, pfn: number, reason: string): void {
  for (const l of dumpPageLines(k, pfn, reason)) k.log.warn(l);
}
