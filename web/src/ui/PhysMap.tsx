/**
 * The physical address space: its regions as text, and for each stretch that holds memory blocks a
 * canvas with one cell per 128 MiB block (a 1 TiB machine has 8,192: DOM nodes would be too slow),
 * coloured by state and zone, marked where the kernel keeps page-table pages and vmemmap. The canvas
 * has a text twin: an accessible name per stretch, arrow keys that announce the block under the
 * cursor, and the full block list on request.
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { blockSpans, regionText } from '../model/physmap.js';
import { findBlock, blockLabel, STATE_NAMES, ZONE_LABELS, type Snapshot } from '../model/snapshot.js';
import { hex } from '../model/format.js';
import { blockColors } from './colors.js';

const SECTION_PAGES = 1 << 15; // 128 MiB in 4 KiB pages
const CELL = 9; // pixels per block, gap included
const COLS = 128;

interface Marks {
  pt: Map<number, number>;
  vm: Map<number, number>;
}

/** Page-table pages and vmemmap pages per memory block id. */
function marks(s: Snapshot): Marks {
  const pt = new Map<number, number>();
  for (const pfn of s.tablePfns) {
    const id = Math.floor(pfn / SECTION_PAGES);
    pt.set(id, (pt.get(id) ?? 0) + 1);
  }
  const vm = new Map<number, number>();
  s.vmemmapPfns.forEach((pfn, i) => {
    const id = Math.floor(pfn / SECTION_PAGES);
    vm.set(id, (vm.get(id) ?? 0) + s.vmemmapPages[i]!);
  });
  return { pt, vm };
}

function describeBlock(s: Snapshot, m: Marks, id: number): string {
  const i = findBlock(s.blocks, id);
  const pa = BigInt(id) << 27n;
  let t = `${i >= 0 ? blockLabel(s.blocks, i) : `memory${id}: no memory block`}, ${hex(pa)}–${hex(pa + (1n << 27n) - 1n)}`;
  const pt = m.pt.get(id);
  const vm = m.vm.get(id);
  if (pt) t += `; ${pt} page-table page${pt > 1 ? 's' : ''}`;
  if (vm) t += `; vmemmap backing ${(vm * 4) / 1024} MiB`;
  return t;
}

interface SpanProps {
  snap: Snapshot;
  marks: Marks;
  first: number;
  last: number;
  label: string;
}

function SpanCanvas({ snap, marks: m, first, last, label }: SpanProps) {
  const ref = useRef<HTMLCanvasElement>(null);
  const [cursor, setCursor] = useState(-1);
  const [hover, setHover] = useState('');
  const n = last - first + 1;
  const cols = Math.min(COLS, n);
  const rows = Math.ceil(n / cols);
  const summary = useMemo(() => {
    const byKind = new Map<string, number>();
    for (let id = first; id <= last; id++) {
      const i = findBlock(snap.blocks, id);
      const k =
        i < 0
          ? 'no block'
          : STATE_NAMES[snap.blocks.states[i]!] +
            (snap.blocks.zones[i]! >= 0 ? ' ' + ZONE_LABELS[snap.blocks.zones[i]!] : '');
      byKind.set(k, (byKind.get(k) ?? 0) + 1);
    }
    return `${label}: memory${first}–memory${last}, ${[...byKind].map(([k, c]) => `${c} ${k}`).join(', ')}`;
  }, [snap, first, last, label]);

  useEffect(() => {
    const c = ref.current;
    const g = c?.getContext('2d');
    if (!c || !g) return;
    const w = cols * CELL;
    const h = rows * CELL;
    // Resizing clears and reallocates the canvas: only when the size changes.
    if (c.width !== w || c.height !== h) {
      c.width = w;
      c.height = h;
    }
    const col = blockColors(c);
    // Pixels written directly: one pass over 8,192 cells costs far less than as many fillRect calls.
    const img = g.createImageData(w, h);
    const px = new Uint32Array(img.data.buffer);
    const box = (x: number, y: number, size: number, color: number): void => {
      for (let r = 0; r < size; r++) px.fill(color, (y + r) * w + x, (y + r) * w + x + size);
    };
    const b = snap.blocks;
    // Blocks are sorted: walk them alongside the ids instead of searching for each cell.
    let bi = 0;
    while (bi < b.ids.length && b.ids[bi]! < first) bi++;
    for (let k = 0; k < n; k++) {
      const id = first + k;
      const x = (k % cols) * CELL;
      const y = Math.floor(k / cols) * CELL;
      let fill = col.absent;
      if (bi < b.ids.length && b.ids[bi] === id) {
        const st = b.states[bi]!;
        const z = b.zones[bi]!;
        fill = st === 0 ? col.offline : st === 2 ? col.going : z >= 0 ? col.zones[z]! : col.offline;
        bi++;
      }
      box(x, y, CELL - 1, fill);
      if (m.pt.has(id)) box(x + 1, y + 1, 3, col.markPt);
      if (m.vm.has(id)) box(x + CELL - 5, y + CELL - 5, 3, col.markVm);
      if (k === cursor) {
        // The keyboard cursor: a frame in the mark colour.
        for (let i = 0; i < CELL - 1; i++) {
          px[y * w + x + i] = px[(y + CELL - 2) * w + x + i] = col.markPt;
          px[(y + i) * w + x] = px[(y + i) * w + x + CELL - 2] = col.markPt;
        }
      }
    }
    g.putImageData(img, 0, 0);
  }, [snap, m, first, n, cols, rows, cursor]);

  const at = (e: MouseEvent): number => {
    const c = e.currentTarget as HTMLCanvasElement;
    const r = c.getBoundingClientRect();
    // The canvas may be drawn narrower than its pixels (max-width: 100%).
    const scale = c.width / r.width;
    const k =
      Math.floor(((e.clientY - r.top) * scale) / CELL) * cols +
      Math.floor(((e.clientX - r.left) * scale) / CELL);
    return k >= 0 && k < n ? k : -1;
  };
  const onKey = (e: KeyboardEvent): void => {
    const step: Record<string, number> = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: cols, ArrowUp: -cols };
    const d = step[e.key];
    if (d === undefined) return;
    e.preventDefault();
    e.stopPropagation(); // the arrows move the cursor here, not the timeline
    const k = Math.max(0, Math.min(n - 1, (cursor < 0 ? 0 : cursor) + (cursor < 0 ? 0 : d)));
    setCursor(k);
    setHover(describeBlock(snap, m, first + k));
  };

  return (
    <div class="span">
      <div class="note">{label}</div>
      <canvas
        ref={ref}
        tabIndex={0}
        role="img"
        aria-label={summary + '. Arrow keys move between blocks.'}
        data-testid={`blockmap-${first}`}
        onMouseMove={(e) => {
          const k = at(e);
          setHover(k >= 0 ? describeBlock(snap, m, first + k) : '');
        }}
        onKeyDown={onKey}
      />
      <div class="hover" aria-live="polite">
        {hover}
      </div>
    </div>
  );
}

function BlockList({ snap }: { snap: Snapshot }) {
  const [open, setOpen] = useState(false);
  const b = snap.blocks;
  return (
    <details onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>All {b.ids.length} memory blocks as text</summary>
      {open && (
        <ul class="mono" data-testid="block-list">
          {Array.from(b.ids, (id, i) => (
            <li key={id}>{blockLabel(b, i)}</li>
          ))}
        </ul>
      )}
    </details>
  );
}

/** The block map's colours, as its legend names them. */
const LEGEND: ReadonlyArray<readonly [string, string]> = [
  ['--blk-dma32', 'online DMA32'],
  ['--blk-normal', 'online Normal'],
  ['--blk-movable', 'online Movable'],
  ['--blk-offline', 'offline'],
  ['--blk-going', 'going offline'],
  ['--blk-absent', 'no block (hole in the window)'],
  ['--blk-mark-pt', 'holds page-table pages'],
  ['--blk-mark-vm', 'holds vmemmap'],
];

export function PhysMap({ snap }: { snap: Snapshot }) {
  const m = useMemo(() => marks(snap), [snap]);
  const spans = useMemo(() => {
    const s = blockSpans(snap.regions);
    // Blocks outside every known region (should not happen) still get drawn.
    const b = snap.blocks;
    for (const id of b.ids) {
      if (!s.some((x) => id >= x.first && id <= x.last)) s.push({ first: id, last: id, label: 'other' });
    }
    return s.sort((x, y) => x.first - y.first);
  }, [snap]);
  const vmMiB = snap.vmemmapPages.reduce((a, p) => a + p, 0) / 256;
  return (
    <section aria-labelledby="phys-h">
      <h2 id="phys-h">Physical address space</h2>
      <ul data-testid="regions">
        {snap.regions.map((r) => (
          <li key={`${r.start}-${r.kind}`}>{regionText(r)}</li>
        ))}
      </ul>
      <div class="legend" aria-hidden="true">
        {LEGEND.map(([color, label]) => (
          <span key={color}>
            <i style={`background:var(${color})`} />
            {label}
          </span>
        ))}
      </div>
      <p class="note" data-testid="placement-summary">
        {snap.tablePfns.length + 1} page-table pages (root included) and {vmMiB} MiB of vmemmap backing, in{' '}
        {new Set([...m.pt.keys(), ...m.vm.keys()]).size} memory blocks.
      </p>
      <details data-testid="placement">
        <summary>Where the kernel's page-table pages and vmemmap live</summary>
        <ul class="mono">
          {[...new Set([...m.pt.keys(), ...m.vm.keys()])]
            .sort((a, b) => a - b)
            .map((id) => (
              <li key={id}>{describeBlock(snap, m, id)}</li>
            ))}
        </ul>
      </details>
      {spans.map((s) => (
        <SpanCanvas key={`${s.first}`} snap={snap} marks={m} first={s.first} last={s.last} label={s.label} />
      ))}
      <BlockList snap={snap} />
    </section>
  );
}
