/**
 * Number and bool parsing as lib/kstrtox.c and lib/vsprintf.c do it:
 * simple_strtoull never fails, kstrto* want the whole string.
 */
export const U64 = (1n << 64n) - 1n;

/**
 * _parse_integer_fixup_radix() and _parse_integer(): base 0 picks 16 for
 * 0x/0X followed by a hex digit, 8 for a leading 0, else 10; digits run to
 * the first character that is not one. The value wraps at 64 bits as in C;
 * `overflow` says it did.
 */
function parseInteger(
  text: string,
  base: number,
): { value: bigint; digits: number; end: number; overflow: boolean } {
  const x = text[0] === '0' && text[1]?.toLowerCase() === 'x';
  if (base === 0) base = text[0] !== '0' ? 10 : x && /^[0-9a-f]$/i.test(text[2] ?? '') ? 16 : 8;
  let i = base === 16 && x ? 2 : 0;
  const first = i;
  let exact = 0n;
  for (; i < text.length; i++) {
    const d = parseInt(text[i]!, 16);
    if (Number.isNaN(d) || d >= base) break;
    exact = exact * BigInt(base) + BigInt(d);
  }
  return { value: exact & U64, digits: i - first, end: i, overflow: exact > U64 };
}

/** simple_strtoull(text, &end, base): never fails; 0 when no digit parses. */
export function simpleStrtoull(text: string, base = 0): { value: bigint; end: number } {
  const { value, end } = parseInteger(text, base);
  return { value, end };
}

/** kstrtobool(): the first character decides (y/t/1, n/f/0), or o followed by n or f. */
export function kstrtobool(v: string): boolean | undefined {
  const c = v.slice(0, 1);
  if (c !== '' && 'yYtT1'.includes(c)) return true;
  if (c !== '' && 'nNfF0'.includes(c)) return false;
  if (c === 'o' || c === 'O') {
    const d = v[1]?.toLowerCase();
    if (d === 'n') return true;
    if (d === 'f') return false;
  }
  return undefined;
}

/**
 * kstrtoull(s, base): the whole string must be the number (a leading + and
 * one trailing newline aside); undefined for -EINVAL and -ERANGE.
 */
export function kstrtoull(v: string, base = 0): bigint | undefined {
  const s = v.startsWith('+') ? v.slice(1) : v;
  const r = parseInteger(s, base);
  if (r.digits === 0 || r.overflow) return undefined;
  const rest = s.slice(r.end);
  return rest === '' || rest === '\n' ? r.value : undefined;
}
