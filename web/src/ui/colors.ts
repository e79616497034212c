/**
 * The block colours, read from the stylesheet so the canvas follows light and dark mode, as packed
 * RGBA pixels for ImageData. Read once per colour scheme: getComputedStyle forces a style pass.
 */

export interface BlockColors {
  absent: number;
  offline: number;
  going: number;
  zones: [number, number, number];
  markPt: number;
  markVm: number;
}

/** '#rrggbb' as a little-endian RGBA word (ImageData's byte order on every platform browsers run on). */
export function pixel(hex: string): number {
  const m = /^#([0-9a-f]{6})$/i.exec(hex.trim());
  const v = m ? parseInt(m[1]!, 16) : 0x888888;
  return (0xff << 24) | ((v & 0xff) << 16) | (v & 0xff00) | ((v >> 16) & 0xff);
}

let cache: { dark: boolean; colors: BlockColors } | undefined;

export function blockColors(el: Element): BlockColors {
  const dark = matchMedia('(prefers-color-scheme: dark)').matches;
  if (cache?.dark === dark) return cache.colors;
  const s = getComputedStyle(el);
  const v = (name: string): number => pixel(s.getPropertyValue(name));
  const colors: BlockColors = {
    absent: v('--blk-absent'),
    offline: v('--blk-offline'),
    going: v('--blk-going'),
    zones: [v('--blk-dma32'), v('--blk-normal'), v('--blk-movable')],
    markPt: v('--blk-mark-pt'),
    markVm: v('--blk-mark-vm'),
  };
  cache = { dark, colors };
  return colors;
}
