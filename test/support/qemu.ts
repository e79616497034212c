/** Shared by tests of the QEMU side: the QemuError an option or monitor call fails with. */
import { QemuError } from '../../src/hw/devices/qemu-error.js';

/** The QemuError `f` throws; a test failure when it throws nothing. */
export function errorOf(f: () => unknown): QemuError {
  try {
    f();
  } catch (e) {
    if (e instanceof QemuError) return e;
    throw e;
  }
  throw new Error('expected a QEMU error, got none');
}
