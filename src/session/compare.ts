/**
 * `riscv-hotplug compare`: one script run once per strategy, and for each
 * line what each strategy made of it: the result, and after a line that
 * changed the page tables what it cost (PTE writes, table pages, TLB flushes)
 * and what it broke (memory mapped or not, invariants). No Node API: the web
 * view shows the same table.
 */
import { Session } from './session.js';
import type { MachineOptions } from './options.js';
import { checkInvariants, explainViolations, type Cause } from '../check/invariants.js';
import { errnoName } from '../kernel/errno.js';
import { SECTION_SIZE_BITS } from '../kernel/mm/mmzone.js';

export interface CompareCell {
  /** "ok", an errno name, "oops" / "BUG" (the kernel died), or "-" (nothing ran: the kernel was dead). */
  result: string;
  /** Whether this line wrote page-table entries. */
  changedPageTables: boolean;
  pteWrites: number;
  tablesAllocated: number;
  tablesFreed: number;
  /** Page-table pages the kernel holds after the line. */
  tablesHeld: number;
  flushAll: number;
  flushRange: number;
  /** Bytes of memory no longer present that the linear map still maps. */
  removedStillMapped: number;
  /** Bytes of present memory the linear map lost. */
  presentUnmapped: number;
  /** Invariants violated after the line (each name once). */
  violations: string[];
  /** The checker's explanations, one per cause. */
  causes: Cause[];
}

export interface CompareRow {
  line: string;
  cells: CompareCell[];
}

export interface Comparison {
  strategies: string[];
  rows: CompareRow[];
}

const SECTION_BYTES = 2 ** SECTION_SIZE_BITS;

export function compareStrategies(
  machine: MachineOptions,
  strategies: string[],
  script: string,
  initrdSize = 0,
): Comparison {
  const sessions = strategies.map((strategy) => new Session({ ...machine, strategy }, initrdSize));
  const rows: CompareRow[] = [];
  for (const line of script.split('\n')) {
    const cells: CompareCell[] = [];
    let ran = false;
    for (const s of sessions) {
      const k = s.system.kernel;
      const before = { ...k.stats };
      const wasDead = s.dead;
      const r = s.execute(line);
      if (!r) break;
      ran = true;
      const after = k.stats;
      const v = s.dead ? [] : checkInvariants(s.system, r.cmd);
      const sectionsOf = (name: string): number =>
        new Set(v.filter((x) => x.invariant === name && x.section !== undefined).map((x) => x.section)).size;
      cells.push({
        result: wasDead
          ? '-'
          : s.death
            ? s.death === 'oops'
              ? 'oops'
              : 'BUG'
            : r.errno
              ? errnoName(r.errno)
              : 'ok',
        changedPageTables: after.pteWrites !== before.pteWrites,
        pteWrites: after.pteWrites - before.pteWrites,
        tablesAllocated: after.tablesAllocated - before.tablesAllocated,
        tablesFreed: after.tablesFreed - before.tablesFreed,
        tablesHeld: k.pt.tablePages.size,
        flushAll: after.flushAll - before.flushAll,
        flushRange: after.flushRange - before.flushRange,
        removedStillMapped: sectionsOf('linear-map-covers-only-present-memory') * SECTION_BYTES,
        presentUnmapped: sectionsOf('linear-map-covers-present-memory') * SECTION_BYTES,
        violations: [...new Set(v.map((x) => x.invariant))],
        causes: explainViolations(k, v),
      });
    }
    if (ran) rows.push({ line: line.trim(), cells });
  }
  return { strategies, rows };
}

function mib(bytes: number): string {
  return bytes === 0 ? '0' : `${bytes / 2 ** 20} MiB`;
}

export interface CauseNote {
  strategy: string;
  /** 1-based row of the comparison where the cause first shows. */
  line: number;
  cause: Cause;
}

/** The checker's explanations, once per strategy and cause, at the first line where it appears. */
export function causeNotes(c: Comparison): CauseNote[] {
  const said = new Set<string>();
  const notes: CauseNote[] = [];
  c.rows.forEach((row, i) =>
    row.cells.forEach((x, j) => {
      for (const cause of x.causes) {
        // The same broken state seen again after later lines is the same cause.
        const key = `${j}\u0000${cause.invariant}\u0000${cause.sections.join(',')}`;
        if (said.has(key)) continue;
        said.add(key);
        notes.push({ strategy: c.strategies[j]!, line: i + 1, cause });
      }
    }),
  );
  return notes;
}

/** The comparison as a text table: a column per strategy, a block of rows per script line. */
export function formatComparison(c: Comparison): string {
  const width = Math.max(12, ...c.strategies.map((s) => s.length)) + 2;
  const labelWidth = 34;
  const pad = (s: string, w: number): string =>
    s.length >= w ? s.slice(0, w - 1) + ' ' : s + ' '.repeat(w - s.length);
  const out: string[] = [];
  out.push(pad('', labelWidth) + c.strategies.map((s) => pad(s, width)).join(''));
  const metric = (label: string, f: (x: CompareCell) => string, cells: CompareCell[]): void => {
    out.push(pad('  ' + label, labelWidth) + cells.map((x) => pad(f(x), width)).join(''));
  };
  for (const row of c.rows) {
    out.push(
      pad(row.line.length > labelWidth - 2 ? row.line.slice(0, labelWidth - 4) + '…' : row.line, labelWidth) +
        row.cells.map((x) => pad(x.result, width)).join(''),
    );
    if (!row.cells.some((x) => x.changedPageTables || x.violations.length)) continue;
    metric('PTE writes', (x) => String(x.pteWrites), row.cells);
    metric(
      'tables alloc/freed/held',
      (x) => `${x.tablesAllocated}/${x.tablesFreed}/${x.tablesHeld}`,
      row.cells,
    );
    metric('TLB flushes all/range', (x) => `${x.flushAll}/${x.flushRange}`, row.cells);
    metric('removed but still mapped', (x) => mib(x.removedStillMapped), row.cells);
    metric('present but unmapped', (x) => mib(x.presentUnmapped), row.cells);
    metric(
      'invariants violated',
      (x) => (x.violations.length ? String(x.violations.length) : '-'),
      row.cells,
    );
  }
  const notes = causeNotes(c).map((n) => `${n.strategy}, line ${n.line}: ${n.cause.text}`);
  if (notes.length) out.push('', ...notes);
  return out.join('\n') + '\n';
}
