/**
 * Fault injection: make the N-th page allocation fail, run an operation, and
 * say what became of the model: the operation completed, failed cleanly
 * (the model is exactly as before), failed and left something behind (with
 * the difference), or hit a BUG() the real kernel would crash on.
 */
import type { FaultInjector } from '../kernel/kernel.js';
import type { GuestSystem } from '../kernel/system.js';
import { KernelBug } from '../kernel/errno.js';
import { kernelPageTables } from '../kernel/arch/riscv/ptdump.js';
import { formatIomem } from '../kernel/kernel/resource.js';
import { checkInvariants, type Violation } from './invariants.js';
import { devPagemaps } from '../kernel/mm/memremap.js';

/**
 * Fails the n-th page allocation (1-based) after it is armed; with
 * `fromThenOn`, every later one too (memory exhausted rather than a glitch).
 */
export class NthAllocationFails implements FaultInjector {
  count = 0;
  /** Whether an allocation was failed (the injection took effect). */
  fired = false;

  constructor(
    readonly n: number,
    readonly fromThenOn = false,
  ) {}

  shouldFailAlloc(what: 'page' | 'memblock'): boolean {
    if (what !== 'page') return false;
    this.count++;
    const fail = this.fromThenOn ? this.count >= this.n : this.count === this.n;
    if (fail) this.fired = true;
    return fail;
  }
}

/** Counts allocations without failing any. */
export class AllocationCounter implements FaultInjector {
  count = 0;

  shouldFailAlloc(what: 'page' | 'memblock'): boolean {
    if (what === 'page') this.count++;
    return false;
  }
}

/** Everything a failed operation must leave untouched, as text. */
export function snapshot(sys: GuestSystem): string {
  const k = sys.kernel;
  const parts: string[] = [];
  parts.push(kernelPageTables(k.pt, k.layout));
  parts.push(formatIomem(k.iomem));
  parts.push(
    [...k.memoryBlocks.values()]
      .sort((a, b) => a.id - b.id)
      .map((m) => `${m.id} ${m.state} ${m.zone?.name ?? '-'} ${m.devOffline}`)
      .join('\n'),
  );
  parts.push(
    k.sparse
      .all()
      .map(
        (s) =>
          `${s.nr} p${+s.present} m${+s.hasMemMap} o${+s.online} z${s.zoneIdx} s${s.subsectionMap.toString(16)}`,
      )
      .join('\n'),
  );
  parts.push(
    devPagemaps(k)
      .map((m) => `pgmap ${m.type} ${m.start.toString(16)}-${m.end.toString(16)}`)
      .join('\n'),
  );
  for (const z of k.pgdat.zones) {
    parts.push(
      `${z.name} ${z.zoneStartPfn} ${z.spannedPages} ${z.presentPages} ${z.managedPages} ${JSON.stringify([...z.free.extents()])}`,
    );
  }
  parts.push(`totalram ${k.totalramPages} max_pfn ${k.maxPfn}`);
  parts.push(`tables ${[...k.pt.tablePages].sort((a, b) => a - b).join(',')}`);
  parts.push(`vmemmap ${[...k.pt.vmemmapBlocks.keys()].sort((a, b) => a - b).join(',')}`);
  return parts.join('\n---\n');
}

/** What became of the operation with allocation n failing; `fired` says the failure was really injected. */
export type FaultOutcome = { n: number; fired: boolean } &
  /** `asWithoutFault`: the model ended exactly as it does when nothing fails (the failure changed nothing). */
  (
    | { kind: 'completed'; asWithoutFault: boolean }
    | { kind: 'failed-clean'; errno: number }
    | { kind: 'failed-dirty'; errno: number; violations: Violation[]; firstDifference: string }
    | { kind: 'bug'; where: string }
  );

function firstDifference(a: string, b: string): string {
  const x = a.split('\n');
  const y = b.split('\n');
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    if (x[i] !== y[i]) return `before: ${x[i] ?? '(none)'}\nafter:  ${y[i] ?? '(none)'}`;
  }
  return '';
}

/** The page allocations `op` makes on a system built by `make`. */
export function countAllocations(make: () => GuestSystem, op: (sys: GuestSystem) => number): number {
  return probeRun(make, op).count;
}

/** Runs `op` with nothing failing: how many allocations it made and the state it left. */
function probeRun(
  make: () => GuestSystem,
  op: (sys: GuestSystem) => number,
): { count: number; after: string } {
  const probe = make();
  const counter = new AllocationCounter();
  probe.kernel.faults = counter;
  op(probe);
  probe.kernel.faults = undefined;
  return { count: counter.count, after: snapshot(probe) };
}

/**
 * Runs `op` (0 or -errno, as the kernel function it calls) on a fresh system
 * once per allocation it makes, failing that allocation, and reports each
 * outcome. `make` builds the system in the state just before the operation.
 */
export function injectAlong(
  make: () => GuestSystem,
  op: (sys: GuestSystem) => number,
  label: string,
  fromThenOn = false,
): FaultOutcome[] {
  const { count: total, after: unfailed } = probeRun(make, op);
  const out: FaultOutcome[] = [];
  for (let n = 1; n <= total; n++) {
    const sys = make();
    const before = snapshot(sys);
    const injector = new NthAllocationFails(n, fromThenOn);
    sys.kernel.faults = injector;
    let rc: number;
    try {
      rc = op(sys);
    } catch (e) {
      if (!(e instanceof KernelBug)) throw e;
      out.push({ n, fired: injector.fired, kind: 'bug', where: e.where });
      continue;
    }
    sys.kernel.faults = undefined;
    if (rc === 0) {
      out.push({ n, fired: injector.fired, kind: 'completed', asWithoutFault: snapshot(sys) === unfailed });
      continue;
    }
    const after = snapshot(sys);
    if (after === before) out.push({ n, fired: injector.fired, kind: 'failed-clean', errno: -rc });
    else {
      out.push({
        n,
        fired: injector.fired,
        kind: 'failed-dirty',
        errno: -rc,
        violations: checkInvariants(sys, `${label} with allocation ${n} failing`),
        firstDifference: firstDifference(before, after),
      });
    }
  }
  return out;
}
