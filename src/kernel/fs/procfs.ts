/**
 * /proc files that show memory: meminfo, iomem, zoneinfo, vmstat, buddyinfo,
 * plus cmdline and version, and node0/meminfo. Counters the model keeps are exact; counters of
 * software the model does not run (page cache, slab, stacks) come from the
 * kernel profile.
 */
import type { Kernel } from '../kernel.js';
import { formatIomem } from '../kernel/resource.js';
import { nrFreePages } from '../mm/page_alloc.js';
import {
  NODE_STAT_ITEMS,
  NUMA_STAT_ITEMS,
  ZONE_STAT_ITEMS,
  globalDirtyLimits,
  nodeStats,
  numaStats,
  statThreshold,
  totalReservePages,
  zoneStats,
  zoneWatermarks,
} from '../mm/vmstat.js';
import { pcpLimits } from '../mm/pcp.js';

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
  const node = nodeStats(k);
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
    kbv('Slab:           ', node.nr_slab_unreclaimable * 4),
    kbv('SReclaimable:   ', 0),
    kbv('SUnreclaim:     ', node.nr_slab_unreclaimable * 4),
    kbv('KernelStack:    ', node.nr_kernel_stack),
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

/**
 * /proc/zoneinfo as zoneinfo_show_print() prints it: every zone; the node's
 * counters before the first populated zone; for populated zones the zone
 * counters, the NUMA events and each online CPU's pageset.
 */
export function procZoneinfo(k: Kernel): string {
  let out = '';
  const first = k.pgdat.zones.find((z) => z.isPopulated());
  const stat = (name: string, v: number): string => `\n      ${name.padEnd(12)} ${v}`;
  for (const z of k.pgdat.zones) {
    const wm = zoneWatermarks(k, z);
    out += `Node 0, zone ${z.name.padStart(8)}`;
    if (z === first) {
      out += '\n  per-node stats';
      const node = nodeStats(k);
      for (const n of NODE_STAT_ITEMS) out += stat(n, node[n]);
    }
    out +=
      `\n  pages free     ${z.free.freePages}` +
      `\n        boost    0` +
      `\n        min      ${wm.min}` +
      `\n        low      ${wm.low}` +
      `\n        high     ${wm.high}` +
      `\n        promo    ${wm.promo}` +
      `\n        spanned  ${z.spannedPages}` +
      `\n        present  ${z.presentPages}` +
      `\n        managed  ${z.managedPages}` +
      `\n        cma      0` +
      `\n        protection: (${k.pgdat.zones.map(() => 0).join(', ')})`;
    if (!z.isPopulated()) {
      out += '\n';
      continue;
    }
    const zs = zoneStats(k, z);
    for (const n of ZONE_STAT_ITEMS) out += stat(n, zs[n]);
    const numa = numaStats(z);
    NUMA_STAT_ITEMS.forEach((n, i) => (out += stat(n, numa[i]!)));
    out += '\n  pagesets';
    const lim = pcpLimits(k, z);
    const threshold = statThreshold(k, z);
    for (let cpu = 0; cpu < Math.min(k.machine.smp, k.profile.nrCpus); cpu++) {
      // pcp->high stays 0 until the CPU first uses the list; the model shows high_min then.
      const high = k.pcp.used(z, cpu) ? lim.highMin : 0;
      out +=
        `\n    cpu: ${cpu}` +
        `\n              count: ${k.pcp.count(z, cpu)}` +
        `\n              high:  ${high}` +
        `\n              batch: ${lim.batch}` +
        `\n  vm stats threshold: ${threshold}`;
    }
    out += `\n  node_unreclaimable:  0\n  start_pfn:           ${z.zoneStartPfn}\n`;
  }
  return out;
}

/**
 * /proc/vmstat (vmstat_start, vmstat_show): zone, NUMA and node counters, the
 * dirty limits and the memmap counters, then the deprecated nr_unstable. This
 * build has no VM_EVENT_COUNTERS, so no event counters follow.
 */
export function procVmstat(k: Kernel): string {
  const lines: string[] = [];
  const zones = k.pgdat.zones;
  for (const n of ZONE_STAT_ITEMS) lines.push(`${n} ${zones.reduce((s, z) => s + zoneStats(k, z)[n], 0)}`);
  NUMA_STAT_ITEMS.forEach((n, i) => lines.push(`${n} ${zones.reduce((s, z) => s + numaStats(z)[i]!, 0)}`));
  const node = nodeStats(k);
  for (const n of NODE_STAT_ITEMS) lines.push(`${n} ${node[n]}`);
  const [bg, dirty] = globalDirtyLimits(k);
  lines.push(`nr_dirty_threshold ${dirty}`, `nr_dirty_background_threshold ${bg}`);
  lines.push(`nr_memmap_pages ${k.memmapPages}`, `nr_memmap_boot_pages ${k.memmapBootPages}`);
  lines.push('nr_unstable 0');
  return lines.join('\n') + '\n';
}

/** /sys/devices/system/node/node0/meminfo (node_read_meminfo, with hugetlb's three lines). */
export function nodeMeminfo(k: Kernel): string {
  const total = k.pgdat.zones.reduce((s, z) => s + z.managedPages, 0);
  const free = nrFreePages(k);
  const node = nodeStats(k);
  const f = (label: string, pages: number): string => `Node 0 ${label}${String(pages * 4).padStart(8)} kB`;
  const slab = node.nr_slab_reclaimable + node.nr_slab_unreclaimable;
  return (
    [
      f('MemTotal:       ', total),
      f('MemFree:        ', free),
      f('MemUsed:        ', total - free),
      f('SwapCached:     ', 0),
      f('Active:         ', node.nr_active_anon + node.nr_active_file),
      f('Inactive:       ', node.nr_inactive_anon + node.nr_inactive_file),
      f('Active(anon):   ', node.nr_active_anon),
      f('Inactive(anon): ', node.nr_inactive_anon),
      f('Active(file):   ', node.nr_active_file),
      f('Inactive(file): ', node.nr_inactive_file),
      f('Unevictable:    ', node.nr_unevictable),
      f('Mlocked:        ', 0),
      f('Dirty:          ', node.nr_dirty),
      f('Writeback:      ', node.nr_writeback),
      f('FilePages:      ', node.nr_file_pages),
      f('Mapped:         ', node.nr_mapped),
      f('AnonPages:      ', node.nr_anon_pages),
      f('Shmem:          ', node.nr_shmem),
      `Node 0 KernelStack:    ${String(node.nr_kernel_stack).padStart(8)} kB`,
      f('PageTables:     ', node.nr_page_table_pages),
      f('SecPageTables:  ', node.nr_sec_page_table_pages),
      f('NFS_Unstable:   ', 0),
      f('Bounce:         ', 0),
      f('WritebackTmp:   ', node.nr_writeback_temp),
      f('KReclaimable:   ', node.nr_slab_reclaimable + node.nr_kernel_misc_reclaimable),
      f('Slab:           ', slab),
      f('SReclaimable:   ', node.nr_slab_reclaimable),
      f('SUnreclaim:     ', node.nr_slab_unreclaimable),
      f('AnonHugePages:  ', 0),
      f('ShmemHugePages: ', 0),
      f('ShmemPmdMapped: ', 0),
      f('FileHugePages:  ', 0),
      f('FilePmdMapped:  ', 0),
      'Node 0 HugePages_Total:     0',
      'Node 0 HugePages_Free:      0',
      'Node 0 HugePages_Surp:      0',
    ].join('\n') + '\n'
  );
}
