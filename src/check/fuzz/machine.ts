/**
 * What the fuzzer needs of a machine: a booted guest that runs script lines
 * the way `riscv-hotplug run` does. The check layer does not know the
 * session; the session layer supplies the one implementation
 * (src/session/fuzz-machine.ts), so a fuzzed sequence and its replayed script
 * go through the same code.
 */
import type { GuestSystem } from '../../kernel/system.js';
import type { Violation } from '../invariants.js';

export interface LineOutcome {
  /** The guest command's exit status (0: it worked). */
  status: number;
  /** The errno of a failed write, 0 otherwise. */
  errno: number;
}

export interface FuzzMachine {
  readonly system: GuestSystem;
  /** Runs one script line. A model bug escapes as an exception; a kernel crash sets `death`. */
  run(line: string): LineOutcome;
  /** How the guest died (oops, BUG, panic), or undefined while it lives. */
  readonly death: string | undefined;
  /** The ids of the workload allocations alive (what `workload free ID` takes). */
  allocationIds(): number[];
  /** Every invariant now: exactly `checkInvariants(system, op)` (the factory may check incrementally). */
  check(op: string): Violation[];
}

/** A freshly booted machine, the same each call: every sequence starts from it. */
export type MachineFactory = () => FuzzMachine;

const BLOCK_PAGES = 32768;

/**
 * The physical range the fuzzer hot-adds into: from the end of boot memory (mem=) to the end of
 * the RAM QEMU backs, in memory blocks; undefined when the machine has none (all RAM booted).
 */
export function hotplugWindow(sys: GuestSystem): { first: number; end: number } | undefined {
  const boot = sys.kernel.sparse.all().filter((s) => s.early);
  const first = boot.length ? Math.max(...boot.map((s) => s.nr)) + 1 : 0;
  const end = Math.floor(sys.board.dramEndPfn / BLOCK_PAGES);
  return end > first ? { first, end } : undefined;
}
