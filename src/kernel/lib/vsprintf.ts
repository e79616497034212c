/**
 * lib/vsprintf.c, the conversions the modelled messages and files use. The kernel's `#` flag
 * prints "0x0" for zero (unlike C libraries), so every hex form here has its prefix.
 */

const MASK64 = (1n << 64n) - 1n;

/** "%#llx" (and "%#lx"): the value as unsigned 64-bit hex with a 0x prefix. */
export function hexll(v: bigint | number): string {
  return '0x' + (BigInt(v) & MASK64).toString(16);
}

/** "%016llx": sixteen hex digits, no prefix. */
export function hex016(v: bigint | number): string {
  return (BigInt(v) & MASK64).toString(16).padStart(16, '0');
}

/** "%pa" / "%pap" (phys_addr_t and the like, 64-bit): 0x and sixteen digits. */
export function pa(v: bigint | number): string {
  return '0x' + hex016(v);
}

/** "%pa" of a page frame's first byte. */
export function paPfn(pfn: number): string {
  return pa(BigInt(pfn) << 12n);
}

/** "%pa" of a page frame's last byte: the end of a [mem a-b] range ending before endPfn. */
export function paPfnEnd(endPfn: number): string {
  return pa((BigInt(endPfn) << 12n) - 1n);
}

/** "%#010llx": at least eight digits after 0x (the offline failure message's range). */
export function hex010(v: bigint | number): string {
  return '0x' + (BigInt(v) & MASK64).toString(16).padStart(8, '0');
}
