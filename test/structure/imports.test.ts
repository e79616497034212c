/**
 * The shape of the source tree, checked: which module imports which at run
 * time (type-only imports vanish when compiled), that no layer reaches up
 * or into Node in the core, that generic mm never names an architecture,
 * and which import cycles exist (each one listed here with its reason).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(new URL(import.meta.url).pathname), '../..');
const SRC = join(ROOT, 'src');

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

interface Imports {
  runtime: string[];
  all: string[];
}

/** Module specifiers of `import ... from`, `export ... from` and `import '...'`, split by type-only or not. */
function importsOf(file: string): Imports {
  const text = readFileSync(file, 'utf8');
  const runtime: string[] = [];
  const all: string[] = [];
  const re = /^\s*(import|export)\s+(type\s+)?([^'";]*?)\s*(?:from\s+)?['"]([^'"]+)['"]/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const spec = m[4]!;
    all.push(spec);
    const typeOnly = m[2] !== undefined || /^\{\s*(type\s+[^,}]+,?\s*)+\}$/.test(m[3]!.trim());
    if (!typeOnly) runtime.push(spec);
  }
  return { runtime, all };
}

function resolveSpec(from: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  return relative(SRC, resolve(dirname(from), spec.replace(/\.js$/, '.ts')));
}

const files = sources(SRC);
const graph = new Map<string, string[]>();
const specs = new Map<string, Imports>();
for (const f of files) {
  const imp = importsOf(f);
  specs.set(relative(SRC, f), imp);
  graph.set(
    relative(SRC, f),
    imp.runtime.map((s) => resolveSpec(f, s)).filter((s): s is string => s !== undefined),
  );
}

/** Strongly connected components with more than one module (Tarjan). */
function cycles(): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      for (;;) {
        const w = stack.pop()!;
        on.delete(w);
        comp.push(w);
        if (w === v) break;
      }
      if (comp.length > 1) out.push(comp.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return out;
}

describe('the source tree', () => {
  it('has no Node API in the core (hw, kernel, check, session)', () => {
    const offenders = [...specs.entries()]
      .filter(([f]) => /^(hw|kernel|check|session)\//.test(f))
      .filter(([, imp]) => imp.all.some((s) => s.startsWith('node:')))
      .map(([f]) => f);
    expect(offenders).toEqual([]);
  });

  it('points dependencies down: cli -> session -> check -> kernel -> hw', () => {
    const rank: Record<string, number> = { hw: 0, kernel: 1, check: 2, session: 3, cli: 4 };
    const upward: string[] = [];
    for (const [f, deps] of graph) {
      const from = rank[f.split('/')[0]!];
      for (const d of deps) {
        const to = rank[d.split('/')[0]!];
        if (from !== undefined && to !== undefined && to > from) upward.push(`${f} -> ${d}`);
      }
    }
    expect(upward).toEqual([]);
  });

  it('keeps generic mm free of architecture code (only the arch_ops interface)', () => {
    const named = [...specs.entries()]
      .filter(([f]) => f.startsWith('kernel/mm/'))
      .flatMap(([f, imp]) =>
        imp.all
          .map((s) => resolveSpec(join(SRC, f), s))
          .filter(
            (d): d is string =>
              d !== undefined && d.startsWith('kernel/arch/') && d !== 'kernel/arch/arch_ops.ts',
          )
          .map((d) => `${f} -> ${d}`),
      );
    expect(named).toEqual([]);
  });

  it('has only the import cycles the kernel itself has', () => {
    // drivers/base/memory.c calls online_pages()/offline_pages() and mm/memory_hotplug.c calls
    // create_memory_block_devices()/device_online(): the kernel's own mutual calls between the two files.
    expect(cycles()).toEqual([['kernel/drivers/base/memory.ts', 'kernel/mm/memory_hotplug.ts']]);
  });
});
