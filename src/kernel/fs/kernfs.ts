/**
 * The slab objects behind sysfs and /proc (fs/kernfs, fs/dcache.c,
 * fs/seq_file.c): dentries and inodes of the paths a process looked up,
 * kept in the dentry cache; the per-open state and read buffer of a file,
 * released when the file is closed; the kernfs nodes of a device.
 */
import type { Kernel } from '../kernel.js';
import { ENOMEM } from '../errno.js';
import type { KObject, KmemCache } from '../mm/slub.js';
import type { FileNode, VfsHooks } from './vfs.js';

/** sizeof(struct kernfs_open_file): kmalloc-256. */
const KERNFS_OPEN_FILE_SIZE = 200;
/** seq_buf_alloc(): the first read buffer is a page; it doubles while the text overflows it. */
const SEQ_FIRST_BUFFER = 4096;

/** An allocation the kernel makes: the cache it comes from (kmalloc sizes resolved with kmallocCache). */
export type ObjectSpec = KmemCache;

/** Allocates one object of each cache in `specs`, or none (freeing those made) when one fails. */
export function allocObjects(k: Kernel, specs: readonly ObjectSpec[]): KObject[] | undefined {
  const out = new Array<KObject>(specs.length);
  for (let i = 0; i < specs.length; i++) {
    const o = k.slub.alloc(k, specs[i]!);
    if (!o) {
      freeObjects(k, out.slice(0, i));
      return undefined;
    }
    out[i] = o;
  }
  return out;
}

/** Frees objects, the last allocated first. */
export function freeObjects(k: Kernel, objs: readonly KObject[]): void {
  for (let i = objs.length - 1; i >= 0; i--) k.slub.free(k, objs[i]!);
}

/** Paths whose dentries come and go on demand: sysfs and procfs (debugfs and /dev pin theirs at creation). */
function onDemand(path: string): boolean {
  return (path.startsWith('/sys/') && !path.startsWith('/sys/kernel/debug/')) || path.startsWith('/proc/');
}

/** The dentry cache of the on-demand filesystems: each looked-up path's dentry (and inode). */
export class KernfsCache {
  private readonly cached = new Map<string, KObject[]>();
  /** Entries made at run time (not seeded): forget() has nothing to do while there are none. */
  private made = 0;

  get size(): number {
    return this.cached.size;
  }

  has(path: string): boolean {
    return this.cached.has(path);
  }

  /** Paths looked up before /init ran its script (its mount points): their objects are in the boot footprint. */
  seed(paths: readonly string[]): void {
    for (const p of paths) this.cached.set(p, []);
  }

  /**
   * lookup_slow() → d_alloc() and the filesystem's lookup: a dentry, and an inode
   * when the name exists (a missing one leaves a negative dentry). 0 or -ENOMEM.
   */
  lookup(k: Kernel, path: string, exists: boolean): number {
    if (!k.running || !onDemand(path) || this.cached.has(path)) return 0;
    const specs: ObjectSpec[] = [k.slub.cache('dentry')];
    if (exists) specs.push(k.slub.cache('inode_cache'));
    const objs = allocObjects(k, specs);
    if (!objs) return -ENOMEM;
    this.cached.set(path, objs);
    this.made++;
    return 0;
  }

  /**
   * The kernfs nodes under `path` were removed: their dentries and inodes go
   * (the model drops them at once rather than at the next lookup or shrink).
   */
  /** Whether any path was looked up at run time (else there is nothing to forget). */
  anyLookedUp(): boolean {
    return this.made > 0;
  }

  forget(k: Kernel, path: string): void {
    if (this.made === 0) return;
    const under = path + '/';
    // Deleting the entry being visited is safe while iterating a Map.
    for (const [p, objs] of this.cached) {
      if (p !== path && !p.startsWith(under)) continue;
      freeObjects(k, objs);
      this.cached.delete(p);
      if (objs.length) this.made--;
    }
  }
}

/**
 * Reading a file: open() allocates the kernfs_open_file (sysfs) and the
 * seq_file, read() the buffer (a page, doubled and reallocated while the text
 * does not fit, larger than 8 KiB from the page allocator), close() frees
 * them all. 0 or -ENOMEM.
 */
export function seqFileRead(k: Kernel, f: FileNode, text: string): number {
  if (!k.running) return 0;
  const held: KObject[] = [];
  const take = (o: KObject | undefined): boolean => {
    if (o) held.push(o);
    return o !== undefined;
  };
  let ok = true;
  if ((f.fs ?? 'sysfs') === 'sysfs') ok = take(k.slub.kmalloc(k, KERNFS_OPEN_FILE_SIZE));
  ok = ok && take(k.slub.alloc(k, k.slub.cache('seq_file')));
  let size = SEQ_FIRST_BUFFER;
  let buf = ok ? k.slub.kmalloc(k, size) : undefined;
  ok = ok && buf !== undefined;
  // seq_read_iter(): an overflowing buffer is freed before one twice its size is allocated.
  while (ok && buf && text.length >= size) {
    k.slub.free(k, buf);
    size *= 2;
    buf = k.slub.kmalloc(k, size);
    ok = buf !== undefined;
  }
  if (buf) held.push(buf);
  freeObjects(k, held);
  return ok ? 0 : -ENOMEM;
}

/** The VFS hooks of a kernel's file tree. */
export function kernelVfsHooks(k: Kernel): VfsHooks {
  return {
    dentry: (path, exists) => k.kernfs.lookup(k, path, exists),
    read: (f, text) => seqFileRead(k, f, text),
  };
}
