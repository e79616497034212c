/** Number formatting shared by the model-side views: addresses as the kernel prints them, sizes as people read them. */

export function hex(v: bigint, width = 0): string {
  return '0x' + v.toString(16).padStart(width, '0');
}

/** A frame or page number as the full byte address (bigint keeps 64-bit values exact). */
export function pfnToPa(pfn: number): bigint {
  return BigInt(pfn) << 12n;
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];

/** 1 GiB, 128 MiB, 4 KiB, 1.5 GiB: the largest unit that keeps the number readable. */
export function size(bytes: bigint): string {
  let u = 0;
  let whole = bytes;
  while (u < UNITS.length - 1 && whole >= 1024n) {
    whole /= 1024n;
    u++;
  }
  const unit = 1n << BigInt(10 * u);
  const tenths = Number(((bytes % unit) * 10n) / unit);
  return `${whole}${tenths ? '.' + tenths : ''} ${UNITS[u]}`;
}

/** The R W X U G A D V flag letters of a PTE's low bits, '.' for clear ones (ptdump's order). */
export function pteFlags(lo: number): string {
  const bits: Array<[number, string]> = [
    [0x80, 'D'],
    [0x40, 'A'],
    [0x20, 'G'],
    [0x10, 'U'],
    [0x08, 'X'],
    [0x04, 'W'],
    [0x02, 'R'],
    [0x01, 'V'],
  ];
  return bits.map(([m, c]) => ((lo & m) !== 0 ? c : '.')).join('');
}

/** The 64-bit PTE value from its halves. */
export function pteValue(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}
