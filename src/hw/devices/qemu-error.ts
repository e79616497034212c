/**
 * QEMU's Error object: a message, an optional hint (printed on the lines
 * after the message, e.g. the size-suffix explanation) and the QMP error
 * class. HMP prints `Error: <message>\n<hint>`; QMP shows
 * `{"error": {"class": ..., "desc": <message>}}`.
 */

export type QemuErrorClass = 'GenericError' | 'DeviceNotFound';

export class QemuError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
    readonly errorClass: QemuErrorClass = 'GenericError',
  ) {
    super(message);
    this.name = 'QemuError';
  }

  /** error_prepend(): QEMU adds a location prefix to the message (e.g. for start-up options). */
  prepend(prefix: string): QemuError {
    return new QemuError(prefix + this.message, this.hint, this.errorClass);
  }
}

export function deviceNotFound(id: string): QemuError {
  return new QemuError(`Device '${id}' not found`, undefined, 'DeviceNotFound');
}

/** `%x` of a 64-bit value, as QEMU's PRIx64. */
export function hex(v: bigint | number): string {
  return v.toString(16);
}
