/**
 * The fuzzer's machines: THE one factory that gives each sequence a fresh
 * booted guest, as a `Session` so lines run exactly as `riscv-hotplug run`
 * runs them (a shrunk script replays to the same finding).
 *
 * It boots once and then restores the booted state in place for each sequence
 * (docs/snapshot.md); the session over it starts afresh (shell, allocation
 * table, death). Invariants are checked by an incremental checker per guest.
 */
import type { FuzzMachine, MachineFactory } from '../check/fuzz/machine.js';
import type { KernelProfile } from '../kernel/profile.js';
import type { GuestSystem } from '../kernel/system.js';
import type { MachineOptions } from './options.js';
import { Session } from './session.js';
import { allocationTable } from './workload-cmd.js';
import { restoreSystem, snapshotSystem, type SystemSnapshot } from '../kernel/snapshot.js';
import { InvariantChecker } from '../check/incremental.js';

/** Everything that makes the machine: structured-cloneable, so workers get the same one. */
export interface FuzzMachineSpec {
  machine: MachineOptions;
  initrdSize: number;
  /** A kernel profile read from a file (-kernel FILE); a named one is in machine.kernel. */
  profile?: KernelProfile;
}

function asFuzzMachine(s: Session): FuzzMachine {
  return {
    system: s.system,
    run(line: string) {
      const r = s.execute(line);
      return r ? { status: r.status, errno: r.errno } : { status: 0, errno: 0 };
    },
    get death() {
      return s.death;
    },
    allocationIds: () => [...allocationTable(s.system).live.keys()],
    check: (op: string) => checkerOf(s.system).check(op),
  };
}

/**
 * One guest booted from the spec, snapshotted after boot and restored in place on every later call
 * (docs/snapshot.md): a sequence starts from exactly the booted state without booting again.
 */
function restoreEach(spec: FuzzMachineSpec): () => GuestSystem {
  let booted: { system: GuestSystem; snap: SystemSnapshot } | undefined;
  return () => {
    if (!booted) {
      const system = new Session(spec.machine, spec.initrdSize, spec.profile).system;
      booted = { system, snap: snapshotSystem(system) };
    } else restoreSystem(booted.system, booted.snap);
    return booted.system;
  };
}

/** One incremental checker per guest: it follows the guest's changes across restores too. */
const checkers = new WeakMap<GuestSystem, InvariantChecker>();

function checkerOf(system: GuestSystem): InvariantChecker {
  let c = checkers.get(system);
  if (!c) checkers.set(system, (c = new InvariantChecker(system)));
  return c;
}

export function fuzzMachineFactory(spec: FuzzMachineSpec): MachineFactory {
  const fresh = restoreEach(spec);
  return () => asFuzzMachine(new Session(spec.machine, spec.initrdSize, spec.profile, fresh()));
}
