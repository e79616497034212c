/**
 * The built-in scenarios' outcomes (docs/concurrency.md): what the bounded
 * search proves under each strategy.
 */
import { describe, expect, test } from 'vitest';
import { builtinScenario } from './builtins.js';
import { explore, type ExploreResult } from './explorer.js';
import { strategyByName } from '../../kernel/arch/strategies.js';

function run(name: string, strategy: string, preemptions = 2, limit?: number): ExploreResult {
  const spec = builtinScenario(name);
  const arch = strategyByName(strategy);
  if (!spec || !arch) throw new Error(`no ${name} / ${strategy}`);
  return explore(spec, { arch, preemptions, ...(limit ? { limit } : {}) });
}

const clean = (r: ExploreResult): void => {
  expect(r.violation?.run.violation).toBeUndefined();
  expect(r.complete).toBe(true);
  expect(r.interleavings).toBeGreaterThan(1);
};

describe('built-in concurrency scenarios', () => {
  test('pgd-sync: clean under riscv-6.12 (PGD entries preallocated), a fault under riscv-no-prealloc', () => {
    clean(run('pgd-sync', 'riscv-6.12'));
    const r = run('pgd-sync', 'riscv-no-prealloc');
    expect(r.violation?.run.violation?.invariant).toBe('kernel-access-translates');
    // The process was created before the hot-add wrote the new PGD entry.
    const t = r.violation!.run.timeline.map((e) => `${e.actor}: ${e.text}`);
    expect(t.findIndex((l) => l.startsWith('fork: end'))).toBeLessThan(
      t.findIndex((l) => l.startsWith('hotplug: write entry')),
    );
  });

  test("vmalloc-vmemmap: riscv-6.12's layout shares no freeable table, and the search is clean", () => {
    const r = run('vmalloc-vmemmap', 'riscv-6.12');
    clean(r);
    expect(r.notes.map((n) => n.note)).toContain(
      'vmalloc area buf and the removed struct pages share no page-table page below the PGD',
    );
  });

  test('vmalloc-vmemmap-shared: in a layout sharing a PMD table, vmalloc walks a freed table', () => {
    const r = run('vmalloc-vmemmap-shared', 'riscv-6.12');
    expect(r.violation?.run.violation?.invariant).toBe('walk-only-live-tables');
    expect(r.violation!.run.preemptions).toBe(1);
    expect(r.notes.map((n) => n.note).join('\n')).toContain('share a PMD table');
    // Without preemption the two never overlap.
    const sequential = run('vmalloc-vmemmap-shared', 'riscv-6.12', 0);
    expect(sequential.violation).toBeUndefined();
    expect(sequential.complete).toBe(true);
  });

  test('free-before-flush: the stale walk-cache pointer is used, but no kernel access sees a wrong translation', () => {
    const r = run('free-before-flush', 'riscv-6.12');
    clean(r);
    const notes = r.notes.map((n) => n.note).join('\n');
    expect(notes).toContain('walked through pfn');
    expect(notes).toContain('cached a translation the kernel never made');
  });

  test('ptdump-remove: clean with get_online_mems, a read of a freed table without it', () => {
    clean(run('ptdump-remove', 'riscv-6.12'));
    const r = run('ptdump-remove-nolock', 'riscv-6.12');
    expect(r.violation?.run.violation?.invariant).toBe('walk-only-live-tables');
  });

  test('kpageflags-remove: pfn_to_online_page then the struct page races with offline + remove', () => {
    const r = run('kpageflags-remove', 'riscv-6.12');
    expect(r.violation?.run.violation?.invariant).toBe('no-kernel-fault');
    expect(r.violation!.run.preemptions).toBe(1);
  });

  test('split-remove: F1 alone under riscv-6.12; under riscv-split only the race breaks the linear map', () => {
    const f1 = run('split-remove', 'riscv-6.12');
    expect(f1.violation?.run.violation?.invariant).toBe('linear-map-covers-present-memory');
    expect(f1.violation!.run.preemptions).toBe(0);
    clean(run('split-remove', 'riscv-split', 0));
    const race = run('split-remove', 'riscv-split');
    expect(race.violation?.run.violation?.invariant).toBe('linear-map-covers-only-present-memory');
    expect(race.violation!.run.preemptions).toBe(1);
  });
});
