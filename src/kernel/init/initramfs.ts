/** init/initramfs.c: populate_rootfs() gives the initrd's pages back when it is done with them. */
import type { Kernel } from '../kernel.js';
import { adjustManagedPageCount } from '../mm/page_alloc.js';

const PAGE = 4096;

/** free_initrd_mem(): the initrd's pages join the buddy allocator. */
export function freeInitrd(k: Kernel, start: number, size: number): void {
  if (size <= 0) return;
  const s = Math.ceil(start / PAGE);
  const e = Math.floor((start + size) / PAGE);
  let freed = 0;
  for (let p = s; p < e; p++) {
    if (!k.bootReserved.isFree(p)) continue;
    k.bootReserved.remove(p, p + 1);
    const zone = k.pgdat.zoneOf(p)!;
    zone.free.add(p, p + 1);
    adjustManagedPageCount(k, zone, 1);
    freed++;
  }
  k.log.info(`Freeing initrd memory: ${freed * 4}K`);
}
