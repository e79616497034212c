/** The block colours, read from the stylesheet so the canvas follows light and dark mode. */

export interface BlockColors {
  absent: string;
  offline: string;
  going: string;
  zones: [string, string, string];
  markPt: string;
  markVm: string;
}

export function blockColors(el: Element): BlockColors {
  const s = getComputedStyle(el);
  const v = (name: string): string => s.getPropertyValue(name).trim() || '#888';
  return {
    absent: v('--blk-absent'),
    offline: v('--blk-offline'),
    going: v('--blk-going'),
    zones: [v('--blk-dma32'), v('--blk-normal'), v('--blk-movable')],
    markPt: v('--blk-mark-pt'),
    markVm: v('--blk-mark-vm'),
  };
}
