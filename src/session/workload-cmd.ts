/**
 * The model's own guest commands for making memory busy, so that offline and
 * unplug have something to fail on, as they do on real machines:
 *
 *   memhog SIZE [zone=Z] [node=N]          movable user memory (like numactl's memhog, but kept)
 *   workload alloc KIND SIZE [zone=Z] [node=N]
 *       KIND: movable (user memory, migrated away on offline),
 *             pinned (user memory under a long-term pin, as VFIO and RDMA hold: never migrated),
 *             unmovable (kernel memory: slab, page tables, driver buffers)
 *   workload free ID|all
 *   workload list
 *
 * Pages come from the chosen zone (or the zonelist the allocation's GFP flags
 * give, as the kernel picks: movable memory from ZONE_MOVABLE first), one
 * page at a time through the buddy allocator, so fallback and pageblock
 * stealing shape where they land.
 */
import type { GuestSystem } from '../kernel/system.js';
import type { Kernel } from '../kernel/kernel.js';
import { ZONE_DMA32, ZONE_MOVABLE, ZONE_NORMAL, type Zone } from '../kernel/mm/zone.js';
import { allocPagesBulk, pageZone, zonelist } from '../kernel/mm/page_alloc.js';
import type { WorkloadKind } from '../kernel/mm/workload.js';
import type { CommandFn, CommandOut } from './shell.js';
import { ENOMEM } from '../kernel/errno.js';

export interface Allocation {
  id: number;
  kind: WorkloadKind;
  /** Tags of the allocation's pages: contiguous, so a page's tag names its allocation. */
  firstTag: number;
  pages: number;
  zoneName: string;
}

/** The allocations a session's commands made, by id. */
export class AllocationTable {
  private nextId = 1;
  readonly live = new Map<number, Allocation>();

  add(a: Omit<Allocation, 'id'>): Allocation {
    const full = { ...a, id: this.nextId++ };
    this.live.set(full.id, full);
    return full;
  }

  /** The allocation a workload page (by its tag) belongs to. */
  ownerOf(tag: number): Allocation | undefined {
    for (const a of this.live.values()) if (tag >= a.firstTag && tag < a.firstTag + a.pages) return a;
    return undefined;
  }
}

const tables = new WeakMap<GuestSystem, AllocationTable>();

export function allocationTable(system: GuestSystem): AllocationTable {
  let t = tables.get(system);
  if (!t) {
    t = new AllocationTable();
    tables.set(system, t);
  }
  return t;
}

/** A machine restored to before any allocation: its table starts empty again. */
export function forgetAllocations(system: GuestSystem): void {
  tables.delete(system);
}

const SIZE_SHIFT: Record<string, number> = { '': 0, k: 10, m: 20, g: 30, t: 40 };

/** SIZE as memhog takes it: bytes, or with a K/M/G/T suffix; whole pages (rounded up). */
export function parseSizePages(text: string): number | undefined {
  const m = /^(\d+)([kmgt]?)(?:i?b)?$/i.exec(text);
  if (!m) return undefined;
  const bytes = BigInt(m[1]!) << BigInt(SIZE_SHIFT[m[2]!.toLowerCase()]!);
  const pages = (bytes + 4095n) / 4096n;
  return pages > 0n && pages <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(pages) : undefined;
}

const ZONE_NAMES: Record<string, number> = { dma32: ZONE_DMA32, normal: ZONE_NORMAL, movable: ZONE_MOVABLE };

function mib(pages: number): string {
  const m = (pages * 4) / 1024;
  return Number.isInteger(m) ? `${m} MiB` : `${pages * 4} KiB`;
}

/**
 * `zone`, or the zonelist the GFP flags of `kind` give: GFP_HIGHUSER_MOVABLE reaches ZONE_MOVABLE;
 * GFP_KERNEL does not, and a long-term pin (FOLL_LONGTERM) migrates the page out of ZONE_MOVABLE
 * before pinning it.
 */
function zonelistFor(k: Kernel, kind: WorkloadKind, zone: Zone | undefined): Zone[] {
  return zone !== undefined ? [zone] : zonelist(k, kind === 'movable' ? 'movable' : 'kernel');
}

function alloc(system: GuestSystem, prog: string, kind: WorkloadKind, args: string[]): CommandOut {
  const k = system.kernel;
  const fail = (msg: string): CommandOut => ({ out: '', err: `${prog}: ${msg}\n`, status: 1 });
  let sizeText: string | undefined;
  let zone: Zone | undefined;
  for (const a of args) {
    const kv = /^(zone|node)=(.*)$/.exec(a);
    if (!kv) {
      if (sizeText !== undefined) return fail(`unexpected argument '${a}'`);
      sizeText = a;
      continue;
    }
    if (kv[1] === 'node') {
      if (kv[2] !== '0') return fail(`node ${kv[2]} has no memory (this machine has node 0 only)`);
      continue;
    }
    const idx = ZONE_NAMES[kv[2]!.toLowerCase()];
    if (idx === undefined) return fail(`unknown zone '${kv[2]}' (DMA32, Normal or Movable)`);
    zone = k.pgdat.zones[idx]!;
    if (idx === ZONE_MOVABLE && kind === 'unmovable')
      return fail('unmovable kernel memory never comes from ZONE_MOVABLE (GFP_KERNEL does not reach it)');
    if (idx === ZONE_MOVABLE && kind === 'pinned')
      return fail(
        'a long-term pin never stays in ZONE_MOVABLE: the kernel migrates the page out before pinning it',
      );
    if (!zone.isPopulated()) return fail(`zone ${zone.name} has no memory online`);
  }
  if (sizeText === undefined) return fail('missing SIZE (e.g. 64M)');
  const pages = parseSizePages(sizeText);
  if (pages === undefined) return fail(`invalid size '${sizeText}'`);
  // More than the zones hold can never succeed: say so before taking (and giving back) every free page.
  const candidates = zonelistFor(k, kind, zone);
  const available = candidates.reduce((n, c) => n + c.free.freePages, 0);
  if (pages > available)
    return {
      out: '',
      err: `${prog}: cannot allocate ${mib(pages)} of ${kind} memory${zone ? ` in ${zone.name}` : ''}: out of memory (${mib(available)} free there)\n`,
      status: 1,
      errno: ENOMEM,
    };
  const got: number[] = [];
  let firstTag = 0;
  try {
    allocPagesBulk(k, pages, candidates, kind === 'unmovable' ? 'unmovable' : 'movable', got);
  } finally {
    // Each page is the workload's once allocated, also when a later page's clear_page oopsed.
    for (let i = 0; i < got.length; i++) {
      const tag = k.workload.adopt(k, got[i]!, kind);
      if (i === 0) firstTag = tag;
    }
  }
  if (got.length < pages) {
    // Out of memory (or an injected failure): give back what was taken, as a failed mmap would.
    k.workload.releaseMany(k, got);
    return {
      out: '',
      err: `${prog}: cannot allocate ${mib(pages)} of ${kind} memory${zone ? ` in ${zone.name}` : ''}: out of memory after ${got.length} pages\n`,
      status: 1,
      errno: ENOMEM,
    };
  }
  const zones = new Set(got.map((p) => pageZone(k, p)?.name ?? '?'));
  const a = allocationTable(system).add({ kind, firstTag, pages, zoneName: [...zones].join('+') });
  const lo = got.reduce((m, p) => Math.min(m, p), Infinity);
  return {
    out: `${prog}: #${a.id} ${kind} ${mib(pages)}: ${pages} pages in ${a.zoneName} (from pfn 0x${lo.toString(16)})\n`,
    err: '',
    status: 0,
  };
}

function free(system: GuestSystem, which: string | undefined): CommandOut {
  const k = system.kernel;
  const t = allocationTable(system);
  if (which === undefined) return { out: '', err: 'workload: free: missing ID (or all)\n', status: 1 };
  const ids = which === 'all' ? [...t.live.keys()] : [Number(which.replace(/^#/, ''))];
  for (const id of ids) {
    if (!t.live.has(id)) return { out: '', err: `workload: free: no allocation #${which}\n`, status: 1 };
  }
  // A page's tag names its allocation: each allocation's pages carry a range of tags.
  const ranges = ids.map((id) => t.live.get(id)!).map((a) => [a.firstTag, a.firstTag + a.pages] as const);
  const going = k.workload.pagesTagged(ranges);
  k.workload.releaseMany(k, going);
  const n = going.length;
  for (const id of ids) t.live.delete(id);
  if (ids.length === 0) return { out: 'workload: nothing to free\n', err: '', status: 0 };
  return { out: `workload: freed ${ids.map((i) => `#${i}`).join(' ')} (${n} pages)\n`, err: '', status: 0 };
}

function list(system: GuestSystem): CommandOut {
  const t = allocationTable(system);
  const k = system.kernel;
  const where = new Map<number, Map<string, number>>();
  for (const p of k.workload.pages()) {
    const a = t.ownerOf(p.tag);
    if (!a) continue;
    const zn = pageZone(k, p.pfn)?.name ?? '?';
    const m = where.get(a.id) ?? new Map<string, number>();
    m.set(zn, (m.get(zn) ?? 0) + 1);
    where.set(a.id, m);
  }
  let out = 'ID   KIND       SIZE       ZONES\n';
  for (const a of t.live.values()) {
    const zones = [...(where.get(a.id) ?? new Map<string, number>()).entries()]
      .map(([z, c]) => `${z}:${c}`)
      .join(' ');
    out += `#${String(a.id).padEnd(3)} ${a.kind.padEnd(10)} ${mib(a.pages).padEnd(10)} ${zones}\n`;
  }
  return { out, err: '', status: 0 };
}

const USAGE =
  'usage: workload alloc movable|pinned|unmovable SIZE [zone=DMA32|Normal|Movable] [node=0]\n' +
  '       workload free ID|all\n' +
  '       workload list\n';

/** The workload commands for a session's shell. */
export function workloadCommands(system: GuestSystem): Record<string, CommandFn> {
  return {
    memhog: ({ args }) => alloc(system, 'memhog', 'movable', args),
    workload: ({ args }) => {
      const [sub, ...rest] = args;
      if (sub === 'alloc') {
        const kind = rest[0];
        if (kind !== 'movable' && kind !== 'pinned' && kind !== 'unmovable')
          return {
            out: '',
            err: `workload: alloc: KIND must be movable, pinned or unmovable\n${USAGE}`,
            status: 2,
          };
        return alloc(system, 'workload', kind, rest.slice(1));
      }
      if (sub === 'free') return free(system, rest[0]);
      if (sub === 'list') return list(system);
      return { out: '', err: USAGE, status: 2 };
    },
  };
}
