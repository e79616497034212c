/**
 * The whole state of a guest as text, for checking that a restored snapshot
 * is the machine it was: a deep walk of every object reachable from the
 * `GuestSystem` (written independently of the snapshot code, so one cannot
 * hide the other's mistakes), every physical frame's contents, and every
 * file under /sys and /proc as the guest reads it.
 *
 * Objects are numbered in the order the walk meets them, so two descriptions
 * are equal when the graphs have the same shape and the same values; what is
 * not state is left out (PhysMem's lookup cache, the contents of a TLB's
 * invalid ways, which nothing reads, the workload's last-section cache and
 * copy-on-write marks).
 */
import type { GuestSystem } from '../kernel/system.js';
import { PhysMem } from '../hw/physmem.js';
import { Tlb } from '../hw/tlb.js';
import { Workload } from '../kernel/mm/workload.js';
import type { VNode } from '../kernel/fs/vfs.js';

/** Functions are compared by identity (the same closure), numbered across calls. */
const functionIds = new WeakMap<object, number>();
let nextFunctionId = 1;

function fnId(f: object): number {
  let id = functionIds.get(f);
  if (id === undefined) {
    id = nextFunctionId++;
    functionIds.set(f, id);
  }
  return id;
}

/** FNV-1a over a typed array's bytes: equal contents, equal text (and a short line). */
function hashBytes(a: ArrayBufferView): string {
  const b = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i]!, 0x01000193) >>> 0;
  return `${b.length}:${h.toString(16)}`;
}

/** One line per object reachable from the system (and the frames of physical memory). */
export function describeObjects(g: GuestSystem): string[] {
  const ids = new Map<object, number>();
  const lines: string[] = [];
  const queue: object[] = [];
  const ref = (v: unknown): string => {
    switch (typeof v) {
      case 'bigint':
        return `${v}n`;
      case 'string':
        return JSON.stringify(v);
      case 'function':
        return `fn${fnId(v)}`;
      case 'object': {
        if (v === null) return 'null';
        let id = ids.get(v);
        if (id === undefined) {
          id = ids.size;
          ids.set(v, id);
          queue.push(v);
        }
        return `#${id}`;
      }
      default:
        return String(v);
    }
  };
  ref(g);
  for (let q = 0; q < queue.length; q++) {
    const o = queue[q]!;
    const head = `#${q} ${(o as { constructor?: { name?: string } }).constructor?.name ?? 'null'}`;
    if (o instanceof PhysMem) lines.push(`${head} ${describePhysMem(o, ref)}`);
    else if (o instanceof Tlb) lines.push(`${head} ${describeTlb(o, ref)}`);
    else if (o instanceof Workload) lines.push(`${head} ${describeWorkload(o)}`);
    else if (ArrayBuffer.isView(o)) lines.push(`${head} ${hashBytes(o)}`);
    else if (o instanceof Map)
      lines.push(`${head} ${[...o].map(([k, v]) => `${ref(k)}=>${ref(v)}`).join(' ')}`);
    else if (o instanceof Set) lines.push(`${head} ${[...o].map(ref).join(' ')}`);
    else if (Array.isArray(o)) lines.push(`${head} [${o.map(ref).join(' ')}]`);
    else
      lines.push(
        `${head} ${Object.keys(o)
          .map((k) => `${k}=${ref((o as Record<string, unknown>)[k])}`)
          .join(' ')}`,
      );
  }
  return lines;
}

function describePhysMem(m: PhysMem, ref: (v: unknown) => string): string {
  const pfns = [...m.writtenPfns()].sort((a, b) => a - b);
  const frames = pfns.map((p) => `${p.toString(16)}:${hashBytes(m.read(p))}`);
  return `regions=${m.regions.map(ref).join(',')} frames=${frames.join(' ')}`;
}

function describeWorkload(w: Workload): string {
  const pages: string[] = [];
  w.forEachPage((pfn, kind, tag) => pages.push(`${pfn.toString(16)}:${kind}:${tag}`));
  const c = w as unknown as Record<string, number>;
  return `nextTag=${c.nextTag} movable=${w.movablePages} unmovable=${w.unmovablePages} pinned=${w.pinnedPages} pages=${pages.join(' ')}`;
}

function describeTlb(t: Tlb, ref: (v: unknown) => string): string {
  const priv = t as unknown as Record<string, unknown>;
  return [
    `hits=${t.hits} misses=${t.misses} flushes=${t.flushes} fills=${t.fills} evictions=${t.evictions}`,
    `victim=${hashBytes(priv.victim as Uint8Array)} classes=${hashBytes(priv.classCount as Int32Array)}`,
    `entries=${JSON.stringify(t.entries())} scratch=${ref(priv.scratch)}`,
  ].join(' ');
}

/** Every file under `roots` with what reading it gives (or the error), links as their targets. */
export function describeFiles(g: GuestSystem, roots: readonly string[] = ['/sys', '/proc']): string[] {
  const out: string[] = [];
  const visit = (path: string, n: VNode): void => {
    if (n.kind === 'link') out.push(`${path} -> ${n.target}`);
    else if (n.kind === 'file') {
      let text: string;
      try {
        text = n.show ? n.show() : '(no read)';
      } catch (e) {
        text = `(error ${e instanceof Error ? e.message : String(e)})`;
      }
      out.push(`${path}: ${text}`);
    } else {
      for (const name of n.list()) {
        const child = n.get(name);
        if (child) visit(`${path}/${name}`, child);
      }
    }
  };
  for (const r of roots) visit(r, g.vfs.lookup(r));
  return out;
}
