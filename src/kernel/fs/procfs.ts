/**
 * /proc files that show memory: meminfo, iomem, zoneinfo, buddyinfo, plus
 * cmdline and version. Counters the model keeps are exact; counters of
 * software the model does not run (page cache, slab, stacks) come from the
 * kernel profile.
 */
import type { Kernel } from '../kernel.js';
import { formatIomem } from '../kernel/resource.js';
import { nrFreePages } from '../mm/page_alloc.js';
import { totalReservePages, zoneWatermarks } from '../mm/vmstat.js';

function kb(label: string, pages: number): string {
  return label + String(pages * 4).padStart(8) + ' kB';
}

function kbv(label: string, kbytes: number | bigint): string {
  return label + String(kbytes).padStart(8) + ' kB';
}

export function procMeminfo(k: Kernel): string {
  const rt = k.profile.meminfoRuntimeKb;
  const total = k.totalramPages;
  const free = nrFreePages(k);
  const available = Math.max(0, free - totalReservePages(k));
  const vmallocTotalKb = (k.layout.vmallocEnd - k.layout.vmallocStart) >> 10n;
  const lines = [
    kb('MemTotal:       ', total),
    kb('MemFree:        ', free),
    kb('MemAvailable:   ', available),
    kbv('Buffers:        ', 0),
    kbv('Cached:         ', rt.Cached),
    kbv('SwapCached:     ', 0),
    kbv('Active:         ', 0),
    kbv('Inactive:       ', 0),
    kbv('Active(anon):   ', 0),
    kbv('Inactive(anon): ', 0),
    kbv('Active(file):   ', 0),
    kbv('Inactive(file): ', 0),
    kbv('Unevictable:    ', rt.Unevictable),
    kbv('Mlocked:        ', 0),
    kbv('SwapTotal:      ', 0),
    kbv('SwapFree:       ', 0),
    kbv('Dirty:          ', 0),
    kbv('Writeback:      ', 0),
    kbv('AnonPages:      ', 0),
    kbv('Mapped:         ', rt.Mapped),
    kbv('Shmem:          ', 0),
    kbv('KReclaimable:   ', 0),
    kbv('Slab:           ', rt.Slab),
    kbv('SReclaimable:   ', 0),
    kbv('SUnreclaim:     ', rt.Slab),
    kbv('KernelStack:    ', rt.KernelStack),
    kbv('PageTables:     ', 0),
    kbv('SecPageTables:  ', 0),
    kbv('NFS_Unstable:   ', 0),
    kbv('Bounce:         ', 0),
    kbv('WritebackTmp:   ', 0),
    kb('CommitLimit:    ', Math.floor(total / 2)),
    kbv('Committed_AS:   ', rt.Committed_AS),
    kbv('VmallocTotal:   ', vmallocTotalKb),
    kbv('VmallocUsed:    ', rt.VmallocUsed),
    kbv('VmallocChunk:   ', 0),
    kbv('Percpu:         ', rt.Percpu),
    kbv('AnonHugePages:  ', 0),
    kbv('ShmemHugePages: ', 0),
    kbv('ShmemPmdMapped: ', 0),
    kbv('FileHugePages:  ', 0),
    kbv('FilePmdMapped:  ', 0),
    'HugePages_Total:       0',
    'HugePages_Free:        0',
    'HugePages_Rsvd:        0',
    'HugePages_Surp:        0',
    kbv('Hugepagesize:   ', 2048),
    kbv('Hugetlb:        ', 0),
  ];
  return lines.join('\n') + '\n';
}

export function procIomem(k: Kernel): string {
  return formatIomem(k.iomem);
}

export function procBuddyinfo(k: Kernel): string {
  let out = '';
  for (const z of k.pgdat.zones) {
    if (!z.isPopulated()) continue;
    out +=
      `Node 0, zone ${z.name.padStart(8)} ` +
      z.free
        .counts()
        .map((c) => String(c).padStart(6) + ' ')
        .join('') +
      '\n';
  }
  return out;
}

export function procZoneinfo(k: Kernel): string {
  const out: string[] = [];
  for (const z of k.pgdat.zones) {
    const wm = zoneWatermarks(k, z);
    out.push(`Node 0, zone ${z.name.padStart(8)}`);
    out.push(`  pages free     ${z.free.freePages}`);
    out.push(`        boost    0`);
    out.push(`        min      ${wm.min}`);
    out.push(`        low      ${wm.low}`);
    out.push(`        high     ${wm.high}`);
    out.push(`        promo    ${wm.promo}`);
    out.push(`        spanned  ${z.spannedPages}`);
    out.push(`        present  ${z.presentPages}`);
    out.push(`        managed  ${z.managedPages}`);
    out.push(`        cma      0`);
    out.push(`        protection: (${k.pgdat.zones.map(() => 0).join(', ')})`);
    if (!z.isPopulated()) continue;
    out.push(`      nr_free_pages ${z.free.freePages}`);
    out.push(`  node_unreclaimable:  0`);
    out.push(`  start_pfn:           ${z.zoneStartPfn}`);
  }
  return out.join('\n') + '\n';
}
