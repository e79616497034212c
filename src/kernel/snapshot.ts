/**
 * Snapshot and restore of a whole guest: the board (harts, satp, TLBs,
 * physical memory), the kernel (memblock, zones and their free extents,
 * sections, memory blocks, resources, the log, the workload, counters and
 * journals), the test driver, QEMU's devices and the virtio bus — everything
 * reachable from the `GuestSystem`.
 *
 * Restore is in place: the same objects get their old contents back, so the
 * closures that captured them (the file tree, the drivers' callbacks, device
 * listeners) keep working. A snapshot restores any number of times; snapshots
 * nest last-in-first-out (restoring one makes those taken after it
 * unrestorable, and restoring one of those then throws). docs/snapshot.md
 * says what each part costs.
 */
import { GraphSnapshot } from '../hw/snapshot.js';
import type { GuestSystem } from './system.js';

export interface SystemSnapshot {
  /** The system it was taken of: it restores into that one only. */
  readonly system: GuestSystem;
  readonly graph: GraphSnapshot;
}

export function snapshotSystem(g: GuestSystem): SystemSnapshot {
  return { system: g, graph: new GraphSnapshot([g]) };
}

export function restoreSystem(g: GuestSystem, s: SystemSnapshot): void {
  if (s.system !== g) throw new Error('restoreSystem: the snapshot was taken of another machine');
  s.graph.restore();
}
