/**
 * The kernel page tables as a tree opened level by level, read from the machine at the selected
 * step. Runs of like leaves are one row (open it for each leaf), drawn with a bar whose length
 * grows with the leaf size; hovering (or focusing) a row shows VA, PA and flags.
 */
import type { Kernel } from '../../../src/kernel/kernel.js';
import {
  tableRuns,
  vaRegions,
  regionsOf,
  vaRange,
  leafSize,
  levelPages,
  type EntryRun,
  type VaRegion,
} from '../model/pttree.js';
import { hex, pfnToPa, pteFlags, pteValue } from '../model/format.js';

interface Props {
  kernel: Kernel;
  /** Keys of open rows ("level:vpn", stable across steps). */
  expanded: ReadonlySet<string>;
  onToggle(key: string): void;
}

const BAR_PX = [6, 18, 36, 60, 90]; // PTE, PMD, PUD, P4D, PGD leaves

interface Ctx extends Props {
  regions: VaRegion[];
}

function leafTitle(k: Kernel, r: EntryRun, i: number): string {
  const span = levelPages(r.level);
  const vpn = r.vpn + i * span;
  const pfn = r.pfn + i * span;
  const pa = pfnToPa(pfn);
  return (
    `${k.pt.levelName(r.level)} leaf (${leafSize(r.level)}), entry ${r.firstIndex + i}\n` +
    `VA ${vaRange(vpn, span)}\nPA ${hex(pa, 16)}–${hex(pa + pfnToPa(span) - 1n, 16)}\n` +
    `flags ${pteFlags(r.lo)}  PTE ${hex(pteValue(r.lo, r.hi), 16)}`
  );
}

function RunRow({ ctx, run }: { ctx: Ctx; run: EntryRun }) {
  const k = ctx.kernel;
  const span = levelPages(run.level);
  const name = k.pt.levelName(run.level);
  const key = `${run.level}:${run.vpn}`;
  const open = ctx.expanded.has(key);
  const region = regionsOf(ctx.regions, run.vpn, span * run.count);
  const idx = run.count > 1 ? `[${run.firstIndex}–${run.firstIndex + run.count - 1}]` : `[${run.firstIndex}]`;
  const range = vaRange(run.vpn, span * run.count);
  const regionText = region ? <span class="region"> {region}</span> : null;
  if (run.kind === 'empty') {
    return (
      <li class="row empty">
        {idx} {run.count} empty {name} entr{run.count > 1 ? 'ies' : 'y'}
      </li>
    );
  }
  if (run.kind === 'table' && run.used === 0) {
    return (
      <li class="row empty">
        {idx} {run.count} {name} entr{run.count > 1 ? 'ies' : 'y'} {range} → empty{' '}
        {k.pt.levelName(run.level - 1)} table{run.count > 1 ? 's' : ''} (pre-allocated){regionText}
      </li>
    );
  }
  if (run.kind === 'table') {
    const label = `${name} ${range}`;
    return (
      <li>
        <div class="row">
          <button
            aria-expanded={open}
            onClick={() => ctx.onToggle(key)}
            aria-label={`${open ? 'Close' : 'Open'} ${label}`}
          >
            {open ? '▾' : '▸'}
          </button>{' '}
          {idx} {label} → {k.pt.levelName(run.level - 1)} table at {hex(pfnToPa(run.pfn))}, {run.used}{' '}
          {run.used === 1 ? 'entry' : 'entries'} used
          {regionText}
        </div>
        {open && <TableView ctx={ctx} tablePfn={run.pfn} level={run.level - 1} baseVpn={run.vpn} />}
      </li>
    );
  }
  const pa = pfnToPa(run.pfn);
  const bar = <span class="bar" style={{ width: `${BAR_PX[run.level] ?? 6}px` }} aria-hidden="true" />;
  const summary =
    `${idx} ${run.count} × ${leafSize(run.level)} ${name} ${run.count > 1 ? 'leaves' : 'leaf'} ${range} → ` +
    `PA ${hex(pa)}–${hex(pa + pfnToPa(span * run.count) - 1n)} ${pteFlags(run.lo)}`;
  return (
    <li>
      <div class="row" title={leafTitle(k, run, 0)} tabIndex={0} aria-label={summary}>
        {run.count > 1 ? (
          <button
            aria-expanded={open}
            onClick={() => ctx.onToggle(key)}
            aria-label={`${open ? 'Close' : 'Open'} ${run.count} leaves`}
          >
            {open ? '▾' : '▸'}
          </button>
        ) : (
          <span> </span>
        )}{' '}
        {bar}
        {summary}
        {regionText}
      </div>
      {open && run.count > 1 && (
        <ul>
          {Array.from({ length: run.count }, (_, i) => (
            <li
              class="row"
              key={i}
              title={leafTitle(k, run, i)}
              tabIndex={0}
              aria-label={leafTitle(k, run, i).replace(/\n/g, ', ')}
            >
              {bar}[{run.firstIndex + i}] {vaRange(run.vpn + i * span, span)} →{' '}
              {hex(pfnToPa(run.pfn + i * span))}
            </li>
          ))}
        </ul>
      )}
    </li>
  );
}

function TableView({
  ctx,
  tablePfn,
  level,
  baseVpn,
}: {
  ctx: Ctx;
  tablePfn: number;
  level: number;
  baseVpn: number;
}) {
  const runs = tableRuns(ctx.kernel, tablePfn, level, baseVpn);
  return (
    <ul>
      {runs.map((r) => (
        <RunRow key={`${r.firstIndex}`} ctx={ctx} run={r} />
      ))}
    </ul>
  );
}

export function PageTables(p: Props) {
  const k = p.kernel;
  const ctx: Ctx = { ...p, regions: vaRegions(k) };
  const names = Array.from({ length: k.pt.levels }, (_, i) => k.pt.levelName(k.pt.levels - 1 - i)).join(
    ' → ',
  );
  return (
    <section aria-labelledby="pt-h" class="tree" data-testid="pt-tree">
      <h2 id="pt-h">
        Kernel page tables ({k.mode.name}: {names})
      </h2>
      <p class="note">
        swapper_pg_dir at {hex(pfnToPa(k.pt.rootPfn))}. Regions:{' '}
        {ctx.regions.map((r) => `${r.name} ${vaRange(r.startVpn, r.endVpn - r.startVpn)}`).join(' · ')}
      </p>
      <TableView ctx={ctx} tablePfn={k.pt.rootPfn} level={k.pt.rootLevel} baseVpn={0} />
    </section>
  );
}
