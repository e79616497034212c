/**
 * The kernel page tables as a tree, read one table page at a time from the machine's physical
 * memory (through KernelPageTables, the kernel's own accessor; nothing is written). Entries are
 * grouped the way a reader wants them: runs of empty slots, runs of like leaves, and tables.
 */
import type { Kernel } from '../../../src/kernel/kernel.js';
import { LEVEL_PAGES, _PAGE_LEAF } from '../../../src/kernel/arch/riscv/pgtable.js';
import { ptdumpMarkers } from '../../../src/kernel/arch/riscv/ptdump.js';
import { ptePpn, PTE_FLAGS_MASK } from '../../../src/hw/pte.js';
import { hex, size } from './format.js';

const VPN_SPACE = 2 ** 52; // page numbers of the full 64-bit space

export type EntryKind = 'table' | 'leaf' | 'empty';

/** A run of consecutive entries of one table: one table entry, like leaves, or empty slots. */
export interface EntryRun {
  kind: EntryKind;
  firstIndex: number;
  count: number;
  /** Full 64-bit virtual page number of the first entry. */
  vpn: number;
  /** Hardware level of the entries (0 = PTE). */
  level: number;
  /** Physical frame of the first entry's target (table page or mapped memory). */
  pfn: number;
  lo: number;
  hi: number;
  /** For tables: how many of the next-level table's 512 entries are in use (0 for a pre-allocated empty one). */
  used: number;
}

export interface VaRegion {
  name: string;
  startVpn: number;
  endVpn: number;
}

/** The named kernel regions between ptdump's markers (Linear mapping, vmemmap, vmalloc, ...). */
export function vaRegions(k: Kernel): VaRegion[] {
  const m = ptdumpMarkers(k.layout);
  const out: VaRegion[] = [];
  for (let i = 0; i + 1 < m.length; i++) {
    const name = m[i]!.name;
    if (/ end$/.test(name)) continue;
    const end = Math.min(m[i + 1]!.vpn, VPN_SPACE);
    out.push({ name: name.replace(/ start$| area$/, ''), startVpn: m[i]!.vpn, endVpn: end });
  }
  return out;
}

/** Names of the regions [vpn, vpn + pages) overlaps, or "" for none. */
export function regionsOf(regions: VaRegion[], vpn: number, pages: number): string {
  return regions
    .filter((r) => r.startVpn < vpn + pages && r.endVpn > vpn)
    .map((r) => r.name)
    .join(', ');
}

/** Virtual page number of entry `index` of a table at `level` whose range starts at `baseVpn`. */
export function entryVpn(k: Kernel, level: number, baseVpn: number, index: number): number {
  const span = LEVEL_PAGES[level]!;
  // The root's upper half holds the sign-extended (kernel) addresses.
  if (level === k.pt.rootLevel && index >= 256) return VPN_SPACE - (512 - index) * span;
  return baseVpn + index * span;
}

export function tableRuns(k: Kernel, tablePfn: number, level: number, baseVpn: number): EntryRun[] {
  const pt = k.pt;
  const span = LEVEL_PAGES[level]!;
  const runs: EntryRun[] = [];
  for (let i = 0; i < 512; i++) {
    const lo = pt.readLo(tablePfn, i);
    const hi = pt.readHi(tablePfn, i);
    const kind: EntryKind =
      lo === 0 && hi === 0 ? 'empty' : level === 0 || (lo & _PAGE_LEAF) !== 0 ? 'leaf' : 'table';
    const pfn = ptePpn(lo, hi);
    const used = kind === 'table' ? usedEntries(k, pfn) : 0;
    const prev = runs[runs.length - 1];
    // Like the kernel's ptdump: leaves merge when level and protection agree; we also ask for contiguous frames.
    const joins =
      prev !== undefined &&
      prev.kind === kind &&
      prev.firstIndex + prev.count === i &&
      (kind === 'empty' ||
        // Pre-allocated, still empty next-level tables (PGD entries of vmalloc, vmemmap, ...) read as one row.
        (kind === 'table' && used === 0 && prev.used === 0) ||
        (kind === 'leaf' &&
          (prev.lo & PTE_FLAGS_MASK) === (lo & PTE_FLAGS_MASK) &&
          prev.hi >>> 29 === hi >>> 29 &&
          prev.pfn + prev.count * span === pfn));
    if (joins) prev.count++;
    else
      runs.push({
        kind,
        firstIndex: i,
        count: 1,
        vpn: entryVpn(k, level, baseVpn, i),
        level,
        pfn,
        lo,
        hi,
        used,
      });
  }
  return runs;
}

function usedEntries(k: Kernel, tablePfn: number): number {
  let n = 0;
  for (let i = 0; i < 512; i++) if (k.pt.readLo(tablePfn, i) !== 0 || k.pt.readHi(tablePfn, i) !== 0) n++;
  return n;
}

export function vaRange(vpn: number, pages: number): string {
  const start = BigInt(vpn) << 12n;
  return `${hex(start, 16)}–${hex(start + (BigInt(pages) << 12n) - 1n, 16)}`;
}

/** "1 GiB" for a PUD leaf in any mode. */
export function leafSize(level: number): string {
  return size(BigInt(LEVEL_PAGES[level]!) << 12n);
}

export function levelPages(level: number): number {
  return LEVEL_PAGES[level]!;
}
