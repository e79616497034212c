/**
 * The generator: the next operation of a sequence, drawn from the sequence's
 * random stream and aimed at the machine as it now is (which blocks exist,
 * what was added, which allocations live), valid and invalid alike. Given the
 * same stream and the same machine it always draws the same operations.
 */
import type { FuzzRng } from './rng.js';
import type { FuzzMachine, LineOutcome } from './machine.js';
import type { AllocKind, AllocZone, FuzzOp, FuzzOpKind } from './ops.js';
import { hexll } from '../../kernel/lib/vsprintf.js';

const BLOCK = 0x8000000n;
const SUBSECTION = 0x200000n;
const GIB_BLOCKS = 8;

interface Range {
  start: bigint;
  size: bigint;
}

/** How often each kind of operation is drawn (ZONE_DEVICE ones only on a build that has them). */
const WEIGHTS: ReadonlyArray<readonly [FuzzOpKind | 'addBad' | 'removeBad', number]> = [
  ['add', 5],
  ['addBad', 1],
  ['remove', 3],
  ['removeBad', 1],
  ['state', 7],
  ['online', 2],
  ['alloc', 3],
  ['free', 2],
  ['race', 1],
];
const ZONE_DEVICE_WEIGHTS: ReadonlyArray<readonly [FuzzOpKind, number]> = [
  ['memremap', 2],
  ['memunmap', 1],
];

export class SequenceGenerator {
  /** Ranges added and not yet removed (pieces left by a partial remove stay). */
  private added: Range[] = [];
  private pgmaps: Range[] = [];
  private readonly weights: ReadonlyArray<readonly [FuzzOpKind | 'addBad' | 'removeBad', number]>;

  constructor(
    private readonly rng: FuzzRng,
    private readonly m: FuzzMachine,
    /** Memory blocks [first, end) of RAM the machine backs but did not boot with. */
    private readonly window: { first: number; end: number },
  ) {
    const zdev = m.system.kernel.profile.config.ZONE_DEVICE;
    this.weights = zdev ? [...WEIGHTS, ...ZONE_DEVICE_WEIGHTS] : WEIGHTS;
  }

  next(): FuzzOp {
    const r = this.rng;
    const what = r.weighted(this.weights);
    switch (what) {
      case 'add':
        return this.add();
      case 'addBad':
        return this.addBad();
      case 'remove':
        return this.added.length ? this.remove() : this.add();
      case 'removeBad':
        return this.removeBad();
      case 'state': {
        const block = this.block();
        const value = r.weighted([
          ['online', 2],
          ['online_kernel', 1],
          ['online_movable', 3],
          ['offline', 4],
        ] as const);
        return { kind: 'state', block, value };
      }
      case 'online':
        return { kind: 'online', block: this.block(), value: r.bool() ? 1 : 0 };
      case 'alloc':
        return this.alloc();
      case 'free': {
        const ids = this.m.allocationIds();
        if (r.bool(0.1)) return { kind: 'free', id: 'all' };
        if (!ids.length || r.bool(0.05)) return { kind: 'free', id: r.int(1, 999) };
        return { kind: 'free', id: r.pick(ids) };
      }
      case 'race':
        return this.race();
      case 'memremap':
        return this.memremap();
      case 'memunmap':
        if (!this.pgmaps.length || r.bool(0.1)) {
          const start = this.windowAddr() + BigInt(r.int(0, 63)) * SUBSECTION;
          return { kind: 'memunmap', start, size: SUBSECTION };
        }
        return { kind: 'memunmap', ...r.pick(this.pgmaps) };
    }
  }

  /** Keeps track of what the operation did, from its outcome. */
  observe(op: FuzzOp, out: LineOutcome): void {
    if (out.status !== 0) return;
    switch (op.kind) {
      case 'add':
        this.added.push({ start: op.start, size: op.size });
        break;
      case 'remove': {
        const end = op.start + op.size;
        this.added = this.added.flatMap((a) => {
          const aEnd = a.start + a.size;
          if (aEnd <= op.start || a.start >= end) return [a];
          const rest: Range[] = [];
          if (a.start < op.start) rest.push({ start: a.start, size: op.start - a.start });
          if (aEnd > end) rest.push({ start: end, size: aEnd - end });
          return rest;
        });
        break;
      }
      case 'memremap':
        this.pgmaps.push({ start: op.start, size: op.size });
        break;
      case 'memunmap':
        this.pgmaps = this.pgmaps.filter((p) => p.start !== op.start || p.size !== op.size);
        break;
      default:
        break;
    }
  }

  /**
   * Two or three kernel operations at once: hot(un)plug of a hot-added block, against vmalloc,
   * a ptdump read, a kpageflags read or set_memory_ro on that memory.
   */
  private race(): FuzzOp {
    const r = this.rng;
    const k = this.m.system.kernel;
    const pa = (id: number): string => hexll(BigInt(id) * BLOCK);
    const ids = [...k.memoryBlocks.keys()].filter((id) => id >= this.window.first && id < this.window.end);
    const v = `v${r.int(0, 9)}`;
    const candidates = ['ptdump', 'ptdump_nolock', `vmalloc ${v} ${r.int(1, 4)}; vfree ${v}`];
    for (const id of ids) {
      const online = k.memoryBlocks.get(id)!.state === 'online';
      if (online)
        candidates.push(
          `kpageflags ${pa(id)}`,
          `set_memory_ro ${hexll(BigInt(id) * BLOCK + 0x1000n)} 1`,
          `offline ${pa(id)} 128M`,
          `offline_and_remove_memory ${pa(id)} 128M`,
        );
      else candidates.push(`remove_memory ${pa(id)} 128M`, `online ${pa(id)} 128M`);
    }
    const n = r.bool(0.8) ? 2 : 3;
    const ops = Array.from({ length: n }, () => r.pick(candidates));
    return { kind: 'race', seed: r.int(1, 1_000_000), ops };
  }

  private windowAddr(): bigint {
    return BigInt(this.rng.int(this.window.first, this.window.end - 1)) * BLOCK;
  }

  /** A hot-added block mostly; now and then any block, boot memory included. */
  private block(): number {
    const r = this.rng;
    const ids = [...this.m.system.kernel.memoryBlocks.keys()].sort((a, b) => a - b);
    const hot = ids.filter((id) => id >= this.window.first && id < this.window.end);
    if (hot.length && !r.bool(0.15)) return r.pick(hot);
    return ids.length ? r.pick(ids) : this.window.first;
  }

  private add(): FuzzOp {
    const r = this.rng;
    const { first, end } = this.window;
    let b = r.int(first, end - 1);
    // 1 GiB-aligned gigabytes get 1 GiB leaves in the linear map: what partial removal cuts.
    if (r.bool(0.3)) b = Math.max(first, b - (b % GIB_BLOCKS));
    const n = Math.min(r.pick([1, 1, 2, 3, 4, 8, 8, 16]), end - b);
    const how = r.weighted([
      ['add', 5],
      ['add_memmap', 3],
      ['add_driver_managed', 2],
    ] as const);
    return { kind: 'add', how, start: BigInt(b) * BLOCK, size: BigInt(n) * BLOCK };
  }

  /** Arguments add_memory() refuses with an errno (never unbacked memory: onlining that would kill the guest). */
  private addBad(): FuzzOp {
    const r = this.rng;
    const base = this.windowAddr();
    const bad: Range[] = [
      { start: base + 0x100000n, size: BLOCK },
      { start: base, size: 0x100000n },
      { start: base, size: 0n },
      { start: base, size: BLOCK + BLOCK / 2n },
      { start: 0x80000000n, size: BLOCK },
      { start: 1n << 56n, size: BLOCK },
    ];
    if (this.added.length) bad.push(r.pick(this.added));
    return { kind: 'add', how: r.bool() ? 'add' : 'add_memmap', ...r.pick(bad) };
  }

  private remove(): FuzzOp {
    const r = this.rng;
    const how = r.bool() ? 'remove' : 'offline_and_remove';
    const a = r.pick(this.added);
    const blocks = Number(a.size / BLOCK);
    if (blocks > 1 && r.bool(0.25)) {
      // A part of what was added: on riscv 6.12 this cuts 1 GiB leaves (finding F1).
      const from = r.int(0, blocks - 1);
      const n = r.int(1, blocks - from);
      return { kind: 'remove', how, start: a.start + BigInt(from) * BLOCK, size: BigInt(n) * BLOCK };
    }
    return { kind: 'remove', how, start: a.start, size: a.size };
  }

  /**
   * Removals that fail: boot memory (online), a misaligned offline_and_remove_memory. A misaligned
   * remove_memory() is left out: it is a BUG_ON the test driver does not guard against.
   */
  private removeBad(): FuzzOp {
    const r = this.rng;
    const base = this.windowAddr();
    const choice = r.int(0, 2);
    if (choice === 0)
      return {
        kind: 'remove',
        how: r.bool() ? 'remove' : 'offline_and_remove',
        start: 0x80000000n,
        size: BLOCK,
      };
    if (choice === 1)
      return { kind: 'remove', how: 'offline_and_remove', start: base + 0x100000n, size: BLOCK };
    return { kind: 'remove', how: 'offline_and_remove', start: base, size: 0n };
  }

  private alloc(): FuzzOp {
    const r = this.rng;
    const type: AllocKind = r.weighted([
      ['movable', 3],
      ['pinned', 2],
      ['unmovable', 2],
    ] as const);
    // Up to 16 MiB, mostly at most 1 MiB: a few pages are enough to pin a hot-added block, and the
    // command allocates and tags page by page (and the checker reads every tag after each step).
    const pages = r.pick([1, 16, 64, 256, 256, 1024, 1024, 4096]);
    if (r.bool(0.7)) return { kind: 'alloc', type, pages };
    // A zone: mostly one the kind may use; now and then one it may not (the command refuses).
    const ok: AllocZone[] = type === 'movable' ? ['Movable', 'Normal'] : ['Normal', 'DMA32'];
    const zone: AllocZone = r.bool(0.1) ? 'Movable' : r.pick(ok);
    return { kind: 'alloc', type, pages, zone };
  }

  private memremap(): FuzzOp {
    const r = this.rng;
    const start = this.windowAddr() + BigInt(r.int(0, 63)) * SUBSECTION;
    const size = BigInt(r.pick([1, 1, 2, 5, 64, 100])) * SUBSECTION;
    return { kind: 'memremap', altmap: r.bool(0.3), start, size };
  }
}
