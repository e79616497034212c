/** Shared by tests: the machine of the oracle recordings, and the errno a kernel call fails with. */
import { GuestSystem } from '../../src/kernel/system.js';
import { KernelError } from '../../src/kernel/errno.js';
import { Session } from '../../src/session/session.js';
import { parseRunArgs } from '../../src/session/options.js';

/** -m 8G, -smp 2, mem=2G plus `extra` on the kernel command line, the recordings' 508 KiB initrd. */
export function bootOracleMachine(extra = ''): GuestSystem {
  return new GuestSystem({
    ramBytes: 8n << 30n,
    smp: 2,
    append: `mem=2G ${extra}`.trim(),
    initrdSize: 0x7f000,
  });
}

/** The errno `f` fails with, or undefined when it succeeds (other exceptions propagate). */
export function errnoOf(f: () => unknown): number | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof KernelError) return e.errno;
    throw e;
  }
  return undefined;
}

/** A session booted from QEMU-style options written as one string, as a user types them. */
export function sessionFor(options: string): Session {
  return new Session(parseRunArgs(options.split(' ').filter(Boolean)));
}
