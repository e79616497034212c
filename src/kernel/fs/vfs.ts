/**
 * A small virtual filesystem: what /proc, /sys and /sys/kernel/debug look
 * like to a process. Directories list their entries on demand from kernel
 * state; files have show/store handlers that return text or throw the
 * errno a real write(2) would return.
 */
import { EACCES, EINVAL, EISDIR, ENOENT, ENOTDIR, KernelError } from '../errno.js';

export interface FileNode {
  readonly kind: 'file';
  show?: () => string;
  store?: (data: string) => void;
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

export function file(show?: () => string, store?: (data: string) => void): FileNode {
  const f: FileNode = { kind: 'file' };
  if (show) (f as { show?: () => string }).show = show;
  if (store) (f as { store?: (d: string) => void }).store = store;
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
export function dynamicDir(entries: () => Array<[string, VNode]> | Map<string, VNode>, lookup?: (name: string) => VNode | undefined): DirNode {
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

export class Vfs {
  constructor(readonly root: DirNode) {}

  /** Resolves an absolute path; throws ENOENT/ENOTDIR like open(2). */
  lookup(path: string): VNode {
    if (!path.startsWith('/')) throw new KernelError(ENOENT);
    let node: VNode | undefined = this.root;
    for (const part of path.split('/').filter((p) => p && p !== '.')) {
      node = follow(node);
      if (!node) throw new KernelError(ENOENT);
      if (node.kind !== 'dir') throw new KernelError(ENOTDIR);
      node = node.get(part);
    }
    node = follow(node);
    if (!node) throw new KernelError(ENOENT);
    return node;
  }

  exists(path: string): boolean {
    try {
      this.lookup(path);
      return true;
    } catch {
      return false;
    }
  }

  read(path: string): string {
    const n = this.lookup(path);
    if (n.kind === 'dir') throw new KernelError(EISDIR);
    if (n.kind !== 'file' || !n.show) throw new KernelError(n.kind === 'file' && n.store ? EACCES : EINVAL);
    return n.show();
  }

  write(path: string, data: string): void {
    const n = this.lookup(path);
    if (n.kind === 'dir') throw new KernelError(EISDIR);
    if (n.kind !== 'file' || !n.store) throw new KernelError(EACCES);
    n.store(data);
  }

  /** Entries of a directory, version-sorted as ls sorts them. */
  list(path: string): Array<{ name: string; isDir: boolean; isLink: boolean }> {
    const n = this.lookup(path);
    if (n.kind !== 'dir') throw new KernelError(ENOTDIR);
    return n
      .list()
      .map((name) => {
        const child = n.get(name);
        const target = follow(child);
        return { name, isDir: target?.kind === 'dir' && child?.kind !== 'link', isLink: child?.kind === 'link' };
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
