/**
 * The built-in scenarios, in the scenario-file format. docs/concurrency.md
 * gives what the bounded search proves for each under each strategy.
 */
import type { ScenarioSpec } from './scenario.js';

const SCENARIOS: ScenarioSpec[] = [
  {
    name: 'pgd-sync',
    summary:
      'A process created before or during a hot-add touches the new memory through its own page tables (Sv39: one PGD entry per GiB of linear map).',
    machine: { memory: '2G', append: 'no4lvl', smp: 2 },
    actors: [
      { name: 'hotplug', cpu: 0, op: 'add_memory 0x100000000 128M; online 0x100000000 128M' },
      { name: 'fork', cpu: 1, op: 'pgd_alloc p1' },
      { name: 'hart1', cpu: 1, hart: ['load linear:0x100000000 via p1', 'store linear:0x100000000 via p1'] },
    ],
  },
  {
    name: 'vmalloc-vmemmap',
    summary:
      "Hot-remove frees vmemmap page-table pages while vmalloc() populates kernel page tables at the start of its area, in the strategy's own layout.",
    machine: { memory: '2G', append: 'no5lvl', smp: 2 },
    setup: ['add_memory 0x1080000000 128M'],
    actors: [
      { name: 'remove', cpu: 0, op: 'remove_memory 0x1080000000 128M' },
      { name: 'vmalloc', cpu: 1, op: 'vmalloc buf 1' },
    ],
  },
  {
    name: 'free-before-flush',
    summary:
      'Hot-remove frees page-table pages before its final flush_tlb_all while another hart’s walk cache still points at them and the pages are reused.',
    machine: { memory: '2G', append: 'no5lvl', smp: 3 },
    setup: ['add_memory 0x100000000 128M'],
    actors: [
      { name: 'remove', cpu: 0, op: 'remove_memory 0x100000000 128M' },
      { name: 'hart1', cpu: 1, hart: ['speculate linear:0x100000000', 'speculate linear:0x100000000'] },
      { name: 'reuse', cpu: 2, op: 'reuse_freed_table 0x80000000' },
    ],
  },
  {
    name: 'ptdump-remove',
    summary: 'Reading /sys/kernel/debug/kernel_page_tables (under get_online_mems) during a hot-remove.',
    machine: { memory: '2G', append: 'no5lvl', smp: 2 },
    setup: ['add_memory 0x100000000 128M'],
    actors: [
      { name: 'remove', cpu: 0, op: 'remove_memory 0x100000000 128M' },
      { name: 'ptdump', cpu: 1, op: 'ptdump' },
    ],
  },
  {
    name: 'kpageflags-remove',
    summary:
      'A /proc/kpageflags read (pfn_to_online_page, then the struct page) while the same memory is offlined and removed.',
    machine: { memory: '2G', append: 'no5lvl', smp: 2 },
    setup: ['add_memory 0x100000000 128M', 'online 0x100000000 128M'],
    actors: [
      { name: 'remove', cpu: 0, op: 'offline_and_remove_memory 0x100000000 128M' },
      { name: 'reader', cpu: 1, op: 'kpageflags 0x100000000' },
    ],
  },
  {
    name: 'split-remove',
    summary:
      'set_memory_ro() on a page of a hot-added 1 GiB linear-map leaf while a partial remove of the same leaf runs.',
    machine: { memory: '2G', append: 'no5lvl', smp: 2 },
    setup: ['add_memory 0x100000000 1G', 'online 0x100000000 1G', 'offline 0x100000000 128M'],
    actors: [
      { name: 'remove', cpu: 0, op: 'remove_memory 0x100000000 128M' },
      { name: 'set_ro', cpu: 1, op: 'set_memory_ro 0x120000000 1' },
    ],
  },
];

/** A variant of a scenario: another name and summary, more setup, other commands for its actors. */
function variant(
  base: string,
  name: string,
  summary: string,
  change: { setup?: string[]; ops?: Record<string, string> },
): ScenarioSpec {
  const b = SCENARIOS.find((s) => s.name === base)!;
  return {
    ...b,
    name,
    summary,
    setup: [...(b.setup ?? []), ...(change.setup ?? [])],
    actors: b.actors.map((a) => (change.ops?.[a.name] ? { ...a, op: change.ops[a.name] } : a)),
  };
}

export const BUILTIN_SCENARIOS: readonly ScenarioSpec[] = [
  ...SCENARIOS.slice(0, 2),
  variant(
    'vmalloc-vmemmap',
    'vmalloc-vmemmap-shared',
    'The same race in a layout where the vmalloc area starts right after the removed memory’s struct pages, so both use one vmemmap PMD table.',
    { setup: ['vmap_start_after_memmap 0x1080000000 128M'] },
  ),
  ...SCENARIOS.slice(2, 4),
  variant(
    'ptdump-remove',
    'ptdump-remove-nolock',
    'The same read without get_online_mems(), as before ptdump took it.',
    {
      ops: { ptdump: 'ptdump_nolock' },
    },
  ),
  ...SCENARIOS.slice(4),
];

export function builtinScenario(name: string): ScenarioSpec | undefined {
  return BUILTIN_SCENARIOS.find((s) => s.name === name);
}
