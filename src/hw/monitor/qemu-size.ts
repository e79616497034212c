/**
 * QEMU's number parsing (util/cutils.c): qemu_strtosz for sizes such as
 * `2G`, `1.5G`, `512k` or `0x1000`, and qemu_strtou64/qemu_strtoi64 as the
 * property visitors use them. Results are bigints: sizes go up to 2^64 - 1.
 *
 * Sizes: a decimal integer, optionally with a fraction (which then needs a
 * suffix), or a hex integer (no fraction, no suffix); then an optional
 * suffix B, K, M, G, T, P or E (any case, powers of 1024). A leading minus
 * is "out of range"; anything unparsable is "invalid".
 */

import { QemuError } from '../devices/qemu-error.js';

export type StrtoszResult =
  { readonly ok: true; readonly value: bigint } | { readonly ok: false; readonly error: 'range' | 'invalid' };

const U64_MAX = (1n << 64n) - 1n;
const TWO64 = 1n << 64n;

const isSpace = (c: string | undefined): boolean => c !== undefined && ' \t\n\v\f\r'.includes(c);
const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';

function suffixMul(c: string | undefined, unit: bigint): bigint {
  switch (c?.toUpperCase()) {
    case 'B':
      return 1n;
    case 'K':
      return unit;
    case 'M':
      return unit ** 2n;
    case 'G':
      return unit ** 3n;
    case 'T':
      return unit ** 4n;
    case 'P':
      return unit ** 5n;
    case 'E':
      return unit ** 6n;
    default:
      return -1n;
  }
}

interface Strtoull {
  value: bigint;
  end: number;
  /** errno ERANGE: the value did not fit (value is then U64_MAX). */
  overflow: boolean;
  negative: boolean;
}

/**
 * C strtoull(): leading space, a sign, base prefix (base 0/16 accept 0x,
 * base 0 takes a leading 0 as octal), digits. A minus negates modulo 2^64.
 * `end` is 0 when no digits were found.
 */
function strtoull(s: string, base: number): Strtoull {
  let i = 0;
  while (isSpace(s[i])) i++;
  let negative = false;
  if (s[i] === '+' || s[i] === '-') {
    negative = s[i] === '-';
    i++;
  }
  const digitVal = (c: string | undefined): number => {
    if (c === undefined) return 99;
    const d = parseInt(c, 36);
    return Number.isNaN(d) ? 99 : d;
  };
  if (
    (base === 0 || base === 16) &&
    s[i] === '0' &&
    (s[i + 1] === 'x' || s[i + 1] === 'X') &&
    digitVal(s[i + 2]) < 16
  ) {
    base = 16;
    i += 2;
  } else if (base === 0) {
    base = s[i] === '0' ? 8 : 10;
  }
  const start = i;
  let value = 0n;
  const b = BigInt(base);
  while (digitVal(s[i]) < base) {
    value = value * b + BigInt(digitVal(s[i]));
    i++;
  }
  if (i === start) return { value: 0n, end: 0, overflow: false, negative };
  const overflow = value > U64_MAX;
  if (overflow) value = U64_MAX;
  else if (negative) value = (TWO64 - value) % TWO64;
  return { value, end: i, overflow, negative };
}

/**
 * C strtod() on the fraction part, without exponents (QEMU cuts at e/E so
 * that they stay suffixes). Underflow to zero of a nonzero fraction is
 * reported as ERANGE, as glibc does.
 */
function strtod(s: string): { value: number; end: number; underflow: boolean } {
  const m = /^[ \t\n\v\f\r]*[+-]?(\d+\.?\d*|\.\d+)/.exec(s);
  if (!m) return { value: 0, end: 0, underflow: false };
  const value = parseFloat(m[0]);
  const nonzero = /[1-9]/.test(m[1]!);
  return { value, end: m[0].length, underflow: nonzero && Math.abs(value) < 2.2250738585072014e-308 };
}

/** do_strtosz() with nothing allowed after the number. */
export function qemuStrtosz(text: string, defaultSuffix = 'B', unit = 1024n): StrtoszResult {
  const fail = (error: 'range' | 'invalid'): StrtoszResult => ({ ok: false, error });
  // parse_uint(): base 10, and negative numbers are out of range.
  const p = strtoull(text, 10);
  let retval: 0 | 'range' | 'invalid' = 0;
  let end = p.end;
  let val = p.value;
  let valf = 0n;
  if (p.overflow) retval = 'range';
  else if (p.end === 0) retval = 'invalid';
  else if (p.negative) {
    retval = 'range';
    val = 0n;
  }
  const done = (r: 0 | 'range' | 'invalid'): StrtoszResult => {
    // With no end pointer, trailing characters make any result invalid.
    if (end < text.length) return fail('invalid');
    return r === 0 ? { ok: true, value: val } : fail(r);
  };
  if (retval === 'range') return done(retval);
  if (retval === 0 && val === 0n && (text[end] === 'x' || text[end] === 'X')) {
    // Looks like hex: reparse, and allow neither a fraction nor a suffix.
    const h = strtoull(text, 16);
    if (h.end === 0) return done('invalid');
    if (h.overflow) {
      end = h.end;
      return done('range');
    }
    end = h.end;
    val = h.value;
    if (text[end] === '.' || suffixMul(text[end], unit) > 0n) {
      end = 0;
      return done('invalid');
    }
  } else if (text[end] === '.' || (end === 0 && text.includes('.'))) {
    let fraction = 0;
    if (retval === 0 && text[end] === '.' && !isDigit(text[end + 1])) {
      end++; // "1.k": a point without digits
    } else {
      let copy = text.slice(end);
      const e = copy.search(/[eE]/);
      if (e >= 0) copy = copy.slice(0, e);
      const d = strtod(copy);
      if (d.end === 0) retval = 'invalid';
      else if (d.underflow) retval = 'range';
      else retval = 0;
      fraction = d.value;
      end += d.end;
      if (Object.is(fraction, -0) || fraction < 0) return done('range');
    }
    if (fraction === 1) {
      if (val === U64_MAX) return done('range');
      val++;
    } else if (retval === 'range') {
      valf = 1n; // underflow: the smallest nonzero fraction
      retval = 0;
    } else {
      valf = BigInt(Math.trunc(fraction * 2 ** 64));
    }
  }
  if (retval !== 0) return done(retval);
  let mul = suffixMul(text[end], unit);
  if (mul > 0n) end++;
  else mul = suffixMul(defaultSuffix, unit);
  if (mul === 1n) {
    // A fraction needs a scale.
    if (valf !== 0n) {
      end = 0;
      return done('invalid');
    }
  } else {
    // 64.64 fixed point times the unit, rounding half up.
    const frac = valf * mul;
    const total = val * mul + (frac >> 64n) + ((frac & U64_MAX) >> 63n);
    if (total > U64_MAX) return done('range');
    val = total;
  }
  return done(0);
}

/** qemu_strtou64(): strtoull with base; the whole string must be used. */
export function qemuStrtou64(text: string, base = 0): StrtoszResult {
  const p = strtoull(text, base);
  if (p.end === 0 || p.end < text.length) return { ok: false, error: 'invalid' };
  if (p.overflow) return { ok: false, error: 'range' };
  return { ok: true, value: p.value };
}

/** qemu_strtoi64(): a signed 64-bit integer, base 0. */
export function qemuStrtoi64(text: string, base = 0): StrtoszResult {
  const p = strtoull(text, base);
  if (p.end === 0 || p.end < text.length) return { ok: false, error: 'invalid' };
  // Undo strtoull's wrap to get the signed magnitude back.
  const magnitude = p.negative ? (p.value === 0n ? 0n : TWO64 - p.value) : p.value;
  if (p.overflow || (p.negative ? magnitude > 1n << 63n : magnitude >= 1n << 63n)) {
    return { ok: false, error: 'range' };
  }
  return { ok: true, value: p.negative ? -magnitude : magnitude };
}

export const SIZE_SUFFIX_HINT =
  'Optional suffix k, M, G, T, P or E means kilo-, mega-, giga-, tera-, peta-\nand exabytes, respectively.\n';

/**
 * parse_option_size(): sizes given as text to QemuOpts (-m) and to HMP
 * qom-set, with QEMU's two error texts.
 */
export function parseOptionSize(name: string, text: string): bigint {
  const r = qemuStrtosz(text);
  if (r.ok) return r.value;
  if (r.error === 'range') throw new QemuError(`Value '${text}' is out of range for parameter '${name}'`);
  throw new QemuError(`Parameter '${name}' expects a non-negative number below 2^64`, SIZE_SUFFIX_HINT);
}

/** A size given to -device/device_add/-object (the keyval visitor): one terse error. */
export function parseKeyvalSize(name: string, text: string): bigint {
  const r = qemuStrtosz(text);
  if (r.ok) return r.value;
  throw new QemuError(`Parameter '${name}' expects size`);
}

/** -m without a suffix means MiB: QEMU appends "M" before it parses the size again. */
export function legacyRamSizeText(text: string): string {
  return /[0-9]$/.test(text) ? `${text}M` : text;
}
