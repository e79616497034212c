/**
 * A small virtual filesystem: what /proc, /sys and /sys/kernel/debug look
 * like to a process. Directories list their entries on demand from kernel
 * state; files have show/store handlers that return text or throw the
 * errno a real write(2) would return.
 */
import { EACCES, EINVAL, EIO, EISDIR, ELOOP, ENOENT, ENOTDIR, KernelError } from '../errno.js';

/**
 * The filesystem a file belongs to; it decides how a missing show or store
 * fails and what an empty write does:
 * - sysfs (kernfs): kernfs_fop_open() refuses to open for a method the
 *   attribute lacks (EACCES); sysfs_kf_write() returns 0 for a zero-length
 *   write without calling the store.
 * - debugfs: the proxy fops have only the real file's methods, so open
 *   succeeds and vfs_read()/vfs_write() answer EINVAL.
 * - procfs: root may open a read-only entry for writing; pde_write() answers
 *   EIO.
 */
export type FsKind = 'sysfs' | 'debugfs' | 'procfs';

interface FsRules {
  /** The errno of a read or write the file has no method for. */
  readonly missing: number;
  /** Whether that errno comes from open(2) rather than from the read or write. */
  readonly atOpen: boolean;
  /** Whether a write of no bytes returns before the store is called. */
  readonly emptyWriteSkipsStore: boolean;
}

const FS_RULES: Record<FsKind, FsRules> = {
  sysfs: { missing: EACCES, atOpen: true, emptyWriteSkipsStore: true },
  debugfs: { missing: EINVAL, atOpen: false, emptyWriteSkipsStore: false },
  procfs: { missing: EIO, atOpen: false, emptyWriteSkipsStore: false },
};

export interface FileNode {
  readonly kind: 'file';
  show?: () => string;
  /** The store handler: 0 (or the bytes taken) on success, -errno on failure, as sysfs's ->store. */
  store?: (data: string) => number;
  /** Where the file lives (sysfs when absent). */
  readonly fs?: FsKind;
}

export interface DirNode {
  readonly kind: 'dir';
  /** Entry names in the order the kernel would create them (callers sort). */
  list(): string[];
  get(name: string): VNode | undefined;
}

export interface LinkNode {
  readonly kind: 'link';
  /** The target, as readlink shows it (relative). */
  readonly target: string;
  /** What it resolves to. */
  resolve(): VNode | undefined;
}

export type VNode = FileNode | DirNode | LinkNode;

export function file(show?: () => string, store?: (data: string) => number, fs?: FsKind): FileNode {
  const f: { kind: 'file'; show?: () => string; store?: (d: string) => number; fs?: FsKind } = {
    kind: 'file',
  };
  if (show) f.show = show;
  if (store) f.store = store;
  if (fs) f.fs = fs;
  return f;
}

/** A directory with fixed entries (built once). */
export function staticDir(entries: Record<string, VNode>): DirNode {
  return {
    kind: 'dir',
    list: () => Object.keys(entries),
    get: (name) => entries[name],
  };
}

/** A directory whose entries come from a function each time it is read. */
export function dynamicDir(
  entries: () => Array<[string, VNode]> | Map<string, VNode>,
  lookup?: (name: string) => VNode | undefined,
): DirNode {
  return {
    kind: 'dir',
    list: () => [...(entries instanceof Function ? entries() : entries)].map(([n]) => n),
    get: (name) => {
      if (lookup) return lookup(name);
      for (const [n, v] of entries()) if (n === name) return v;
      return undefined;
    },
  };
}

export function link(target: string, resolve: () => VNode | undefined): LinkNode {
  return { kind: 'link', target, resolve };
}

function follow(n: VNode | undefined): VNode | undefined {
  let cur = n;
  for (let i = 0; cur && cur.kind === 'link' && i < 8; i++) cur = cur.resolve();
  return cur;
}

/** Symbolic links one lookup may follow (MAXSYMLINKS). */
const MAXSYMLINKS = 40;

/** Where a walk stands: the directories from the root down to the current one, and the node reached. */
interface Walk {
  dirs: DirNode[];
  node: VNode;
}

/**
 * What the kernel does on the way (fs/namei.c, fs/seq_file.c): a path
 * component looked up for the first time gets a dentry (and an inode when it
 * exists), an opened file gets its per-open state and read buffer. Each hook
 * returns 0 or -errno (ENOMEM when the allocation failed).
 */
export interface VfsHooks {
  /** d_alloc() for `path` (absolute, lexical) when not cached; `exists` says whether an inode goes with it. */
  dentry(path: string, exists: boolean): number;
  /** The open file's buffers while `text` is read: allocated, then released with the file. */
  read(f: FileNode, text: string): number;
}

export class Vfs {
  constructor(
    readonly root: DirNode,
    /** Set by the kernel that serves this tree (absent in plain tests). */
    public hooks?: VfsHooks,
  ) {}

  /**
   * Resolves an absolute path as path_lookupat() does: "." stays, ".." goes
   * to the parent (the root's parent is the root), links are followed
   * through their targets, and a trailing slash wants a directory.
   * Throws ENOENT, ENOTDIR or ELOOP.
   */
  lookup(path: string): VNode {
    if (!path.startsWith('/')) throw new KernelError(ENOENT);
    return this.walk([this.root], path, { links: 0 }, '').node;
  }

  /** Walks `path` from the directory `from` ends in (or the root, for an absolute path). */
  private walk(from: DirNode[], path: string, count: { links: number }, base: string): Walk {
    let dirs = path.startsWith('/') ? [this.root] : from.slice();
    // The lexical path of where the walk stands: the dentry cache's key.
    let at = path.startsWith('/') ? '' : base;
    let node: VNode = dirs[dirs.length - 1]!;
    for (const part of path.split('/')) {
      // Anything after a file name, even a slash, asks for a directory.
      if (node.kind !== 'dir') throw new KernelError(ENOTDIR);
      if (part === '' || part === '.') continue;
      if (part === '..') {
        if (dirs.length > 1) dirs.pop();
        node = dirs[dirs.length - 1]!;
        at = at.slice(0, Math.max(0, at.lastIndexOf('/')));
        continue;
      }
      const child = node.get(part);
      const dirAt = at;
      at = `${at}/${part}`;
      if (this.hooks) {
        const err = this.hooks.dentry(at, child !== undefined);
        if (err < 0) throw new KernelError(-err);
      }
      if (!child) throw new KernelError(ENOENT);
      const reached: Walk =
        child.kind === 'link' ? this.followLink(dirs, child, count, dirAt) : { dirs, node: child };
      dirs = reached.dirs;
      node = reached.node;
      if (node.kind === 'dir') dirs = [...dirs, node];
    }
    return { dirs: node.kind === 'dir' ? dirs.slice(0, -1) : dirs, node };
  }

  /**
   * A link resolves through its target text, relative to the directory it
   * sits in, so ".." after it leaves the target's directory; a target the
   * tree does not hold falls back to the link's own resolver.
   */
  private followLink(dirs: DirNode[], l: LinkNode, count: { links: number }, base: string): Walk {
    if (++count.links > MAXSYMLINKS) throw new KernelError(ELOOP);
    try {
      return this.walk(dirs, l.target, count, base);
    } catch (e) {
      if (!(e instanceof KernelError) || e.errno === ELOOP) throw e;
    }
    const node = follow(l);
    if (!node) throw new KernelError(ENOENT);
    return { dirs, node };
  }

  exists(path: string): boolean {
    try {
      this.lookup(path);
      return true;
    } catch {
      return false;
    }
  }

  /** open(2) of a file for reading or writing; the errors come from the path and the filesystem's open. */
  open(path: string, mode: 'r' | 'w'): FileNode {
    const n = this.lookup(path);
    if (n.kind !== 'file') throw new KernelError(n.kind === 'dir' ? EISDIR : ENOENT);
    const rules = FS_RULES[n.fs ?? 'sysfs'];
    if (rules.atOpen && !(mode === 'r' ? n.show : n.store)) throw new KernelError(rules.missing);
    return n;
  }

  /** read(2) of an open file: its whole content. */
  readOpen(f: FileNode): string {
    if (!f.show) throw new KernelError(FS_RULES[f.fs ?? 'sysfs'].missing);
    const text = f.show();
    if (this.hooks) {
      const err = this.hooks.read(f, text);
      if (err < 0) throw new KernelError(-err);
    }
    return text;
  }

  /** write(2) of an open file. */
  writeOpen(f: FileNode, data: string): void {
    const rules = FS_RULES[f.fs ?? 'sysfs'];
    if (!f.store) throw new KernelError(rules.missing);
    if (data === '' && rules.emptyWriteSkipsStore) return;
    // The system call is where a handler's -errno becomes a failed write(2).
    const ret = f.store(data);
    if (ret < 0) throw new KernelError(-ret);
  }

  read(path: string): string {
    return this.readOpen(this.open(path, 'r'));
  }

  /**
   * A link's resolver finding its target: the model's shortcut, not a lookup a
   * process makes, so it allocates nothing (the walk through the link's text does).
   */
  resolveQuietly(path: string): VNode {
    return this.quietly(() => this.lookup(path));
  }

  /** Runs `fn` as an observer outside the guest (--sysroot): its lookups and reads allocate nothing in the guest. */
  quietly<T>(fn: () => T): T {
    const hooks = this.hooks;
    this.hooks = undefined;
    try {
      return fn();
    } finally {
      this.hooks = hooks;
    }
  }

  write(path: string, data: string): void {
    this.writeOpen(this.open(path, 'w'), data);
  }

  /**
   * Entries of a directory, version-sorted as ls sorts them. With `stat`, each
   * entry is looked up as lstat(2) does (ls -F marking types), so it gets a dentry.
   */
  list(path: string, stat = false): Array<{ name: string; isDir: boolean; isLink: boolean }> {
    const n = this.lookup(path);
    if (n.kind !== 'dir') throw new KernelError(ENOTDIR);
    const names = n.list();
    if (stat && this.hooks) {
      const dir = path.replace(/\/+$/, '');
      for (const name of names) {
        const err = this.hooks.dentry(`${dir}/${name}`, true);
        if (err < 0) throw new KernelError(-err);
      }
    }
    return names
      .map((name) => {
        const child = n.get(name);
        const target = follow(child);
        return {
          name,
          isDir: target?.kind === 'dir' && child?.kind !== 'link',
          isLink: child?.kind === 'link',
        };
      })
      .sort((a, b) => versionCompare(a.name, b.name));
  }
}

/** strverscmp-like ordering: digit runs compare by value. */
export function versionCompare(a: string, b: string): number {
  const re = /(\d+|\D+)/g;
  const pa = a.match(re) ?? [];
  const pb = b.match(re) ?? [];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i]!;
    const y = pb[i]!;
    if (x === y) continue;
    const nx = /^\d/.test(x);
    const ny = /^\d/.test(y);
    if (nx && ny) {
      const d = Number(x) - Number(y);
      if (d !== 0) return d;
      return x.length - y.length;
    }
    return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}
