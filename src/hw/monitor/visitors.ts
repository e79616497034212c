/**
 * QAPI input visitors: how a property value the user typed becomes a typed
 * value, with the error text of the path it came in on.
 *
 * - keyval (qobject-input-visitor in keyval mode): -device, device_add,
 *   -object, object_add.
 * - string input (string-input-visitor): HMP qom-set without -j.
 * - JSON (qobject-input-visitor): HMP qom-set -j and QMP.
 */

import { QemuError } from '../devices/qemu-error.js';
import type { Visitor } from '../devices/qom.js';
import { parseKeyvalSize, parseOptionSize, qemuStrtoi64, qemuStrtou64 } from './qemu-size.js';

const expects = (name: string, what: string): QemuError =>
  new QemuError(`Parameter '${name}' expects ${what}`);

/** qapi_bool_parse(). */
export function parseBool(name: string, text: string): boolean {
  if (['on', 'yes', 'true', 'y'].includes(text)) return true;
  if (['off', 'no', 'false', 'n'].includes(text)) return false;
  throw expects(name, "'on' or 'off'");
}

function uintN(name: string, v: bigint, bits: number): number {
  if (v >= 1n << BigInt(bits)) throw expects(name, `uint${bits}_t`);
  return Number(v);
}

function int32(name: string, v: bigint): number {
  if (v < -(1n << 31n) || v >= 1n << 31n) throw expects(name, 'int32_t');
  return Number(v);
}

/** Every visitor reads the narrower unsigned types as a uint64 and then checks the range. */
abstract class InputVisitor implements Visitor {
  abstract size(name: string): bigint;
  abstract uint64(name: string): bigint;
  abstract int32(name: string): number;
  abstract bool(name: string): boolean;
  abstract str(name: string): string;

  uint32(name: string): number {
    return uintN(name, this.uint64(name), 32);
  }

  uint16(name: string): number {
    return uintN(name, this.uint64(name), 16);
  }

  uint8(name: string): number {
    return uintN(name, this.uint64(name), 8);
  }
}

/**
 * A value given as text. The two text visitors of QEMU differ only in how a
 * size is written and in what they call a bad integer.
 */
abstract class TextVisitor extends InputVisitor {
  constructor(
    protected readonly text: string,
    /** The type named when an int32 is not even an integer. */
    private readonly integerName: string,
  ) {
    super();
  }

  uint64(name: string): bigint {
    const r = qemuStrtou64(this.text);
    if (!r.ok) throw expects(name, 'uint64');
    return r.value;
  }

  int32(name: string): number {
    const r = qemuStrtoi64(this.text);
    if (!r.ok) throw expects(name, this.integerName);
    return int32(name, r.value);
  }

  bool(name: string): boolean {
    return parseBool(name, this.text);
  }

  str(): string {
    return this.text;
  }
}

/** Text given with key=value syntax. */
export class KeyvalVisitor extends TextVisitor {
  constructor(text: string) {
    super(text, 'integer');
  }

  size(name: string): bigint {
    return parseKeyvalSize(name, this.text);
  }
}

/** Text given to HMP qom-set (object_property_parse). */
export class StringInputVisitor extends TextVisitor {
  constructor(text: string) {
    super(text, 'int64');
  }

  size(name: string): bigint {
    return parseOptionSize(name, this.text);
  }
}

/** A JSON value; integers are kept exact as bigint. */
export type JsonValue = bigint | number | string | boolean | null | JsonValue[] | { [k: string]: JsonValue };

/** Parses JSON, keeping integer literals exact (sizes go beyond 2^53). */
export function parseJson(text: string): JsonValue {
  const t = text.trim();
  if (/^-?(0|[1-9]\d*)$/.test(t)) return BigInt(t);
  try {
    return JSON.parse(t) as JsonValue;
  } catch {
    throw new QemuError(`JSON parse error, invalid JSON '${t}'`);
  }
}

/** A JSON value (qom-set -j, QMP). */
export class JsonVisitor extends InputVisitor {
  constructor(private readonly value: JsonValue) {
    super();
  }

  /** The value as an exact integer, if it is one. */
  private integer(): bigint | undefined {
    const v = this.value;
    if (typeof v === 'bigint') return v;
    return typeof v === 'number' && Number.isInteger(v) ? BigInt(v) : undefined;
  }

  size(name: string): bigint {
    return this.uint64(name);
  }

  uint64(name: string): bigint {
    const n = this.integer();
    // QEMU takes negative numbers too, for backward compatibility, as two's complement.
    if (n === undefined || n < -(1n << 63n) || n >= 1n << 64n) throw expects(name, 'uint64');
    return n < 0n ? n + (1n << 64n) : n;
  }

  int32(name: string): number {
    const n = this.integer();
    if (n === undefined || n < -(1n << 63n) || n >= 1n << 63n) throw expects(name, 'int64');
    return int32(name, n);
  }

  bool(name: string): boolean {
    if (typeof this.value !== 'boolean')
      throw new QemuError(`Invalid parameter type for '${name}', expected: boolean`);
    return this.value;
  }

  str(name: string): string {
    if (typeof this.value !== 'string')
      throw new QemuError(`Invalid parameter type for '${name}', expected: string`);
    return this.value;
  }
}
