/**
 * The fuzzer's operations, each exactly one guest-shell line that
 * `riscv-hotplug run` understands: the test driver's debugfs files for
 * add_memory / remove_memory / memremap_pages, a memory block's `state` and
 * `online` files, and the model's `workload` command. A failing sequence is
 * therefore already a replayable script.
 */

import { hexll } from '../../kernel/lib/vsprintf.js';

/** The test driver's START SIZE files (shared/oracle/kernel/hotplug_oracle.c). */
export type AddHow = 'add' | 'add_memmap' | 'add_driver_managed';
export type RemoveHow = 'remove' | 'offline_and_remove';
export type StateValue = 'online' | 'online_kernel' | 'online_movable' | 'offline';
export type AllocKind = 'movable' | 'pinned' | 'unmovable';
export type AllocZone = 'DMA32' | 'Normal' | 'Movable';

export type FuzzOp =
  | { kind: 'add'; how: AddHow; start: bigint; size: bigint }
  | { kind: 'remove'; how: RemoveHow; start: bigint; size: bigint }
  | { kind: 'state'; block: number; value: StateValue }
  /** The older `online` file: 1 onlines with the default zone, 0 offlines. */
  | { kind: 'online'; block: number; value: 0 | 1 }
  | { kind: 'alloc'; type: AllocKind; pages: number; zone?: AllocZone }
  | { kind: 'free'; id: number | 'all' }
  /** ZONE_DEVICE build only: memremap_pages() of a generic pgmap, optionally with its memmap in an altmap. */
  | { kind: 'memremap'; altmap: boolean; start: bigint; size: bigint }
  | { kind: 'memunmap'; start: bigint; size: bigint }
  /** Kernel operations at once on CPUs 0, 1, ... (the guest shell's `race`, docs/concurrency.md). */
  | { kind: 'race'; seed: number; ops: string[] };

export type FuzzOpKind = FuzzOp['kind'];

const ORACLE = '/sys/kernel/debug/hotplug_oracle';
const MEMORY = '/sys/devices/system/memory';

/** workload's SIZE for a page count: the largest unit that divides it. */
function sizeText(pages: number): string {
  const kib = pages * 4;
  if (kib % (1 << 20) === 0) return `${kib >> 20}G`;
  if (kib % 1024 === 0) return `${kib >> 10}M`;
  return `${kib}K`;
}

/** The script line that performs `op`. */
export function opLine(op: FuzzOp): string {
  switch (op.kind) {
    case 'add':
    case 'remove':
      return `echo ${hexll(op.start)} ${hexll(op.size)} > ${ORACLE}/${op.how}`;
    case 'memremap':
      return `echo ${hexll(op.start)} ${hexll(op.size)} > ${ORACLE}/${op.altmap ? 'memremap_altmap' : 'memremap'}`;
    case 'memunmap':
      return `echo ${hexll(op.start)} ${hexll(op.size)} > ${ORACLE}/memunmap`;
    case 'state':
      return `echo ${op.value} > ${MEMORY}/memory${op.block}/state`;
    case 'online':
      return `echo ${op.value} > ${MEMORY}/memory${op.block}/online`;
    case 'alloc':
      return `workload alloc ${op.type} ${sizeText(op.pages)}${op.zone ? ` zone=${op.zone}` : ''}`;
    case 'free':
      return `workload free ${op.id}`;
    case 'race':
      return `race --seed ${op.seed} ${op.ops.map((o) => `'${o}'`).join(' ')}`;
  }
}

const BLOCK = 0x8000000n;
const SUBSECTION = 0x200000n;

/**
 * Simpler forms of `op`, simplest first, for the shrinker: fewer bytes, fewer pages, the plain
 * variant of a file or command. Each is strictly simpler (a finite descent), so shrinking ends.
 */
export function simplerOps(op: FuzzOp): FuzzOp[] {
  const out: FuzzOp[] = [];
  switch (op.kind) {
    case 'add':
      if (op.how !== 'add') out.push({ ...op, how: 'add' });
      for (const size of smallerSizes(op.size, BLOCK)) out.push({ ...op, size });
      break;
    case 'remove':
      if (op.how !== 'remove') out.push({ ...op, how: 'remove' });
      for (const size of smallerSizes(op.size, BLOCK)) out.push({ ...op, size });
      break;
    case 'memremap':
      if (op.altmap) out.push({ ...op, altmap: false });
      for (const size of smallerSizes(op.size, SUBSECTION)) out.push({ ...op, size });
      break;
    case 'memunmap':
      break;
    case 'state':
      if (op.value === 'online_kernel' || op.value === 'online_movable') out.push({ ...op, value: 'online' });
      break;
    case 'online':
      out.push({ kind: 'state', block: op.block, value: op.value === 1 ? 'online' : 'offline' });
      break;
    case 'alloc':
      if (op.zone !== undefined) out.push({ kind: 'alloc', type: op.type, pages: op.pages });
      if (op.type !== 'movable') out.push({ ...op, type: 'movable' });
      for (const pages of [1, Math.floor(op.pages / 2)])
        if (pages >= 1 && pages < op.pages) out.push({ ...op, pages });
      break;
    case 'free':
      break;
    case 'race':
      // A hot(un)plug command alone (no race at all), then fewer actors, then the plainest seed.
      for (const o of op.ops) {
        const plain = plainOp(o);
        if (plain) out.push(plain);
      }
      if (op.ops.length > 2)
        for (let i = 0; i < op.ops.length; i++) out.push({ ...op, ops: op.ops.filter((_, j) => j !== i) });
      if (op.seed !== 1) out.push({ ...op, seed: 1 });
      break;
  }
  return out;
}

/** The plain fuzz operation a race's hot(un)plug command is, if it is one. */
function plainOp(cmd: string): FuzzOp | undefined {
  const m = /^(remove_memory|offline_and_remove_memory|online|offline) (0x[0-9a-f]+) 128M$/.exec(cmd);
  if (!m) return undefined;
  const start = BigInt(m[2]!);
  if (m[1] === 'remove_memory') return { kind: 'remove', how: 'remove', start, size: BLOCK };
  if (m[1] === 'offline_and_remove_memory')
    return { kind: 'remove', how: 'offline_and_remove', start, size: BLOCK };
  return { kind: 'state', block: Number(start / BLOCK), value: m[1] === 'online' ? 'online' : 'offline' };
}

/**
 * One unit, half, one unit less: smaller than `size` and still multiples of `unit` (a misaligned
 * size stays misaligned). With one unit less among them, a minimal size ends where it must.
 */
function smallerSizes(size: bigint, unit: bigint): bigint[] {
  if (size % unit !== 0n || size <= unit) return [];
  const out = new Set([unit, (size / 2n / unit) * unit, size - unit]);
  return [...out].filter((s) => s >= unit && s < size);
}

/** Ops as JSON (bigints as hex strings), for --json and the workers' messages. */
export function opToJson(op: FuzzOp): Record<string, string | number | boolean> {
  const o: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(op))
    if (v !== undefined) o[k] = typeof v === 'bigint' ? hexll(v) : (v as string | number | boolean);
  return o;
}
