/** fs/dcache.c and fs/inode.c at boot: the dentry and inode hash tables (alloc_large_system_hash). */
import type { Kernel } from '../kernel.js';
import { roundupPowOfTwo } from '../lib/log2.js';

const PAGE = 4096;
const SMP_CACHE_BYTES = 64;

/** vfs_caches_init_early(): the dentry and inode hash tables, sized from the free pages. */
export function vfsCachesInitEarly(k: Kernel): void {
  const mb = k.memblock;
  let nrKernel = 0;
  for (const [s, e] of mb.freeRangesReverse())
    nrKernel += Math.max(0, Math.floor(e / PAGE) - Math.ceil(s / PAGE));
  const nk = Math.ceil(nrKernel / 256) * 256;
  let scD = 13;
  let scI = 14;
  for (let a = 1 << 24; a < nk; a *= 4) {
    scD++;
    scI++;
  }
  const dent = Math.max(roundupPowOfTwo(Math.floor(nk / 2 ** (scD - 12))), 512);
  const inod = Math.max(roundupPowOfTwo(Math.floor(nk / 2 ** (scI - 12))), 512);
  mb.alloc(dent * 8, SMP_CACHE_BYTES);
  mb.alloc(inod * 8, SMP_CACHE_BYTES);
  const order = (bytes: number): number => Math.max(0, Math.ceil(Math.log2(bytes / PAGE)));
  k.log.info(
    `Dentry cache hash table entries: ${dent} (order: ${order(dent * 8)}, ${dent * 8} bytes, linear)`,
  );
  k.log.info(
    `Inode-cache hash table entries: ${inod} (order: ${order(inod * 8)}, ${inod * 8} bytes, linear)`,
  );
}
