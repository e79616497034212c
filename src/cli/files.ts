/**
 * What the command line reads from the host: the script and the size of -initrd. The session
 * itself never touches the file system (it also runs in a browser).
 */
import { readFileSync, statSync } from 'node:fs';
import { UsageError, type MachineOptions } from '../session/options.js';
import { Session } from '../session/session.js';
import { KERNEL_PROFILES, parseKernelProfile, type KernelProfile } from '../kernel/profile.js';

export function readScript(path: string | undefined, command = 'run'): string {
  if (path === undefined)
    throw new UsageError(`riscv-hotplug ${command}: missing SCRIPT (a file, or - for standard input)`);
  try {
    return readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'No such file or directory'
        : code === 'EACCES'
          ? 'Permission denied'
          : code === 'EISDIR'
            ? 'Is a directory'
            : (code ?? 'error');
    throw new UsageError(`riscv-hotplug ${command}: cannot read script '${path}': ${why}`);
  }
}

/** The size of -initrd's file (0 without one); QEMU's refusal when it cannot be read. */
export function initrdSizeOf(machine: MachineOptions): number {
  if (machine.initrd === undefined) return 0;
  try {
    return statSync(machine.initrd).size;
  } catch {
    throw new UsageError(`qemu-system-riscv64: could not load initrd '${machine.initrd}'`);
  }
}

/** Boots a session for QEMU-style options, with -initrd's size read from the host file. */
export function openSession(machine: MachineOptions): Session {
  return new Session(machine, initrdSizeOf(machine), kernelProfileFile(machine.kernel));
}

/** -kernel naming a profile file rather than a built-in profile: its parsed contents. */
export function kernelProfileFile(kernel: string | undefined): KernelProfile | undefined {
  if (kernel === undefined || KERNEL_PROFILES[kernel]) return undefined;
  let text: string;
  try {
    text = readFileSync(kernel, 'utf8');
  } catch {
    throw new UsageError(
      `riscv-hotplug: -kernel ${kernel}: neither a kernel profile (${Object.keys(KERNEL_PROFILES).join(', ')}) nor a readable profile file`,
    );
  }
  try {
    return parseKernelProfile(JSON.parse(text));
  } catch (e) {
    throw new UsageError(`riscv-hotplug: -kernel ${kernel}: ${(e as Error).message}`);
  }
}
