/**
 * Invariants of the memory model, checked after every operation: what must
 * hold in any correct kernel state, and what a kernel bug (or a modelled
 * kernel quirk) breaks. Each violation names the invariant, the address and
 * the operation after which it was found.
 */
import type { GuestSystem } from '../kernel/system.js';
import type { Kernel } from '../kernel/kernel.js';
import { linearVpn } from '../kernel/arch/riscv/init.js';
import { memmapVpnRange } from '../kernel/mm/sparse_vmemmap.js';
import {
  FULL_SUBSECTION_MAP,
  PAGES_PER_SECTION,
  PAGES_PER_SUBSECTION,
  SUBSECTIONS_PER_SECTION,
  sectionNrToPfn,
  pfnToSectionNr,
  type MemSection,
} from '../kernel/mm/mmzone.js';
import { devPagemaps } from '../kernel/mm/memremap.js';
import { lastSectionMemmapFree } from '../kernel/mm/sparse.js';
import { LEVEL_PAGES, _PAGE_LEAF } from '../kernel/arch/riscv/pgtable.js';
import { ptePpn, PTE_V } from '../hw/pte.js';
import { walkVa } from '../hw/mmu.js';
import { pageZone } from '../kernel/mm/page_alloc.js';

export interface Violation {
  invariant: string;
  /** The physical or virtual address concerned, as hex. */
  address: string;
  detail: string;
  op: string;
  /** The memory section concerned, where there is one (the report groups by it). */
  section?: number;
}

const hexPa = (pfn: number): string => '0x' + (BigInt(pfn) << 12n).toString(16);
const hexVa = (vpn: number): string => '0x' + (BigInt(vpn) << 12n).toString(16);

/** A page-table entry as `reachable` sees it: its leaves are (vpn, level, pfn). */
export type Leaf = [number, number, number];

/**
 * The valid entries of one table page: (index, lo, hi) triples. The walk below and the incremental
 * checker (which keeps these per table and re-reads only tables that changed) share it.
 */
export function validEntries(k: Kernel, table: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < 512; i++) {
    const lo = k.pt.readLo(table, i);
    if ((lo & PTE_V) === 0) continue;
    out.push(i, lo, k.pt.readHi(table, i));
  }
  return out;
}

/** A piece of a table in entry order: a run of leaves, or a pointer to a lower table. */
export type Segment = { leaves: Leaf[] } | { child: number; vpn: number };

/** A table's valid entries as segments; `root`: the upper half holds sign-extended (kernel) addresses. */
export function tableSegments(
  entries: readonly number[],
  level: number,
  base: number,
  root: boolean,
): Segment[] {
  const span = LEVEL_PAGES[level]!;
  const out: Segment[] = [];
  let leaves: Leaf[] | undefined;
  for (let j = 0; j < entries.length; j += 3) {
    const i = entries[j]!;
    const lo = entries[j + 1]!;
    const pfn = ptePpn(lo, entries[j + 2]!);
    const vpn = root && i >= 256 ? 2 ** 52 - (512 - i) * span : base + i * span;
    if ((lo & _PAGE_LEAF) !== 0 || level === 0) {
      if (!leaves) {
        leaves = [];
        out.push({ leaves });
      }
      leaves.push([vpn, level, pfn]);
    } else {
      leaves = undefined;
      out.push({ child: pfn, vpn });
    }
  }
  return out;
}

/**
 * All page-table pages reachable from swapper_pg_dir (the root excluded), in the order a depth-first
 * walk meets them, and the leaves (vpn, level, pfn) in that walk's order, in groups. `segmentsOf`
 * gives a table's segments (read from memory, or remembered by the incremental checker).
 */
export function reachableFrom(
  k: Kernel,
  segmentsOf: (table: number, level: number, base: number, root: boolean) => readonly Segment[],
): { tables: Set<number>; leafGroups: Leaf[][] } {
  const tables = new Set<number>();
  const leafGroups: Leaf[][] = [];
  const visit = (table: number, level: number, base: number, root: boolean): void => {
    for (const seg of segmentsOf(table, level, base, root)) {
      if ('leaves' in seg) leafGroups.push(seg.leaves);
      else if (!tables.has(seg.child)) {
        tables.add(seg.child);
        visit(seg.child, level - 1, seg.vpn, false);
      }
    }
  };
  // The top level covers the 64-bit space from 0 upwards (vpn modulo 2^52 handles the sign extension).
  visit(k.pt.rootPfn, k.pt.rootLevel, 0, true);
  return { tables, leafGroups };
}

/** The runs [start, end) of a section's active sub-sections (the whole section when all are). */
function activeRuns(ms: MemSection): Array<[number, number]> {
  const base = sectionNrToPfn(ms.nr);
  if (ms.subsectionMap === FULL_SUBSECTION_MAP) return [[base, base + PAGES_PER_SECTION]];
  const runs: Array<[number, number]> = [];
  for (let i = 0; i < SUBSECTIONS_PER_SECTION; i++) {
    if (((ms.subsectionMap >> BigInt(i)) & 1n) === 0n) continue;
    const s = base + i * PAGES_PER_SUBSECTION;
    const last = runs[runs.length - 1];
    if (last && last[1] === s) last[1] = s + PAGES_PER_SUBSECTION;
    else runs.push([s, s + PAGES_PER_SUBSECTION]);
  }
  return runs;
}

/** Is pfn in an active sub-section (early sections: the whole section)? */
function pfnActive(k: Kernel, pfn: number): boolean {
  const ms = k.sparse.get(pfnToSectionNr(pfn));
  return !!ms && ms.present && ms.subsectionActive(pfn);
}

const hexRange = (s: number, e: number): string =>
  `[mem ${hexPa(s)}-0x${((BigInt(e) << 12n) - 1n).toString(16)}]`;

function isFreeInBuddy(k: Kernel, pfn: number): boolean {
  const zone = pageZone(k, pfn);
  return zone !== undefined && zone.free.isFree(pfn);
}

/** Records a violation (the operation is added by whoever collects them). */
export type Report = (invariant: string, address: string, detail: string, section?: number) => void;

/** What `k.pt.lookup` answers; the incremental checker passes one that notes the tables it read. */
export type Lookup = (vpn: number) => { tablePfn: number; index: number; level: number; leaf: boolean };

/** A linear-map run to probe: [section, first pfn, end pfn). */
export type LinearRun = [number, number, number];

/** The present sections and what of them the linear map must cover (`all`: every section, ascending). */
export function linearRuns(k: Kernel, all = k.sparse.all()): { present: MemSection[]; runs: LinearRun[] } {
  const present = all.filter((s) => s.present);
  // MEMORY_DEVICE_PRIVATE memory has struct pages but no linear mapping.
  const unmapped = devPagemaps(k)
    .filter((m) => m.type === 'private')
    .map((m) => [Number(m.start >> 12n), Number((m.end + 1n) >> 12n)] as const);
  const mapped = (pfn: number): boolean => !unmapped.some(([a, b]) => pfn >= a && pfn < b);
  // What to probe: a whole section's ends, or each active sub-section's ends.
  const runs: LinearRun[] = [];
  for (const s of present) {
    const base = sectionNrToPfn(s.nr);
    if (s.early || s.subsectionMap === FULL_SUBSECTION_MAP) {
      if (mapped(base)) runs.push([s.nr, base, base + PAGES_PER_SECTION]);
      continue;
    }
    for (const [a, b] of activeRuns(s))
      for (let p = a; p < b; p += PAGES_PER_SUBSECTION)
        if (mapped(p)) runs.push([s.nr, p, p + PAGES_PER_SUBSECTION]);
  }
  return { present, runs };
}

/** 1. The linear map covers the run, each page at __va(pa): its two ends are probed. */
export function checkLinearRun(k: Kernel, [nr, a, b]: LinearRun, lookup: Lookup, v: Report): void {
  for (const probe of [a, b - 1]) {
    const vpn = linearVpn(k, probe);
    const hit = lookup(vpn);
    if (!hit.leaf) {
      v(
        'linear-map-covers-present-memory',
        hexPa(probe),
        `present memory (section ${nr}) has no linear mapping at va ${hexVa(vpn)}`,
        nr,
      );
      break;
    }
    const lo = k.pt.readLo(hit.tablePfn, hit.index);
    const hi = k.pt.readHi(hit.tablePfn, hit.index);
    const span = LEVEL_PAGES[hit.level]!;
    const got = ptePpn(lo, hi) + (vpn % span);
    if (got !== probe)
      v('linear-map-covers-present-memory', hexPa(probe), `va ${hexVa(vpn)} maps pa ${hexPa(got)}`);
  }
}

/** The linear-map window [start, end) as vpns. */
export function linearWindow(k: Kernel): [number, number] {
  return [Number(k.layout.pageOffset >> 12n), Number(k.layout.pageEnd >> 12n)];
}

/** 1b. A present section is mapped inside the linear-map window of the kernel half (finding F2: Sv39 maps far memory elsewhere). */
export function checkInsideWindow(
  k: Kernel,
  s: MemSection,
  v: Report,
  [linStart, linEnd]: [number, number] = linearWindow(k),
): void {
  const vpn = linearVpn(k, sectionNrToPfn(s.nr));
  if (vpn >= linStart && vpn < linEnd) return;
  const half = vpn < 2 ** 51 ? 'the user half of the address space' : 'the kernel half, outside the window';
  v(
    'linear-map-inside-window',
    hexPa(sectionNrToPfn(s.nr)),
    `section ${s.nr} is mapped at va ${hexVa(vpn)}, in ${half}, not in the linear-map window [${hexVa(linStart)}, ${hexVa(linEnd)})`,
    s.nr,
  );
}

/**
 * The leaves of one table: a linear-map leaf must map linearly and only present memory; a vmemmap
 * leaf's pfn goes to `inFlight`. `sections` gets each section a linear leaf's check looked at.
 */
export function checkLeaves(
  k: Kernel,
  leaves: readonly Leaf[],
  v: Report,
  inFlight: number[],
  sections?: number[],
): void {
  const L = k.layout;
  const offsetPages = Number(L.vaPaOffset >> 12n);
  const linStart = Number(L.pageOffset >> 12n);
  const linEnd = Number(L.pageEnd >> 12n);
  const vmStart = Number(L.vmemmapStart >> 12n);
  const vmEnd = Number(L.vmemmapEnd >> 12n);
  for (const [vpn, level, pfn] of leaves) {
    if (vpn >= linStart && vpn < linEnd) {
      const pages = LEVEL_PAGES[level]!;
      const expectPfn = vpn - offsetPages;
      if (expectPfn !== pfn)
        v(
          'linear-map-is-linear',
          hexVa(vpn),
          `linear-map leaf maps pa ${hexPa(pfn)}, not ${hexPa(expectPfn)}`,
        );
      for (let sec = pfnToSectionNr(pfn); sec <= pfnToSectionNr(pfn + pages - 1); sec++) {
        sections?.push(sec);
        const ms = k.sparse.get(sec);
        if (!ms || !ms.present) {
          v(
            'linear-map-covers-only-present-memory',
            hexPa(sectionNrToPfn(sec)),
            `section ${sec} is not present but the linear map still maps it (leaf at ${hexVa(vpn)})`,
            sec,
          );
          break;
        }
        if (ms.early || ms.subsectionMap === FULL_SUBSECTION_MAP) continue;
        // A section with sub-sections: each 2 MiB the leaf maps must be active.
        const from = Math.max(pfn, sectionNrToPfn(sec));
        const to = Math.min(pfn + pages, sectionNrToPfn(sec + 1));
        const p = from - (from % PAGES_PER_SUBSECTION);
        let bad = -1;
        for (let q = p; q < to; q += PAGES_PER_SUBSECTION) if (!pfnActive(k, q)) bad = q;
        if (bad >= 0) {
          v(
            'linear-map-covers-only-present-memory',
            hexPa(bad),
            `sub-section ${hexRange(bad, bad + PAGES_PER_SUBSECTION)} is not present but the linear map still maps it (leaf at ${hexVa(vpn)})`,
            sec,
          );
          break;
        }
      }
    } else if (vpn >= vmStart && vpn < vmEnd) {
      inFlight.push(pfn);
    }
  }
}

/** 2. A section with a memmap has its vmemmap mapped (a hot-added section: each active sub-section's part). */
export function checkMemmap(k: Kernel, s: MemSection, lookup: Lookup, v: Report): void {
  if (!s.hasMemMap) return;
  const runs: Array<[number, number]> = s.early
    ? [[sectionNrToPfn(s.nr), sectionNrToPfn(s.nr + 1)]]
    : activeRuns(s);
  const lost: Array<[number, number]> = [];
  const whole = s.early || s.subsectionMap === FULL_SUBSECTION_MAP;
  for (const [a, b] of runs) {
    // A whole section: its first and last struct page; sub-sections: each one's first and last.
    const step = whole ? b - a : PAGES_PER_SUBSECTION;
    for (let sub = a; sub < b; sub += step) {
      const [vs, ve] = memmapVpnRange(k, sub, step);
      if (lookup(vs).leaf && lookup(ve - 1).leaf) continue;
      const last = lost[lost.length - 1];
      if (last && last[1] === sub) last[1] = sub + step;
      else lost.push([sub, sub + step]);
    }
  }
  if (lost.length === 0) return;
  const freed = lastSectionMemmapFree(k, s.nr);
  const [a, b] = [lost[0]![0], lost[lost.length - 1]![1]];
  const [va] = memmapVpnRange(k, a, b - a);
  if (
    freed &&
    !s.early &&
    pfnToSectionNr(freed.pfn) === s.nr &&
    (freed.pfn >= b || freed.pfn + freed.nr <= a)
  ) {
    const [fs, fe] = memmapVpnRange(k, freed.pfn, freed.nr);
    v(
      'vmemmap-mapped-for-present-sections',
      hexVa(va),
      `vmemmap of present sub-sections ${hexRange(a, b)} (struct pages at ${hexVa(va)}) unmapped by ` +
        `vmemmap_free(${hexVa(fs)}-${hexVa(fe)}) of a neighbouring sub-section ${hexRange(freed.pfn, freed.pfn + freed.nr)}: ` +
        'the two share a vmemmap PMD leaf, and the teardown cleared and freed the whole leaf',
      s.nr,
    );
  } else {
    v(
      'vmemmap-mapped-for-present-sections',
      hexVa(va),
      `section ${s.nr} has a memmap but the struct pages of ${hexRange(a, b)} are not mapped`,
      s.nr,
    );
  }
}

/**
 * 3. Page-table pages: none leaked, none free while referenced; vmemmap backing likewise.
 * `mayBeFree` false says no table or vmemmap page is free (the caller knows cheaply): skips the buddy probes.
 */
export function checkTablePages(
  k: Kernel,
  tables: ReadonlySet<number>,
  inFlight: ReadonlySet<number>,
  v: Report,
  mayBeFree = true,
): void {
  for (const pfn of k.pt.tablePages) {
    if (!tables.has(pfn))
      v(
        'no-leaked-page-table-pages',
        hexPa(pfn),
        'a page the kernel took for a page table is no longer referenced (leaked)',
      );
  }
  if (mayBeFree)
    for (const pfn of tables) {
      if (isFreeInBuddy(k, pfn))
        v(
          'no-freed-page-table-in-use',
          hexPa(pfn),
          'a referenced page-table page is free in the buddy allocator',
        );
    }
  for (const [pfn] of k.pt.vmemmapBlocks) {
    if (!inFlight.has(pfn))
      v(
        'no-leaked-vmemmap-pages',
        hexPa(pfn),
        'vmemmap backing memory is allocated but no longer mapped (leaked)',
      );
    if (mayBeFree && isFreeInBuddy(k, pfn))
      v(
        'no-freed-vmemmap-in-use',
        hexPa(pfn),
        'mapped vmemmap backing memory is free in the buddy allocator',
      );
  }
}

/** 3b, 4, 6, 7: what costs little and is checked in full every time. */
export function checkRest(
  sys: GuestSystem,
  v: Report,
  walks: () => void,
  corrupted: () => readonly number[] = () => sys.kernel.workload.corrupted(sys.kernel),
): void {
  const k = sys.kernel;
  // 3a. What a concurrent `race` of operations broke while it ran (the explorer's step invariants).
  for (const f of k.raceFindings) v(f.invariant, 'race', f.detail);
  // 3b. Only page-table pages are freed as page tables.
  for (const pfn of k.bogusTableFrees)
    v(
      'only-tables-freed-as-tables',
      hexPa(pfn),
      'a page that never was a page table was freed as one (a leaf taken for a pointer to a table)',
      pfnToSectionNr(pfn),
    );

  // 4. Buddy free lists and zone counters add up.
  let managed = 0;
  for (const z of k.pgdat.zones) {
    managed += z.managedPages;
    if (z.free.freePages > z.managedPages)
      v('zone-counters', `zone ${z.name}`, `free ${z.free.freePages} pages > managed ${z.managedPages}`);
    if (z.presentPages < 0 || z.managedPages < 0) v('zone-counters', `zone ${z.name}`, 'negative page count');
    const flat = z.free.extentsFlat();
    for (let x = 0; x < flat.length; x += 2) {
      const s = flat[x]!;
      const e = flat[x + 1]!;
      const last = pfnToSectionNr(e - 1);
      for (let sec = pfnToSectionNr(s); sec <= last; sec++) {
        const ms = k.sparse.get(sec);
        if (!ms || !ms.online || ms.zoneIdx !== z.idx) {
          v(
            'free-pages-in-online-sections',
            hexPa(Math.max(s, sectionNrToPfn(sec))),
            `free pages of zone ${z.name} in section ${sec}, which is not online in that zone`,
          );
          break;
        }
      }
      if (k.bootReserved.freeIn(s, e) > 0)
        v('free-pages-not-reserved', hexPa(s), 'a PG_reserved boot page is on a free list');
    }
  }
  if (managed !== k.totalramPages)
    v('zone-counters', 'totalram', `zones manage ${managed} pages, totalram_pages says ${k.totalramPages}`);

  // 5. (The caller's: the hardware walks.)
  walks();

  // 6. No hart holds a stale translation (a missing flush).
  for (const h of sys.board.harts) {
    for (const st of h.tlb.staleEntries(k.mem)) {
      v(
        'no-stale-tlb-entries',
        hexVa(st.vpn),
        `hart ${h.id} caches a translation the page tables no longer give (${st.reason})`,
      );
    }
  }

  // 7. Migration kept every workload page's content.
  for (const pfn of corrupted())
    v('migration-preserves-content', hexPa(pfn), 'a workload page lost its content tag');
}

/** 5. The hardware agrees: hart 0's MMU walk of __va finds the page. Returns the entries the walk read. */
export function checkHardwareWalk(
  k: Kernel,
  [nr, pfn]: LinearRun,
  v: Report,
): { ptePfns: readonly number[]; pteIndexes: readonly number[] } {
  const r = walkVa(k.mem, { mode: k.mode, rootPpn: k.pt.rootPfn }, BigInt(linearVpn(k, pfn)) << 12n, 'load');
  if (!r.ok || r.ppn !== pfn) {
    v(
      'hardware-walk-agrees',
      hexPa(pfn),
      r.ok
        ? `hart 0 translates __va to ${hexPa(r.ppn)}`
        : `hart 0 faults (${r.cause}) on __va of present memory`,
      nr,
    );
  }
  return r;
}

/** The collector of violations after operation `op`. */
export function reporter(out: Violation[], op: string): Report {
  return (invariant, address, detail, section) => {
    out.push(
      section === undefined
        ? { invariant, address, detail, op }
        : { invariant, address, detail, op, section },
    );
  };
}

/**
 * Every invariant, from scratch. `InvariantChecker` (incremental.ts) gives the same answer after
 * each operation for a fraction of the cost, by re-examining only what changed.
 */
export function checkInvariants(sys: GuestSystem, op: string): Violation[] {
  const k = sys.kernel;
  const out: Violation[] = [];
  const v = reporter(out, op);
  const lookup: Lookup = (vpn) => k.pt.lookup(vpn);
  const all = k.sparse.all();
  const { present, runs } = linearRuns(k, all);
  for (const run of runs) checkLinearRun(k, run, lookup, v);
  const { tables, leafGroups } = reachableFrom(k, (t, level, base, root) =>
    tableSegments(validEntries(k, t), level, base, root),
  );
  const window = linearWindow(k);
  for (const s of present) checkInsideWindow(k, s, v, window);
  const inFlight: number[] = [];
  for (const leaves of leafGroups) checkLeaves(k, leaves, v, inFlight);
  for (const s of all) checkMemmap(k, s, lookup, v);
  checkTablePages(k, tables, new Set(inFlight), v);
  checkRest(sys, v, () => {
    for (const run of runs) checkHardwareWalk(k, run, v);
  });
  return out;
}

const SIZE_NAMES = ['4 KiB', '2 MiB', '1 GiB', '512 GiB', '256 TiB'];

function bytes(pages: number): string {
  const b = pages * 4096;
  if (b % 2 ** 30 === 0) return `${b / 2 ** 30} GiB`;
  if (b % 2 ** 20 === 0) return `${b / 2 ** 20} MiB`;
  return `${b / 1024} KiB`;
}

/** "33–39", "33" or "33, 35–36": runs of consecutive section numbers. */
function sectionRuns(ns: number[]): string {
  const sorted = [...new Set(ns)].sort((a, b) => a - b);
  const runs: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    runs.push(i === j ? `${sorted[i]}` : `${sorted[i]}–${sorted[j]}`);
    i = j + 1;
  }
  return runs.join(', ');
}

/** A cause the report explains: one paragraph, the violations it accounts for, and data for --json. */
export interface Cause {
  invariant: string;
  op: string;
  sections: number[];
  text: string;
}

/**
 * One readable paragraph per cause, not one line per section: violations of an invariant after
 * the same operation are one cause, named after the leaf a teardown cleared when that explains it.
 */
export function explainViolations(k: Kernel, vs: Violation[]): Cause[] {
  const groups = new Map<string, Violation[]>();
  for (const x of vs) {
    const key = `${x.invariant}\u0000${x.op}`;
    const g = groups.get(key);
    if (g) g.push(x);
    else groups.set(key, [x]);
  }
  const offsetPages = Number(k.layout.vaPaOffset >> 12n);
  const causes: Cause[] = [];
  const unmapped = (op: string): Set<number> =>
    new Set(
      (groups.get(`linear-map-covers-present-memory\u0000${op}`) ?? []).flatMap((x) =>
        x.section === undefined ? [] : [x.section],
      ),
    );
  for (const g of groups.values()) {
    const first = g[0]!;
    const sections = g.flatMap((x) => (x.section === undefined ? [] : [x.section]));
    // The MMU faulting on memory the kernel lost the mapping of is the same cause, said once.
    if (first.invariant === 'hardware-walk-agrees' && sections.every((s) => unmapped(first.op).has(s)))
      continue;
    let text: string;
    if (first.invariant === 'linear-map-covers-present-memory' && sections.length) {
      const lin = (s: number): number => sectionNrToPfn(s) + offsetPages;
      const leaf = k.clearedLeaves.find((c) => {
        const span = LEVEL_PAGES[c.level]!;
        return sections.some((s) => lin(s) >= c.vpn && lin(s) < c.vpn + span);
      });
      if (leaf) {
        const span = LEVEL_PAGES[leaf.level]!;
        const askedPa = leaf.askedStart - offsetPages;
        text =
          `remove_memory(${hexPa(askedPa)}, ${bytes(leaf.askedEnd - leaf.askedStart)}) cleared the ` +
          `${SIZE_NAMES[leaf.level]} ${k.pt.levelName(leaf.level)} leaf at VA ${hexVa(leaf.vpn)} ` +
          `(PA ${hexPa(leaf.pfn)}–0x${((BigInt(leaf.pfn + span) << 12n) - 1n).toString(16)}); ` +
          `section${sections.length > 1 ? 's' : ''} ${sectionRuns(sections)} ${sections.length > 1 ? 'are' : 'is'} present and no longer mapped ` +
          `(after "${first.op}"); hart 0's MMU faults there too, and the kernel's next access to that memory oopses.`;
      } else {
        text = `after "${first.op}": sections ${sectionRuns(sections)} are present but have no linear mapping.`;
      }
    } else if (sections.length > 1) {
      text = `invariant ${first.invariant} violated after "${first.op}" for sections ${sectionRuns(sections)}: ${first.detail}`;
    } else {
      text =
        g.length > 1
          ? `${formatViolation(first)} (and ${g.length - 1} more like it)`
          : formatViolation(first);
    }
    causes.push({
      invariant: first.invariant,
      op: first.op,
      sections: [...new Set(sections)].sort((a, b) => a - b),
      text,
    });
  }
  return causes;
}

export function formatViolation(x: Violation): string {
  return `invariant ${x.invariant} violated after "${x.op}" at ${x.address}: ${x.detail}`;
}
