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
}

const hexPa = (pfn: number): string => '0x' + (BigInt(pfn) << 12n).toString(16);
const hexVa = (vpn: number): string => '0x' + (BigInt(vpn) << 12n).toString(16);

/** All page-table pages reachable from swapper_pg_dir (the root excluded), and all leaves (vpn, level, pfn). */
function reachable(k: Kernel): { tables: Set<number>; leaves: Array<[number, number, number]> } {
  const tables = new Set<number>();
  const leaves: Array<[number, number, number]> = [];
  const visit = (table: number, level: number, base: number, root = false): void => {
    const span = LEVEL_PAGES[level]!;
    for (let i = 0; i < 512; i++) {
      const lo = k.pt.readLo(table, i);
      if ((lo & PTE_V) === 0) continue;
      const hi = k.pt.readHi(table, i);
      const pfn = ptePpn(lo, hi);
      // The upper half of the root table holds sign-extended (kernel) addresses.
      const vpn = root && i >= 256 ? 2 ** 52 - (512 - i) * span : base + i * span;
      if ((lo & _PAGE_LEAF) !== 0 || level === 0) leaves.push([vpn, level, pfn]);
      else if (!tables.has(pfn)) {
        tables.add(pfn);
        visit(pfn, level - 1, vpn);
      }
    }
  };
  // The top level covers the 64-bit space from 0 upwards (vpn modulo 2^52 handles the sign extension).
  visit(k.pt.rootPfn, k.pt.rootLevel, 0, true);
  return { tables, leaves };
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
  if (!ms || !ms.present) return false;
  if (ms.early) return true;
  const bit = BigInt(Math.floor((pfn % PAGES_PER_SECTION) / PAGES_PER_SUBSECTION));
  return ((ms.subsectionMap >> bit) & 1n) === 1n;
}

const hexRange = (s: number, e: number): string =>
  `[mem ${hexPa(s)}-0x${((BigInt(e) << 12n) - 1n).toString(16)}]`;

function isFreeInBuddy(k: Kernel, pfn: number): boolean {
  const zone = pageZone(k, pfn);
  return zone !== undefined && zone.free.isFree(pfn);
}

export function checkInvariants(sys: GuestSystem, op: string): Violation[] {
  const k = sys.kernel;
  const out: Violation[] = [];
  const v = (invariant: string, address: string, detail: string): void => {
    out.push({ invariant, address, detail, op });
  };
  const L = k.layout;
  const offsetPages = Number(L.vaPaOffset >> 12n);
  const present = k.sparse.all().filter((s) => s.present);
  // MEMORY_DEVICE_PRIVATE memory has struct pages but no linear mapping.
  const unmapped = devPagemaps(k)
    .filter((m) => m.type === 'private')
    .map((m) => [Number(m.start >> 12n), Number((m.end + 1n) >> 12n)] as const);
  const mapped = (pfn: number): boolean => !unmapped.some(([a, b]) => pfn >= a && pfn < b);
  // What to probe: a whole section's ends, or each active sub-section's ends.
  const linearRuns: Array<[number, number, number]> = [];
  for (const s of present) {
    const base = sectionNrToPfn(s.nr);
    if (s.early || s.subsectionMap === FULL_SUBSECTION_MAP) {
      if (mapped(base)) linearRuns.push([s.nr, base, base + PAGES_PER_SECTION]);
      continue;
    }
    for (const [a, b] of activeRuns(s))
      for (let p = a; p < b; p += PAGES_PER_SUBSECTION)
        if (mapped(p)) linearRuns.push([s.nr, p, p + PAGES_PER_SUBSECTION]);
  }

  // 1. The linear map covers exactly the present memory, each page at __va(pa).
  for (const [nr, a, b] of linearRuns) {
    for (const probe of [a, b - 1]) {
      const vpn = linearVpn(k, probe);
      const hit = k.pt.lookup(vpn);
      if (!hit.leaf) {
        v(
          'linear-map-covers-present-memory',
          hexPa(probe),
          `present memory (section ${nr}) has no linear mapping at va ${hexVa(vpn)}`,
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
  const { tables, leaves } = reachable(k);
  const linStart = Number(L.pageOffset >> 12n);
  const linEnd = Number(L.pageEnd >> 12n);
  const vmStart = Number(L.vmemmapStart >> 12n);
  const vmEnd = Number(L.vmemmapEnd >> 12n);
  const inFlight = new Set<number>();
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
        const ms = k.sparse.get(sec);
        if (!ms || !ms.present) {
          v(
            'linear-map-covers-only-present-memory',
            hexPa(sectionNrToPfn(sec)),
            `section ${sec} is not present but the linear map still maps it (leaf at ${hexVa(vpn)})`,
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
          );
          break;
        }
      }
    } else if (vpn >= vmStart && vpn < vmEnd) {
      inFlight.add(pfn);
    }
  }

  // 2. Every section with a memmap has its vmemmap mapped (a hot-added section: each active sub-section's part).
  for (const s of k.sparse.all()) {
    if (!s.hasMemMap) continue;
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
        if (k.pt.lookup(vs).leaf && k.pt.lookup(ve - 1).leaf) continue;
        const last = lost[lost.length - 1];
        if (last && last[1] === sub) last[1] = sub + step;
        else lost.push([sub, sub + step]);
      }
    }
    if (lost.length === 0) continue;
    const freed = lastSectionMemmapFree(k);
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
      );
    } else {
      v(
        'vmemmap-mapped-for-present-sections',
        hexVa(va),
        `section ${s.nr} has a memmap but the struct pages of ${hexRange(a, b)} are not mapped`,
      );
    }
  }

  // 3. Page-table pages: none leaked, none free while referenced; vmemmap backing likewise.
  for (const pfn of k.pt.tablePages) {
    if (!tables.has(pfn))
      v(
        'no-leaked-page-table-pages',
        hexPa(pfn),
        'a page the kernel took for a page table is no longer referenced (leaked)',
      );
  }
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
    if (isFreeInBuddy(k, pfn))
      v(
        'no-freed-vmemmap-in-use',
        hexPa(pfn),
        'mapped vmemmap backing memory is free in the buddy allocator',
      );
  }

  // 4. Buddy free lists and zone counters add up.
  let managed = 0;
  for (const z of k.pgdat.zones) {
    managed += z.managedPages;
    if (z.free.freePages > z.managedPages)
      v('zone-counters', `zone ${z.name}`, `free ${z.free.freePages} pages > managed ${z.managedPages}`);
    if (z.presentPages < 0 || z.managedPages < 0) v('zone-counters', `zone ${z.name}`, 'negative page count');
    for (const [s, e] of z.free.extents()) {
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

  // 5. The hardware agrees: hart 0's MMU walk finds what the kernel believes.
  const cfg = { mode: k.mode, rootPpn: k.pt.rootPfn };
  for (const [, pfn] of linearRuns) {
    const r = walkVa(k.mem, cfg, BigInt(linearVpn(k, pfn)) << 12n, 'load');
    if (!r.ok || r.ppn !== pfn) {
      v(
        'hardware-walk-agrees',
        hexPa(pfn),
        r.ok
          ? `hart 0 translates __va to ${hexPa(r.ppn)}`
          : `hart 0 faults (${r.cause}) on __va of present memory`,
      );
    }
  }

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
  for (const pfn of k.workload.corrupted(k))
    v('migration-preserves-content', hexPa(pfn), 'a workload page lost its content tag');
  return out;
}

export function formatViolation(x: Violation): string {
  return `invariant ${x.invariant} violated after "${x.op}" at ${x.address}: ${x.detail}`;
}
