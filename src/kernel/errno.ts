/** Linux errno values and the strerror texts bash prints for them. */
export const EPERM = 1;
export const ENOENT = 2;
export const EINTR = 4;
export const EIO = 5;
export const ENXIO = 6;
export const E2BIG = 7;
export const EAGAIN = 11;
export const ENOMEM = 12;
export const EACCES = 13;
export const EFAULT = 14;
export const EBUSY = 16;
export const EEXIST = 17;
export const ENODEV = 19;
export const ENOTDIR = 20;
export const EISDIR = 21;
export const EINVAL = 22;
export const ETXTBSY = 26;
export const ENOSPC = 28;
export const ERANGE = 34;
export const ENOSYS = 38;
export const ELOOP = 40;
export const EOPNOTSUPP = 95;
export const EHWPOISON = 133;

const NAMES: Record<number, [string, string]> = {
  [ENXIO]: ['ENXIO', 'No such device or address'],
  [EPERM]: ['EPERM', 'Operation not permitted'],
  [ENOENT]: ['ENOENT', 'No such file or directory'],
  [EINTR]: ['EINTR', 'Interrupted system call'],
  [EIO]: ['EIO', 'Input/output error'],
  [E2BIG]: ['E2BIG', 'Argument list too long'],
  [EAGAIN]: ['EAGAIN', 'Resource temporarily unavailable'],
  [ENOMEM]: ['ENOMEM', 'Cannot allocate memory'],
  [EACCES]: ['EACCES', 'Permission denied'],
  [EFAULT]: ['EFAULT', 'Bad address'],
  [EBUSY]: ['EBUSY', 'Device or resource busy'],
  [EEXIST]: ['EEXIST', 'File exists'],
  [ENODEV]: ['ENODEV', 'No such device'],
  [ENOTDIR]: ['ENOTDIR', 'Not a directory'],
  [EISDIR]: ['EISDIR', 'Is a directory'],
  [EINVAL]: ['EINVAL', 'Invalid argument'],
  [ETXTBSY]: ['ETXTBSY', 'Text file busy'],
  [ENOSPC]: ['ENOSPC', 'No space left on device'],
  [ERANGE]: ['ERANGE', 'Numerical result out of range'],
  [ENOSYS]: ['ENOSYS', 'Function not implemented'],
  [ELOOP]: ['ELOOP', 'Too many levels of symbolic links'],
  [EOPNOTSUPP]: ['EOPNOTSUPP', 'Operation not supported'],
  [EHWPOISON]: ['EHWPOISON', 'Memory page has hardware error'],
};

export function errnoName(errno: number): string {
  return NAMES[errno]?.[0] ?? `E${errno}`;
}

export function strerror(errno: number): string {
  return NAMES[errno]?.[1] ?? `Unknown error ${errno}`;
}

/** An error a system call returns: the model's `-errno`. */
export class KernelError extends Error {
  constructor(
    readonly errno: number,
    message?: string,
  ) {
    // A system call's error is an outcome, not a bug: no JavaScript stack to capture (it costs
    // more than the rest of a failing write, and fuzzing makes thousands of them).
    const E = Error as ErrorConstructor & { stackTraceLimit?: number };
    const limit = E.stackTraceLimit;
    E.stackTraceLimit = 0;
    super(message ?? strerror(errno));
    E.stackTraceLimit = limit;
  }
}

/** BUG()/BUG_ON(): the real kernel would oops here; the model stops the operation and says so. */
export class KernelBug extends Error {
  constructor(readonly where: string) {
    super(`kernel BUG at ${where}`);
  }
}

/**
 * The kernel touched a virtual address no page table maps (a page fault in kernel mode): the
 * oops the real kernel prints, then it dies. `va` is the faulting address, `what` the access.
 */
export class KernelOops extends KernelBug {
  constructor(
    readonly va: bigint,
    readonly what: string,
  ) {
    super(
      `${what}: unable to handle kernel paging request at virtual address ${va.toString(16).padStart(16, '0')}`,
    );
  }

  /** The kernel log lines of a RISC-V oops (as the recordings show them, without registers). */
  logLines(): string[] {
    const va = this.va.toString(16).padStart(16, '0');
    return [
      `Unable to handle kernel paging request at virtual address ${va}`,
      'Oops [#1]',
      `epc : ${this.what}`,
      `status: 0000000200000120 badaddr: ${va} cause: 000000000000000d`,
      '---[ end trace 0000000000000000 ]---',
      'Kernel panic - not syncing: Fatal exception',
    ];
  }
}
