/**
 * mm/slub.c as the recorded kernel is built (CONFIG_SLUB_TINY): the kernel's
 * small run-time objects (kernfs nodes, dentries, inodes, memory_block
 * structs, seq_file buffers) live in slabs, and a slab is a block of pages
 * taken from the buddy allocator as an unmovable allocation. Those pages are
 * why offlining a block of ZONE_NORMAL can fail with EBUSY.
 *
 * The rules the model follows (docs/kernel-allocations.md):
 * - a cache's slab order comes from calculate_order(): at most order 1 with
 *   SLUB_TINY, and the minimum number of objects grows with the CPU count;
 * - SLUB_TINY has no per-CPU slabs and min_partial 0: an allocation takes the
 *   first slab of the node's partial list, else a new slab (put at the head
 *   of the list when it has room left); a slab that becomes empty goes back
 *   to the page allocator at once;
 * - kmalloc() above KMALLOC_MAX_CACHE_SIZE (8 KiB) takes pages directly
 *   (kmalloc_large), which are not slab pages.
 */
import type { Kernel } from '../kernel.js';
import { allocPages, freePages } from './page_alloc.js';
import { fls } from '../lib/log2.js';

const PAGE_SIZE = 4096;
/** slub_max_order: SLUB_TINY keeps slabs to order 1. */
export const SLUB_MAX_ORDER = 1;
/** KMALLOC_SHIFT_HIGH = PAGE_SHIFT + 1 with SLUB_TINY: the largest kmalloc cache is 8 KiB. */
export const KMALLOC_MAX_CACHE_SIZE = 8192;
const MAX_OBJS_PER_PAGE = 32767;
/** The kmalloc size classes (kmalloc_info[]): powers of two plus 96 and 192. */
const KMALLOC_SIZES = [8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192];

/** One slab: 2^order pages holding `objects` objects of one cache. */
export interface Slab {
  readonly pfn: number;
  readonly order: number;
  readonly cache: KmemCache;
  inuse: number;
  /** Whether the slab is on its node's partial list (some objects free, some used). */
  onPartial: boolean;
}

/** Pages kmalloc_large() handed out. */
export interface LargeKmalloc {
  readonly largePfn: number;
  readonly order: number;
}

/**
 * A live object, as kfree() finds what it belongs to: its slab (the object
 * itself needs no record: a slab counts its objects), or its kmalloc_large pages.
 */
export type KObject = Slab | LargeKmalloc;

/** get_order(size): the smallest order whose pages hold size bytes. */
export function getOrder(size: number): number {
  let order = 0;
  while (PAGE_SIZE << order < size) order++;
  return order;
}

function orderObjects(order: number, size: number): number {
  return Math.floor((PAGE_SIZE << order) / size);
}

/** calc_slab_order(): the smallest order in [minOrder, maxOrder] wasting at most 1/fraction. */
function calcSlabOrder(size: number, minOrder: number, maxOrder: number, fraction: number): number {
  let order = minOrder;
  for (; order <= maxOrder; order++) {
    const slabSize = PAGE_SIZE << order;
    if (slabSize % size <= slabSize / fraction) break;
  }
  return order;
}

/**
 * calculate_order(size) for a machine with `nrCpus` present CPUs: min_objects is
 * 4 * (fls(nr_cpus) + 1), capped by what fits in an order-1 slab.
 */
export function calculateOrder(size: number, nrCpus: number): number {
  let minObjects = 4 * (fls(nrCpus <= 1 ? 1 : nrCpus) + 1);
  const maxObjects = Math.max(orderObjects(SLUB_MAX_ORDER, size), 1);
  minObjects = Math.min(minObjects, maxObjects);
  const minOrder = getOrder(minObjects * size);
  if (orderObjects(minOrder, size) > MAX_OBJS_PER_PAGE) return getOrder(size * MAX_OBJS_PER_PAGE) - 1;
  for (let fraction = 16; fraction > 1; fraction /= 2) {
    const order = calcSlabOrder(size, minOrder, SLUB_MAX_ORDER, fraction);
    if (order <= SLUB_MAX_ORDER) return order;
  }
  return getOrder(size);
}

export class KmemCache {
  readonly order: number;
  readonly objects: number;
  /** The node's partial list, head first. */
  readonly partial: Slab[] = [];
  /** Slabs of this cache, partial or full. */
  nrSlabs = 0;
  /** Objects in use. */
  nrObjects = 0;

  constructor(
    readonly name: string,
    /** s->size: the object size with its alignment. */
    readonly size: number,
    nrCpus: number,
  ) {
    this.order = calculateOrder(size, nrCpus);
    this.objects = orderObjects(this.order, size);
  }
}

/** The named caches the model's run-time objects come from, with sizeof() on riscv64 (docs/kernel-allocations.md). */
export const CACHE_SIZES = {
  /** struct kernfs_node: 136 bytes; SLAB_PANIC only, and no cache of 136..143 bytes to merge with. */
  kernfs_node_cache: 136,
  /** struct dentry: 192 bytes. */
  dentry: 192,
  /** struct inode: about 600 bytes in this configuration; 13 fit an order-1 slab. */
  inode_cache: 600,
  /** struct seq_file: 120 bytes, rounded to the 8-byte alignment. */
  seq_file: 120,
} as const;
export type NamedCache = keyof typeof CACHE_SIZES;

export class Slub {
  readonly caches = new Map<string, KmemCache>();
  private readonly kmallocCaches: KmemCache[] = [];
  /** Each slab's head pfn -> the slab (a tail page finds its head: slabs are at most order 1). */
  private readonly slabPages = new Map<number, Slab>();
  /** kmalloc_large() head pfns -> order. */
  private readonly largePages = new Map<number, number>();
  /**
   * Pages in slabs (NR_SLAB_UNRECLAIMABLE_B, in pages). SLUB_TINY defines
   * SLAB_RECLAIM_ACCOUNT away, so the dentry and inode caches are unreclaimable
   * and their pages unmovable like every other slab's.
   */
  unreclaimablePages = 0;

  constructor(nrCpus: number) {
    for (const size of KMALLOC_SIZES) {
      const c = new KmemCache(`kmalloc-${size >= 1024 ? `${size / 1024}k` : size}`, size, nrCpus);
      this.caches.set(c.name, c);
      this.kmallocCaches.push(c);
    }
    for (const [name, size] of Object.entries(CACHE_SIZES) as Array<[NamedCache, number]>)
      this.caches.set(name, new KmemCache(name, size, nrCpus));
  }

  cache(name: NamedCache): KmemCache {
    return this.caches.get(name)!;
  }

  /** kmalloc_slab(): the smallest kmalloc cache that holds size bytes. */
  kmallocCache(size: number): KmemCache | undefined {
    return this.kmallocCaches.find((c) => c.size >= size);
  }

  /** The slab a pfn belongs to, if it is a slab page. */
  slabOf(pfn: number): Slab | undefined {
    const head = this.slabPages.get(pfn);
    if (head) return head;
    const before = this.slabPages.get(pfn - 1);
    return before && before.order > 0 ? before : undefined;
  }

  /** The order of a kmalloc_large() allocation headed at pfn. */
  largeOrder(pfn: number): number | undefined {
    return this.largePages.get(pfn);
  }

  /** kmem_cache_alloc(): an object of the cache, or undefined when no page could be had (ENOMEM). */
  alloc(k: Kernel, cache: KmemCache): KObject | undefined {
    // get_partial(): the first slab of the partial list has room.
    const slab = cache.partial[0];
    if (slab) {
      slab.inuse++;
      cache.nrObjects++;
      if (slab.inuse === cache.objects) {
        cache.partial.shift();
        slab.onPartial = false;
      }
      return slab;
    }
    // new_slab(): pages of the cache's order from the page allocator (GFP_KERNEL: unmovable).
    const pfn = allocPages(k, cache.order, 'kernel');
    if (pfn === undefined) return undefined;
    const fresh: Slab = { pfn, order: cache.order, cache, inuse: 1, onPartial: false };
    this.slabPages.set(pfn, fresh);
    cache.nrSlabs++;
    cache.nrObjects++;
    this.unreclaimablePages += 2 ** cache.order;
    // alloc_single_from_new_slab(): a slab with room left goes to the head of the partial list.
    if (fresh.inuse < cache.objects) {
      cache.partial.unshift(fresh);
      fresh.onPartial = true;
    }
    return fresh;
  }

  /** kmalloc(size, GFP_KERNEL). */
  kmalloc(k: Kernel, size: number): KObject | undefined {
    const cache = this.kmallocCache(size);
    if (cache) return this.alloc(k, cache);
    // kmalloc_large(): whole pages, unmovable, no slab.
    const order = getOrder(size);
    const pfn = allocPages(k, order, 'kernel');
    if (pfn === undefined) return undefined;
    this.largePages.set(pfn, order);
    return { largePfn: pfn, order };
  }

  /** kfree() / kmem_cache_free(). */
  free(k: Kernel, obj: KObject): void {
    if ('largePfn' in obj) {
      this.largePages.delete(obj.largePfn);
      freePages(k, obj.largePfn, obj.order);
      return;
    }
    const slab = obj;
    const cache = slab.cache;
    slab.inuse--;
    cache.nrObjects--;
    if (slab.inuse === 0) {
      // __slab_free(): an empty slab is discarded when nr_partial >= min_partial, which is 0 here.
      // The slab emptied is most often the one last put on the list: search from the tail.
      if (slab.onPartial) cache.partial.splice(cache.partial.lastIndexOf(slab), 1);
      slab.onPartial = false;
      this.slabPages.delete(slab.pfn);
      cache.nrSlabs--;
      this.unreclaimablePages -= 2 ** slab.order;
      freePages(k, slab.pfn, slab.order);
      return;
    }
    // A full slab with a free object again joins the tail of the partial list.
    if (!slab.onPartial) {
      cache.partial.push(slab);
      slab.onPartial = true;
    }
  }

  /** Slab pages in [start, end): how many pfns of the range are slab pages. */
  pagesIn(start: number, end: number): number {
    let n = 0;
    for (const [pfn, slab] of this.slabPages)
      for (let i = 0; i < 2 ** slab.order; i++) if (pfn + i >= start && pfn + i < end) n++;
    return n;
  }
}
