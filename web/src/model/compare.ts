/**
 * The comparison view's data: `compareStrategies` (src/session/compare.ts, the same code as
 * `riscv-hotplug compare`) run one strategy at a time, so the page can show progress between them,
 * and the per-strategy answers joined back into one table. Each strategy boots its own Session, so
 * running them apart gives exactly what running them together gives.
 */
import {
  causeNotes,
  compareStrategies,
  type CompareCell,
  type Comparison,
} from '../../../src/session/compare.js';

export { causeNotes };
import { parseRunArgs } from '../../../src/session/options.js';

/** One strategy's column: the script's lines and a cell per line. */
export function compareOne(argv: string[], strategy: string, script: string): Comparison {
  return compareStrategies(parseRunArgs(argv), [strategy], script);
}

/** Columns computed apart, joined as compareStrategies would give them together. */
export function joinColumns(columns: Comparison[]): Comparison {
  const first = columns[0];
  if (!first) return { strategies: [], rows: [] };
  return {
    strategies: columns.flatMap((c) => c.strategies),
    rows: first.rows.map((row, i) => ({
      line: row.line,
      cells: columns.map((c) => c.rows[i]!.cells[0]!),
    })),
  };
}

/** The result word as the table shows it, with the class that colours it. */
export function resultClass(result: string): string {
  return result === 'ok' ? 'ok' : result === '-' ? 'muted' : 'bad';
}

export function bytesText(bytes: number): string {
  return bytes === 0 ? '0' : bytes % 2 ** 30 === 0 ? `${bytes / 2 ** 30} GiB` : `${bytes / 2 ** 20} MiB`;
}

/** Whether a line gets the metric rows: as in formatComparison, when a strategy changed page tables or broke something. */
export function hasMetrics(cells: CompareCell[]): boolean {
  return cells.some((x) => x.changedPageTables || x.violations.length > 0);
}

/** Where a strategy's kernel died (oops or BUG), so the notes say it: a dead kernel is not checked. */
export function deaths(c: Comparison): Array<{ strategy: string; line: number; result: string }> {
  const out: Array<{ strategy: string; line: number; result: string }> = [];
  c.strategies.forEach((strategy, j) => {
    const i = c.rows.findIndex((r) => r.cells[j]!.result === 'oops' || r.cells[j]!.result === 'BUG');
    if (i >= 0) out.push({ strategy, line: i + 1, result: c.rows[i]!.cells[j]!.result });
  });
  return out;
}
