/**
 * Scenario files: the machine, the commands that prepare it, and the actors
 * that then run concurrently. The built-in scenarios are written in the same
 * format (builtins.ts); docs/concurrency.md describes it.
 *
 *   {
 *     "name": "pgd-sync",
 *     "summary": "…",
 *     "machine": { "memory": "2G", "append": "no4lvl", "smp": 2 },
 *     "setup": ["add_memory 0x100000000 128M"],
 *     "actors": [
 *       { "name": "hotadd", "cpu": 0, "op": "online 0x100000000 128M" },
 *       { "name": "hart1",  "cpu": 1, "hart": ["load linear:0x100000000 via p1"] }
 *     ]
 *   }
 */
import { qemuStrtosz } from '../../hw/monitor/qemu-size.js';
import type { Kernel } from '../../kernel/kernel.js';
import { addMemory, MHP_NONE, offlineAndRemoveMemory, removeMemory } from '../../kernel/mm/memory_hotplug.js';
import { findMemoryBlock, memoryBlockSizeBytes, stateStore } from '../../kernel/drivers/base/memory.js';
import { pfnToSectionNr } from '../../kernel/mm/mmzone.js';
import { EINVAL, ENOMEM } from '../../kernel/errno.js';
import { vmalloc, vfree, vmallocToPfn } from '../../kernel/mm/vmalloc.js';
import { setMemoryProt } from '../../kernel/arch/riscv/pageattr.js';
import { ptdumpShow } from '../../kernel/arch/riscv/ptdump.js';
import { pgdAlloc } from '../../kernel/mm/pgd.js';
import { kpageflagsRead } from '../../kernel/fs/proc_page.js';
import { PTE_A, PTE_D, PTE_R, PTE_V, PTE_W, pteHi, pteLo } from '../../hw/pte.js';
import type { Actor, StepAnnounce } from './actor.js';
import type { MachineSpec, World } from './world.js';
import { hexll } from '../../kernel/lib/vsprintf.js';

export interface ActorSpec {
  name: string;
  cpu: number;
  /** A kernel operation (one command), or */
  op?: string;
  /** a hart's program: one access per step. */
  hart?: string[];
}

export interface ScenarioSpec {
  name: string;
  summary: string;
  machine: { memory: string; append?: string; smp?: number };
  setup?: string[];
  actors: ActorSpec[];
}

/** A scenario file that cannot be used: the message says what and where. */
export class ScenarioError extends Error {}

function size(text: string | undefined, what: string): bigint {
  const r = qemuStrtosz(text ?? '', 'B');
  if (!r.ok || r.value === 0n) throw new ScenarioError(`${what}: '${text ?? ''}' is not a size (e.g. 128M)`);
  return r.value;
}

function address(text: string | undefined, what: string): bigint {
  if (text === undefined || !/^(0x[0-9a-f]+|\d+)$/i.test(text))
    throw new ScenarioError(`${what}: '${text ?? ''}' is not an address (e.g. 0x100000000)`);
  return BigInt(text);
}

export function machineOf(spec: ScenarioSpec): MachineSpec {
  const cpus = Math.max(1, ...spec.actors.map((a) => a.cpu + 1));
  return {
    ramBytes: size(spec.machine.memory, 'machine.memory'),
    append: spec.machine.append ?? '',
    smp: Math.max(spec.machine.smp ?? 1, cpus),
  };
}

/** Checks the shape of a parsed JSON scenario; throws ScenarioError naming the first problem. */
export function validateScenario(x: unknown): ScenarioSpec {
  const o = x as Partial<ScenarioSpec> | null;
  if (typeof o !== 'object' || o === null) throw new ScenarioError('a scenario is a JSON object');
  if (typeof o.name !== 'string' || o.name === '')
    throw new ScenarioError('"name" must be a non-empty string');
  if (typeof o.machine !== 'object' || o.machine === null || typeof o.machine.memory !== 'string')
    throw new ScenarioError('"machine" must be an object with "memory" (e.g. "2G")');
  if (o.setup !== undefined && (!Array.isArray(o.setup) || o.setup.some((c) => typeof c !== 'string')))
    throw new ScenarioError('"setup" must be a list of commands');
  if (!Array.isArray(o.actors) || o.actors.length === 0)
    throw new ScenarioError('"actors" must be a non-empty list');
  const names = new Set<string>();
  for (const a of o.actors as Array<Partial<ActorSpec>>) {
    if (typeof a.name !== 'string' || a.name === '') throw new ScenarioError('every actor needs a "name"');
    if (names.has(a.name)) throw new ScenarioError(`two actors are named ${a.name}`);
    names.add(a.name);
    if (!Number.isInteger(a.cpu) || a.cpu! < 0 || a.cpu! > 63)
      throw new ScenarioError(`actor ${a.name}: "cpu" must be an integer 0..63`);
    const isOp = typeof a.op === 'string';
    const isHart = Array.isArray(a.hart) && a.hart.every((s) => typeof s === 'string');
    if (isOp === isHart)
      throw new ScenarioError(`actor ${a.name}: give either "op" (a command) or "hart" (a list)`);
  }
  const ram = size(o.machine.memory, 'machine.memory');
  if (ram % (2n << 20n) !== 0n || ram < 64n << 20n || ram > 1n << 40n)
    throw new ScenarioError(`machine.memory: '${o.machine.memory}' must be 64M to 1T in whole 2 MiB`);
  // A hart that runs in a process's page tables needs a pgd_alloc of that process somewhere.
  const procs = new Set(
    [...(o.setup ?? []), ...(o.actors as ActorSpec[]).map((a) => a.op ?? '')]
      .flatMap((line) => line.split(';'))
      .map((c) => /^\s*pgd_alloc\s+(\S+)/.exec(c)?.[1])
      .filter((p): p is string => p !== undefined),
  );
  for (const a of o.actors as ActorSpec[]) {
    for (const line of a.hart ?? []) {
      const via = /\svia\s+(\S+)/.exec(line)?.[1];
      if (via !== undefined && !procs.has(via))
        throw new ScenarioError(`actor ${a.name}: '${line}': no 'pgd_alloc ${via}' creates that process`);
    }
  }
  return { summary: '', ...o } as ScenarioSpec;
}

function overlaps(r: { basePfn: number; pages: number }, basePfn: number, bytes: bigint): boolean {
  const end = basePfn + Number(bytes >> 12n);
  return basePfn < r.basePfn + r.pages && r.basePfn < end;
}

/** The blocks of [start, start + size). */
function blocksOf(k: Kernel, start: bigint, bytes: bigint): number {
  const bs = BigInt(memoryBlockSizeBytes());
  if (start % bs !== 0n || bytes % bs !== 0n) return -EINVAL;
  for (let pa = start; pa < start + bytes; pa += bs) {
    if (!findMemoryBlock(k, pfnToSectionNr(Number(pa >> 12n)))) return -EINVAL;
  }
  return 0;
}

function forBlocks(k: Kernel, start: bigint, bytes: bigint, state: string): number {
  const r = blocksOf(k, start, bytes);
  if (r) return r;
  const bs = BigInt(memoryBlockSizeBytes());
  for (let pa = start; pa < start + bytes; pa += bs) {
    const mem = findMemoryBlock(k, pfnToSectionNr(Number(pa >> 12n)))!;
    const ret = stateStore(k, mem, state);
    if (ret) return ret;
  }
  return 0;
}

/**
 * A kernel operation from a command line (commands separated by ';' run in order and stop at the
 * first error): a function returning 0 or -errno. The command is checked when compiled.
 */
export function compileOp(w: World, line: string): () => number {
  const parts = line
    .split(';')
    .map((c) => c.trim())
    .filter((c) => c !== '')
    .map((c) => compileOne(w, c));
  if (parts.length === 0) throw new ScenarioError(`empty command '${line}'`);
  return () => {
    for (const p of parts) {
      const r = p();
      if (r < 0) return r;
    }
    return 0;
  };
}

function compileOne(w: World, cmd: string): () => number {
  const [verb, ...args] = cmd.trim().split(/\s+/);
  const k = (): Kernel => w.k;
  const where = `command '${cmd}'`;
  switch (verb) {
    case 'add_memory': {
      const [s, n] = [address(args[0], where), size(args[1], where)];
      return () => {
        // The DIMM behind the range, as QEMU plugs it before the guest is told.
        const basePfn = Number(s >> 12n);
        const dimm = `dimm@${s.toString(16)}`;
        const plug = !w.k.mem.isBacked(basePfn) && w.k.mem.regions.every((r) => !overlaps(r, basePfn, n));
        if (plug) w.g.board.addRamRegion(dimm, basePfn, Number(n >> 12n));
        const ret = addMemory(k(), 0, s, n, MHP_NONE);
        // A refused add leaves no DIMM behind.
        if (ret < 0 && plug) w.g.board.removeRegion(dimm);
        return ret;
      };
    }
    case 'remove_memory':
    case 'offline_and_remove_memory': {
      const [s, n] = [address(args[0], where), size(args[1], where)];
      return () => {
        const ret = verb === 'remove_memory' ? removeMemory(k(), s, n) : offlineAndRemoveMemory(k(), s, n);
        const L = k().layout;
        if (ret === 0)
          w.removedMemmaps.push([
            Number(L.pfnToPage(s >> 12n) >> 12n),
            Number((L.pfnToPage((s + n) >> 12n) + 4095n) >> 12n),
          ]);
        return ret;
      };
    }
    case 'online':
    case 'offline': {
      const [s, n] = [address(args[0], where), size(args[1], where)];
      const type = verb === 'offline' ? 'offline' : (args[2] ?? 'online');
      if (!['offline', 'online', 'online_kernel', 'online_movable'].includes(type))
        throw new ScenarioError(`${where}: '${type}' is not an online type`);
      return () => forBlocks(k(), s, n, type);
    }
    case 'vmalloc': {
      const name = args[0];
      const pages = Number(args[1] ?? '1');
      if (!name || !Number.isInteger(pages) || pages < 1 || pages > 4096)
        throw new ScenarioError(`${where}: use 'vmalloc NAME PAGES' (1..4096 pages)`);
      return () => {
        const a = vmalloc(k(), pages);
        if (typeof a === 'number') return a;
        w.vmAreas.set(name, a);
        return 0;
      };
    }
    case 'vfree': {
      const name = args[0] ?? '';
      return () => {
        const a = w.vmAreas.get(name);
        if (!a) return -EINVAL;
        w.vmAreas.delete(name);
        vfree(k(), a);
        return 0;
      };
    }
    case 'set_memory_ro':
    case 'set_memory_rw':
    case 'set_memory_x':
    case 'set_memory_nx': {
      const pa = address(args[0], where);
      const pages = BigInt(args[1] ?? '1');
      const change = {
        set_memory_ro: { clearW: true },
        set_memory_rw: { setW: true },
        set_memory_x: { setX: true },
        set_memory_nx: { clearX: true },
      }[verb];
      return () => {
        // On the linear alias of pa, as a driver changing one of its pages would.
        const va = k().layout.va(pa);
        setMemoryProt(k(), va, va + pages * 4096n, change);
        return 0;
      };
    }
    case 'kpageflags': {
      const pfn = Number(address(args[0], where) >> 12n);
      return () => {
        kpageflagsRead(k(), pfn);
        return 0;
      };
    }
    case 'ptdump':
    case 'ptdump_nolock':
      return () => {
        ptdumpShow(k(), verb === 'ptdump_nolock');
        return 0;
      };
    case 'pgd_alloc': {
      const name = args[0];
      if (!name) throw new ScenarioError(`${where}: use 'pgd_alloc NAME'`);
      return () => {
        const pgd = pgdAlloc(k());
        if (pgd === undefined) return -ENOMEM;
        w.procs.set(name, pgd);
        return 0;
      };
    }
    case 'vmap_start_after_memmap': {
      // A layout where vmalloc's area begins right after the struct pages of [PA, PA + SIZE).
      const [s, n] = [address(args[0], where), size(args[1], where)];
      return () => {
        const L = w.k.layout;
        const endPfn = Number((s + n) >> 12n);
        w.k.vmap.startVpn = Number(L.pfnToPage(BigInt(endPfn)) >> 12n);
        return 0;
      };
    }
    default:
      throw new ScenarioError(
        `${where}: unknown command (add_memory, online, offline, remove_memory, offline_and_remove_memory, vmalloc, vfree, set_memory_ro/rw/x/nx, kpageflags, ptdump, ptdump_nolock, pgd_alloc, vmap_start_after_memmap)`,
      );
  }
}

/** Where a hart access goes: the VA, and the pfn the kernel expects behind it (undefined: no expectation). */
interface Target {
  va: () => bigint | undefined;
  expect: () => number | undefined;
  ready: () => boolean;
  text: string;
}

function target(w: World, spec: string, where: string): Target {
  const m = /^(linear|vmalloc):(.+)$/.exec(spec);
  if (!m) throw new ScenarioError(`${where}: '${spec}' is not linear:PA or vmalloc:NAME`);
  if (m[1] === 'linear') {
    const pa = address(m[2], where);
    const pfn = Number(pa >> 12n);
    return {
      va: () => w.k.layout.va(pa),
      expect: () => pfn,
      // Kernel code touches memory through the linear map only once it is online.
      ready: () => w.k.sparse.get(pfnToSectionNr(pfn))?.online === true,
      text: `the linear map of ${spec.slice(7)}`,
    };
  }
  const name = m[2]!;
  return {
    va: () => {
      const a = w.vmAreas.get(name);
      return a ? BigInt(a.startVpn) << 12n : undefined;
    },
    expect: () => w.vmAreas.get(name)?.pfns[0],
    ready: () => w.vmAreas.has(name),
    text: `vmalloc area ${name}`,
  };
}

/** A hart's program as steps: loads that must translate right, speculative walks, fences. */
function hartActor(w: World, a: ActorSpec): Actor {
  const program = a.hart!.map((line) => {
    const [verb, spec, via, proc] = line.trim().split(/\s+/);
    const where = `actor ${a.name}: '${line}'`;
    if (verb === 'fence') return { verb, line } as const;
    if (verb !== 'load' && verb !== 'store' && verb !== 'speculate')
      throw new ScenarioError(
        `${where}: a hart step is 'load TARGET [via PROC]', 'store TARGET [via PROC]', 'speculate TARGET' or 'fence'`,
      );
    if (via !== undefined && (via !== 'via' || !proc)) throw new ScenarioError(`${where}: use 'via PROCESS'`);
    return { verb, line, t: target(w, spec ?? '', where), proc } as const;
  });
  return {
    kind: 'steps',
    name: a.name,
    cpu: a.cpu,
    text: `hart ${a.cpu}`,
    *steps(): Generator<StepAnnounce, void, void> {
      for (const s of program) {
        const hart = w.g.board.harts[a.cpu]!;
        if (s.verb === 'fence') {
          yield { text: 'sfence.vma x0, x0' };
          hart.sfenceVma();
          continue;
        }
        const t = s.t;
        const proc = s.proc;
        const ready =
          s.verb === 'speculate'
            ? () => t.va() !== undefined
            : () => t.ready() && (proc === undefined || w.procs.has(proc));
        yield { text: `${s.verb} ${t.text}${proc ? ` in ${proc}'s page tables` : ''}`, ready };
        const va = t.va()!;
        const root = proc === undefined ? w.k.pt.rootPfn : w.procs.get(proc)!;
        hart.satp = { mode: hart.satp.mode, asid: proc === undefined ? 0 : 1, ppn: root };
        const r = hart.translate(va, s.verb === 'store' ? 'store' : 'load');
        const want = t.expect();
        noteStaleWalk(
          w,
          a.cpu,
          hart.lastWalk.ptePfns,
          hart.lastWalk.depth,
          r.ok && want !== undefined && r.ppn !== want,
        );
        if (s.verb === 'speculate') continue;
        if (!r.ok)
          w.pending = {
            invariant: 'kernel-access-translates',
            detail: `hart ${a.cpu}: ${t.text} (va ${hexll(va)}) faults (${r.cause}) though the kernel may use it${proc ? ` (through ${proc}'s page tables)` : ''}`,
          };
        else if (want !== undefined && r.ppn !== want)
          w.pending = {
            invariant: 'kernel-access-translates',
            detail: `hart ${a.cpu}: ${t.text} (va ${hexll(va)}) translates to pa ${hexll(BigInt(r.ppn) << 12n)}, not ${hexll(BigInt(want) << 12n)}${r.tlbHit ? ' (a stale TLB entry)' : ''}`,
          };
      }
    },
  };
}

/**
 * What a hart's walk shows that no invariant forbids but the report should say: it went through a
 * page that is no longer a page table (a walk-cache pointer kept past the free), and whether that
 * produced a translation the kernel never made.
 */
function noteStaleWalk(w: World, cpu: number, pfns: Float64Array, depth: number, wrong: boolean): void {
  for (let i = 1; i < depth; i++) {
    const pfn = pfns[i]!;
    if (pfn === 0 || w.k.pt.tablePages.has(pfn) || w.isProcessTable(pfn)) continue;
    w.notes.add(`hart ${cpu} walked through pfn 0x${pfn.toString(16)} after it was freed as a page table`);
    if (wrong) w.notes.add(`hart ${cpu} cached a translation the kernel never made (from the reused page)`);
  }
}

/**
 * The new owner of a freed page-table page writes it (the page went back to the buddy allocator
 * and was handed out again): words that read as 2 MiB leaves mapping `pa`.
 */
function reuseActor(w: World, a: ActorSpec, pa: bigint): Actor {
  return {
    kind: 'steps',
    name: a.name,
    cpu: a.cpu,
    text: `cpu ${a.cpu}: the next owner of a freed page-table page`,
    *steps(): Generator<StepAnnounce, void, void> {
      yield {
        text: 'write data that reads as leaf entries into the last freed page-table page',
        ready: () => w.freedTables.some((p) => !w.k.pt.tablePages.has(p)),
      };
      const page = [...w.freedTables].reverse().find((p) => !w.k.pt.tablePages.has(p))!;
      const pfn = Number(pa >> 12n);
      const lo = pteLo(pfn, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D);
      for (let i = 0; i < 512; i++) w.k.mem.write64(page, i, lo, pteHi(pfn));
    },
  };
}

/** The actors of a scenario, bound to a world. */
export function buildActors(w: World, actors: readonly ActorSpec[]): Actor[] {
  return actors.map((a): Actor => {
    if (a.hart) return hartActor(w, a);
    const cmd = a.op!.trim();
    const reuse = /^reuse_freed_table\s+(\S+)$/.exec(cmd);
    if (reuse) return reuseActor(w, a, address(reuse[1], `actor ${a.name}`));
    const run = compileOp(w, cmd);
    return { kind: 'op', name: a.name, cpu: a.cpu, text: cmd, run };
  });
}

export { vmallocToPfn };
