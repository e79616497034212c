/** include/linux/log2.h. */

/** roundup_pow_of_two(). */
export function roundupPowOfTwo(x: number): number {
  let p = 1;
  while (p < x) p *= 2;
  return p;
}
