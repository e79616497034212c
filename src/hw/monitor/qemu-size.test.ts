import { describe, expect, it } from 'vitest';
import { errorOf } from '../../../test/support/qemu.js';
import fc from 'fast-check';
import { parseKeyvalSize, parseOptionSize, qemuStrtoi64, qemuStrtosz, qemuStrtou64 } from './qemu-size.js';

const KiB = 1024n;
const MiB = KiB * KiB;
const GiB = MiB * KiB;

function size(text: string): bigint | string {
  const r = qemuStrtosz(text);
  return r.ok ? r.value : r.error;
}

describe('qemu_strtosz', () => {
  it('takes plain bytes and the suffixes B K M G T P E in either case', () => {
    expect(size('0')).toBe(0n);
    expect(size('1000000')).toBe(1000000n);
    expect(size('512B')).toBe(512n);
    expect(size('512b')).toBe(512n);
    expect(size('4k')).toBe(4n * KiB);
    expect(size('4K')).toBe(4n * KiB);
    expect(size('3M')).toBe(3n * MiB);
    expect(size('4097M')).toBe(4097n * MiB);
    expect(size('2G')).toBe(2n * GiB);
    expect(size('2g')).toBe(2n * GiB);
    expect(size('1T')).toBe(1024n * GiB);
    expect(size('1P')).toBe(1024n * 1024n * GiB);
    expect(size('15E')).toBe(15n << 60n);
  });

  it('accepts fractions with a suffix (1.5G = 0x60000000), rounding half up', () => {
    expect(size('1.5G')).toBe(0x60000000n);
    expect(size('.5G')).toBe(512n * MiB);
    expect(size('1.k')).toBe(1024n);
    expect(size('0.5K')).toBe(512n);
    expect(size('1.0009765625K')).toBe(1025n);
    expect(size('0.00048828125K')).toBe(1n); // 0.5 byte rounds up
  });

  it('refuses a fraction without a scale', () => {
    expect(size('1.5')).toBe('invalid');
    expect(size('1.5B')).toBe('invalid');
  });

  it('takes hex without fraction or suffix', () => {
    expect(size('0x1000')).toBe(4096n);
    expect(size('0X10')).toBe(16n);
    expect(size('0x10M')).toBe('invalid');
    expect(size('0x1.8')).toBe('invalid');
  });

  it('calls negative numbers and overflow out of range, garbage invalid', () => {
    expect(size('-1')).toBe('range');
    expect(size('-0')).toBe('range');
    expect(size('16E')).toBe('range');
    expect(size('18446744073709551616')).toBe('range');
    expect(size('18446744073709551615')).toBe((1n << 64n) - 1n);
    expect(size('foo')).toBe('invalid');
    expect(size('')).toBe('invalid');
    expect(size('1GB')).toBe('invalid');
    expect(size('-1G')).toBe('invalid');
    expect(size('-.5G')).toBe('invalid'); // the sign is out of range, but the G is left over
    expect(size('-.5')).toBe('range');
    expect(size('1 G')).toBe('invalid');
  });

  it('agrees with exact arithmetic for integer multiples', () => {
    const suffixes: [string, bigint][] = [
      ['', 1n],
      ['K', KiB],
      ['M', MiB],
      ['G', GiB],
    ];
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 1n << 33n }), fc.constantFrom(...suffixes), (n, [suf, mul]) => {
        expect(size(`${n}${suf}`)).toBe(n * mul);
      }),
    );
  });
});

describe('size errors as QEMU prints them', () => {
  it('HMP qom-set / QemuOpts: out of range', () => {
    expect(errorOf(() => parseOptionSize('requested-size', '-1')).message).toBe(
      "Value '-1' is out of range for parameter 'requested-size'",
    );
  });

  it('HMP qom-set / QemuOpts: invalid, with the suffix hint', () => {
    const e = errorOf(() => parseOptionSize('requested-size', 'foo'));
    expect(e.message).toBe("Parameter 'requested-size' expects a non-negative number below 2^64");
    expect(e.hint).toBe(
      'Optional suffix k, M, G, T, P or E means kilo-, mega-, giga-, tera-, peta-\nand exabytes, respectively.\n',
    );
  });

  it('keyval (-device, device_add, -object): one terse message', () => {
    expect(errorOf(() => parseKeyvalSize('size', '-1')).message).toBe("Parameter 'size' expects size");
  });
});

describe('qemu_strtou64 / qemu_strtoi64', () => {
  it('parse base 0 (hex, octal, decimal); negatives wrap for u64', () => {
    expect(qemuStrtou64('0x250000000')).toEqual({ ok: true, value: 0x250000000n });
    expect(qemuStrtou64('010')).toEqual({ ok: true, value: 8n });
    expect(qemuStrtou64('12')).toEqual({ ok: true, value: 12n });
    expect(qemuStrtou64('-1')).toEqual({ ok: true, value: (1n << 64n) - 1n });
    expect(qemuStrtou64('1G')).toEqual({ ok: false, error: 'invalid' });
    expect(qemuStrtou64('0x10000000000000000')).toEqual({ ok: false, error: 'range' });
    expect(qemuStrtoi64('-5')).toEqual({ ok: true, value: -5n });
    expect(qemuStrtoi64('9223372036854775808')).toEqual({ ok: false, error: 'range' });
    expect(qemuStrtoi64('-9223372036854775808')).toEqual({ ok: true, value: -(1n << 63n) });
  });
});
