/**
 * The invariant checker for "after every operation": the same violations as
 * `checkInvariants`, in the same order, but each check re-examines only what
 * changed since the last one.
 *
 * Physical memory logs which frames change once a checker exists
 * (`PhysMem.trackChanges`). The checker keeps a copy of every page-table page
 * a kept result read, diffs a changed one against it, and marks stale the
 * results that read a changed entry. Results that read sections are
 * registered with those sections, whose fields are compared with the last
 * check's. What is cheap (zones, TLBs, the workload, leaked table pages) is
 * checked in full each time. docs/snapshot.md has the details and figures.
 *
 * Kept per page-table page: its valid entries, split into runs of leaves and
 * pointers (the full walk is then a walk over remembered tables, reading
 * only those that changed), and the verdict on each run of leaves. Kept per
 * linear-map run: the probes of check 1 and the hardware walk of check 5.
 * Kept per section: check 2 (the vmemmap probes).
 */
import type { GuestSystem } from '../kernel/system.js';
import type { Kernel } from '../kernel/kernel.js';
import type { PhysMem } from '../hw/physmem.js';
import { ptePpn, PTE_V } from '../hw/pte.js';
import { _PAGE_LEAF, tableIndex } from '../kernel/arch/riscv/pgtable.js';
import type { MemSection } from '../kernel/mm/mmzone.js';
import {
  checkHardwareWalk,
  checkInsideWindow,
  checkLeaves,
  checkLinearRun,
  checkMemmap,
  checkRest,
  checkTablePages,
  linearRuns,
  linearWindow,
  reachableFrom,
  reporter,
  tableSegments,
  validEntries,
  type Leaf,
  type Lookup,
  type Report,
  type Segment,
  type Violation,
} from './invariants.js';

/** A violation without its operation: what a kept result replays. */
type Found = Parameters<Report>;

/** A kept result: what it found, and the page-table entries and sections it read. */
interface Kept {
  found: Found[];
  /** (table pfn, index) pairs, flat. */
  entries: readonly number[];
  sections: readonly number[];
  /** Set when something it read changed: it is computed again when next asked for. */
  stale: boolean;
  /** The last check that used it: what no check used lately is gone from the machine. */
  used: number;
}

interface KeptRun extends Kept {
  end: number;
}

interface KeptInFlight extends Kept {
  inFlight: number[];
}

interface TableSegments {
  level: number;
  base: number;
  root: boolean;
  segments: readonly Segment[];
}

/** The fields of a section the checks read (besides its number). */
interface SectionFields {
  ms: MemSection;
  present: boolean;
  early: boolean;
  hasMemMap: boolean;
  subsectionMap: bigint;
  /** The check that last saw it. */
  epoch: number;
}

export class InvariantChecker {
  private readonly k: Kernel;
  private readonly mem: PhysMem;
  /** A copy of every page-table page a kept result read: a change is diffed to the entries it touched. */
  private readonly words = new Map<number, Uint32Array>();
  /** Per table page: its entries as segments, for the walk. */
  private readonly segCache = new Map<number, TableSegments>();
  /** The last walk: its tables and leaf groups, valid while none of its tables changed. */
  private walk: { tables: Set<number>; leafGroups: Leaf[][] } | undefined;
  /** The linear runs and present sections, while no section changed. */
  private runs: ReturnType<typeof linearRuns> | undefined;
  /** The vmemmap pfns of the last walk's leaves, while no run of leaves was computed again. */
  private inFlight: Set<number> | undefined;
  /** k.pt.vmemmapBlocks' pfns, ascending, as of the last check. */
  private vmemmapSorted: number[] = [];
  private runsPagemaps: readonly object[] = [];
  private runKept: Array<KeptRun | undefined> = [];
  private walkKept: Array<KeptRun | undefined> = [];
  private inFlightOf: object | undefined;
  private readonly runCache = new Map<number, KeptRun>();
  private readonly walkCache = new Map<number, KeptRun>();
  private readonly memmapCache = new Map<MemSection, Kept>();
  private readonly leafCache = new WeakMap<Leaf[], KeptInFlight>();
  /** Who read what: a change marks them stale. */
  /** Per table pfn, per entry index: the results that read it (two levels keep the keys small integers). */
  private readonly byEntry = new Map<number, Array<Kept[] | undefined>>();
  private readonly bySection = new Map<number, Kept[]>();
  private readonly sections = new Map<number, SectionFields>();
  private sortedTables: ArrayLike<number> = [];
  private tablesOfSorted: Set<number> | undefined;
  /** Workload pages that lost their tag, as of the last check (undefined: find them all again). */
  private corruptedPages: Set<number> | undefined;
  /** The frames that changed before this check, log[from..] (undefined: unknown, all may have). */
  private changedFrames: { log: readonly number[]; from: number } | undefined;
  /** The change count at the last check. */
  private checkedAt: number;
  private checks = 0;
  /** What was computed again rather than reused, since the checker was made (for tests and tuning). */
  readonly recomputed = { runs: 0, walks: 0, memmaps: 0, leafGroups: 0, tableWalks: 0, tablesRead: 0 };

  constructor(readonly sys: GuestSystem) {
    this.k = sys.kernel;
    this.mem = sys.kernel.mem;
    this.mem.trackChanges(this);
    this.k.workload.trackChanges();
    this.checkedAt = this.mem.changeCount;
  }

  /** The table page's words as last seen, remembered from the first read on. */
  private remember(table: number): void {
    if (!this.words.has(table)) this.words.set(table, this.mem.read(table).slice());
  }

  /** Marks stale what read the entries and sections (`all`, ascending) that changed since the last check. */
  private invalidate(all: readonly MemSection[]): void {
    const changes = this.mem.changesSince(this.checkedAt);
    this.checkedAt = this.mem.changeCount;
    this.changedFrames = changes;
    if (changes === undefined || changes.log.includes(-1, changes.from)) {
      // The log was cut, or regions came or went (a frame may now read as a hole): start afresh.
      this.changedFrames = undefined;
      this.forget();
    } else {
      // Most changed frames are no page table (workload pages): one lookup each, then skipped.
      const { log, from } = changes;
      let done: Set<number> | undefined;
      for (let c = from; c < log.length; c++) {
        const pfn = log[c]!;
        const was = this.words.get(pfn);
        if (was === undefined) continue; // nothing kept read it
        done ??= new Set();
        if (done.has(pfn)) continue;
        done.add(pfn);
        if (pfn === this.k.pt.rootPfn || this.walk?.tables.has(pfn)) this.walk = undefined;
        this.segCache.delete(pfn);
        const now = this.mem.readOrUndefined(pfn);
        if (now === undefined) {
          this.forget();
          break;
        }
        const readers = this.byEntry.get(pfn);
        if (readers)
          for (let i = 0; i < 512; i++) {
            if (was[2 * i] === now[2 * i] && was[2 * i + 1] === now[2 * i + 1]) continue;
            const list = readers[i];
            if (list === undefined) continue;
            for (const r of list) r.stale = true;
            readers[i] = undefined;
          }
        was.set(now);
      }
    }
    // Sections: compare the fields the checks read with what they were at the last check.
    const epoch = ++this.checks;
    for (const ms of all) {
      const was = this.sections.get(ms.nr);
      if (
        was &&
        was.ms === ms &&
        was.present === ms.present &&
        was.early === ms.early &&
        was.hasMemMap === ms.hasMemMap &&
        was.subsectionMap === ms.subsectionMap
      ) {
        was.epoch = epoch;
        continue;
      }
      this.sections.set(ms.nr, {
        ms,
        present: ms.present,
        early: ms.early,
        hasMemMap: ms.hasMemMap,
        subsectionMap: ms.subsectionMap,
        epoch,
      });
      this.stale(this.bySection, ms.nr);
      this.runs = undefined;
    }
    // Sections that are gone.
    if (this.sections.size !== all.length)
      for (const [nr, f] of this.sections)
        if (f.epoch !== epoch) {
          this.sections.delete(nr);
          this.stale(this.bySection, nr);
          this.runs = undefined;
        }
  }

  private stale(index: Map<number, Kept[]>, key: number): void {
    const list = index.get(key);
    if (!list) return;
    for (const r of list) r.stale = true;
    index.delete(key);
  }

  private forget(): void {
    this.runs = undefined;
    this.inFlight = undefined;
    this.words.clear();
    this.segCache.clear();
    this.walk = undefined;
    this.runCache.clear();
    this.walkCache.clear();
    this.memmapCache.clear();
    this.byEntry.clear();
    this.bySection.clear();
    this.sections.clear();
  }

  /** Keeps a result: registers it with the entries and sections it read. */
  private keep<T extends Kept>(r: T): T {
    const e = r.entries;
    for (let j = 0; j < e.length; j += 2) {
      let readers = this.byEntry.get(e[j]!);
      if (!readers) {
        readers = new Array<Kept[] | undefined>(512);
        this.byEntry.set(e[j]!, readers);
      }
      const list = readers[e[j + 1]!];
      if (list) list.push(r);
      else readers[e[j + 1]!] = [r];
    }
    for (const nr of r.sections) {
      const list = this.bySection.get(nr);
      if (list) list.push(r);
      else this.bySection.set(nr, [r]);
    }
    return r;
  }

  /** Runs `check` with a lookup that notes the entries it reads (and those of the walk it returns). */
  private fromTables(
    check: (
      lookup: Lookup,
      report: Report,
    ) => { ptePfns: readonly number[]; pteIndexes: readonly number[] } | void,
  ): { found: Found[]; entries: number[] } {
    const k = this.k;
    const entries: number[] = [];
    const found: Found[] = [];
    // k.pt.lookup, noting each entry read.
    const lookup: Lookup = (vpn) => {
      let table = k.pt.rootPfn;
      for (let level = k.pt.rootLevel; ; level--) {
        const idx = tableIndex(vpn, level);
        this.remember(table);
        entries.push(table, idx);
        const lo = k.pt.readLo(table, idx);
        if ((lo & PTE_V) === 0 || (lo & _PAGE_LEAF) !== 0 || level === 0)
          return { tablePfn: table, index: idx, level, leaf: (lo & PTE_V) !== 0 && (lo & _PAGE_LEAF) !== 0 };
        table = ptePpn(lo, k.pt.readHi(table, idx));
      }
    };
    const walked = check(lookup, (...a) => found.push(a));
    if (walked)
      walked.ptePfns.forEach((t, i) => {
        if (!this.mem.isBacked(t)) return; // the walk's access fault: no table to remember
        this.remember(t);
        entries.push(t, walked.pteIndexes[i]!);
      });
    // Lookups of neighbouring addresses read the same upper entries: once is enough.
    const unique: number[] = [];
    for (let j = 0; j < entries.length; j += 2) {
      let seen = false;
      for (let q = 0; q < unique.length && !seen; q += 2)
        seen = unique[q] === entries[j] && unique[q + 1] === entries[j + 1];
      if (!seen) unique.push(entries[j]!, entries[j + 1]!);
    }
    return { found, entries: unique };
  }

  private segmentsOf(table: number, level: number, base: number, root: boolean): readonly Segment[] {
    const kept = this.segCache.get(table);
    if (kept && kept.level === level && kept.base === base && kept.root === root) return kept.segments;
    this.remember(table);
    this.recomputed.tablesRead++;
    const segments = tableSegments(validEntries(this.k, table), level, base, root);
    this.segCache.set(table, { level, base, root, segments });
    return segments;
  }

  /** The violations after `op`: exactly what `checkInvariants(sys, op)` returns now. */
  check(op: string): Violation[] {
    const k = this.k;
    const all = k.sparse.all();
    this.invalidate(all);
    const out: Violation[] = [];
    const v = reporter(out, op);
    const epoch = this.checks;
    const replay = (r: Kept): void => {
      r.used = epoch;
      for (let i = 0; i < r.found.length; i++) v(...r.found[i]!);
    };
    // Which memory the linear map must cover follows the sections (and the private device ranges, which change them).
    const maps = k.devPagemaps;
    if (maps.length !== this.runsPagemaps.length || maps.some((m, i) => m !== this.runsPagemaps[i])) {
      this.runs = undefined;
      this.runsPagemaps = maps.slice();
    }
    if (!this.runs) {
      this.runs = linearRuns(k, all);
      // The kept results in the runs' order, so the loops below index instead of hashing.
      this.runKept = this.runs.runs.map((run) => this.runCache.get(run[1]));
      this.walkKept = this.runs.runs.map((run) => this.walkCache.get(run[1]));
    }
    const { present, runs } = this.runs;

    // 1. Each run's probes.
    for (let i = 0; i < runs.length; i++) {
      const run = runs[i]!;
      let r = this.runKept[i];
      if (!r || r.stale || r.end !== run[2]) {
        this.recomputed.runs++;
        const got = this.fromTables((lookup, report) => checkLinearRun(k, run, lookup, report));
        r = this.keep({ ...got, sections: [], stale: false, used: 0, end: run[2] });
        this.runCache.set(run[1], r);
        this.runKept[i] = r;
      }
      replay(r);
    }

    if (!this.walk) this.recomputed.tableWalks++;
    this.walk ??= reachableFrom(k, (t, level, base, root) => this.segmentsOf(t, level, base, root));
    const { tables, leafGroups } = this.walk;
    const window = linearWindow(k);
    for (const s of present) checkInsideWindow(k, s, v, window);

    // Each run of leaves (the array is the same while its table did not change).
    let inFlight = this.inFlight;
    for (const leaves of leafGroups) {
      let r = this.leafCache.get(leaves);
      if (!r || r.stale) {
        this.recomputed.leafGroups++;
        const found: Found[] = [];
        const flying: number[] = [];
        const looked: number[] = [];
        checkLeaves(k, leaves, (...a) => found.push(a), flying, looked);
        r = this.keep({
          found,
          entries: [],
          sections: [...new Set(looked)],
          stale: false,
          used: 0,
          inFlight: flying,
        });
        this.leafCache.set(leaves, r);
        inFlight = undefined;
      }
      replay(r);
    }
    if (!inFlight || this.inFlightOf !== this.walk) {
      inFlight = new Set<number>();
      for (const leaves of leafGroups)
        for (const pfn of this.leafCache.get(leaves)!.inFlight) inFlight.add(pfn);
      this.inFlight = inFlight;
      this.inFlightOf = this.walk;
    }

    // 2. Each section's vmemmap probes.
    for (const s of all) {
      if (!s.hasMemMap) continue;
      let r = this.memmapCache.get(s);
      // A lost vmemmap is explained with the last vmemmap_free, which is not kept: found again each time.
      if (!r || r.stale || r.found.length) {
        this.recomputed.memmaps++;
        const got = this.fromTables((lookup, report) => checkMemmap(k, s, lookup, report));
        r = this.keep({ ...got, sections: [s.nr], stale: false, used: 0 });
        this.memmapCache.set(s, r);
      }
      replay(r);
    }

    // 3. The buddy probes only when some table or vmemmap page is free at all (one merge per zone).
    if (this.tablesOfSorted !== tables) {
      this.tablesOfSorted = tables;
      // A typed array sorts numerically, without a comparison callback.
      // A new walk mostly finds the same tables (an entry changed, not which tables exist).
      const was = this.sortedTables;
      let same = was.length === tables.size;
      for (let i = 0; same && i < was.length; i++) same = tables.has(was[i]!);
      if (!same) {
        const sorted = new Float64Array(tables.size);
        let n = 0;
        for (const t of tables) sorted[n++] = t;
        this.sortedTables = sorted.sort();
      }
    }
    const blocks = k.pt.vmemmapBlocks;
    let vmemmap = this.vmemmapSorted;
    if (vmemmap.length !== blocks.size || !vmemmap.every((p) => blocks.has(p)))
      vmemmap = this.vmemmapSorted = [...blocks.keys()].sort((a, b) => a - b);
    const mayBeFree = k.pgdat.zones.some((z) => z.free.anyFree(this.sortedTables) || z.free.anyFree(vmemmap));
    checkTablePages(k, tables, inFlight, v, mayBeFree);

    // 5 (inside checkRest): each run's hardware walk.
    checkRest(this.sys, v, () => {
      for (let i = 0; i < runs.length; i++) {
        const run = runs[i]!;
        let r = this.walkKept[i];
        if (!r || r.stale || r.end !== run[0]) {
          this.recomputed.walks++;
          const got = this.fromTables((_lookup, report) => checkHardwareWalk(k, run, report));
          r = this.keep({ ...got, sections: [], stale: false, used: 0, end: run[0] });
          this.walkCache.set(run[1], r);
          this.walkKept[i] = r;
        }
        replay(r);
      }
    }, () => this.corrupted());
    this.prune();
    // Read to the end (the views above are not used after this): the log may empty.
    this.mem.caughtUp(this, this.checkedAt);
    return out;
  }

  /**
   * Check 7's workload pages that lost their tag: a page can only lose it when its frame or its
   * workload record changed, so only those pages are looked at again.
   */
  private corrupted(): number[] {
    const k = this.k;
    const records = k.workload.takeChanges();
    let bad = this.corruptedPages;
    if (bad === undefined || records === undefined || this.changedFrames === undefined) {
      bad = this.corruptedPages = new Set(k.workload.corrupted(k));
    } else {
      const note = (pfn: number): void => {
        if (k.workload.isCorrupted(k, pfn)) bad!.add(pfn);
        else bad!.delete(pfn);
      };
      for (const pfn of records) note(pfn);
      const { log, from } = this.changedFrames;
      for (let c = from; c < log.length; c++) note(log[c]!);
    }
    return bad.size ? [...bad].sort((a, b) => a - b) : [];
  }

  /**
   * Now and then, drops what no check used lately (sections and runs that are gone, results that
   * were computed again), so the caches follow the machine's size, not its history.
   */
  private prune(): void {
    if (this.checks % 64 !== 0) return;
    const live = (r: Kept): boolean => !r.stale && r.used >= this.checks - 1;
    for (const cache of [this.runCache, this.walkCache, this.memmapCache] as Array<Map<unknown, Kept>>)
      for (const [key, r] of cache) if (!live(r)) cache.delete(key);
    for (const [key, list] of this.bySection) {
      const kept = list.filter(live);
      if (kept.length === 0) this.bySection.delete(key);
      else this.bySection.set(key, kept);
    }
    const read = new Set<number>();
    for (const [pfn, readers] of this.byEntry) {
      let any = false;
      for (let i = 0; i < 512; i++) {
        const list = readers[i];
        if (list === undefined) continue;
        const kept = list.filter(live);
        readers[i] = kept.length ? kept : undefined;
        any ||= kept.length > 0;
      }
      if (any) read.add(pfn);
      else this.byEntry.delete(pfn);
    }
    // Table copies nothing reads any more (tables freed, or out of the walk).
    for (const t of this.words.keys())
      if (!read.has(t) && !this.walk?.tables.has(t) && t !== this.k.pt.rootPfn) {
        this.words.delete(t);
        this.segCache.delete(t);
      }
  }
}
