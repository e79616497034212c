/**
 * The fuzzer's machines: THE one factory that gives each sequence a fresh
 * booted guest, as a `Session` so lines run exactly as `riscv-hotplug run`
 * runs them (a shrunk script replays to the same finding).
 *
 * Today it boots per sequence (about 10 ms for 8 GiB). Restoring a snapshot
 * taken after one boot is the planned replacement: `bootEach` gives way to a
 * function that restores one guest in place and returns it; the session over
 * it starts afresh (shell, allocation table, death) either way.
 */
import type { FuzzMachine, MachineFactory } from '../check/fuzz/machine.js';
import type { KernelProfile } from '../kernel/profile.js';
import type { GuestSystem } from '../kernel/system.js';
import type { MachineOptions } from './options.js';
import { Session } from './session.js';
import { allocationTable } from './workload-cmd.js';

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
  };
}

/** A guest booted from the spec, on every call. */
function bootEach(spec: FuzzMachineSpec): () => GuestSystem {
  return () => new Session(spec.machine, spec.initrdSize, spec.profile).system;
}

export function fuzzMachineFactory(spec: FuzzMachineSpec): MachineFactory {
  // The one line to change for snapshots: a function that restores one booted guest in place instead.
  const fresh = bootEach(spec);
  return () => asFuzzMachine(new Session(spec.machine, spec.initrdSize, spec.profile, fresh()));
}
