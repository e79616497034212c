/**
 * /sys/kernel/debug/kernel_page_tables in the riscv ptdump format
 * (arch/riscv/mm/ptdump.c over the generic walker of mm/ptdump.c): runs of
 * leaves with the same level and protection bits are merged (their physical
 * addresses are not compared), section markers are printed as the walk
 * passes them, holes end a run and print nothing.
 */
import { PTE_FLAGS_MASK, ptePpn } from '../../../hw/pte.js';
import type { KernelLayout } from './layout.js';
import { LEVEL_PAGES, type KernelPageTables } from './pgtable.js';
import type { Kernel } from '../../kernel.js';
import { withOnlineMems } from '../../locking/hotplug_locks.js';

interface Marker {
  vpn: number;
  name: string;
}

const VPN_END = 2 ** 52; // one past the last page of the 64-bit space

function vpnOf(va: bigint): number {
  return Number(va >> 12n);
}

export function ptdumpMarkers(layout: KernelLayout): Marker[] {
  return [
    { vpn: vpnOf(layout.fixaddrStart), name: 'Fixmap start' },
    { vpn: vpnOf(layout.fixaddrTop), name: 'Fixmap end' },
    { vpn: vpnOf(layout.pciIoStart), name: 'PCI I/O start' },
    { vpn: vpnOf(layout.pciIoEnd), name: 'PCI I/O end' },
    { vpn: vpnOf(layout.vmemmapStart), name: 'vmemmap start' },
    { vpn: vpnOf(layout.vmemmapEnd), name: 'vmemmap end' },
    { vpn: vpnOf(layout.vmallocStart), name: 'vmalloc() area' },
    { vpn: vpnOf(layout.vmallocEnd), name: 'vmalloc() end' },
    { vpn: vpnOf(layout.pageOffset), name: 'Linear mapping' },
    { vpn: vpnOf(layout.modulesVaddr), name: 'Modules/BPF mapping' },
    { vpn: vpnOf(layout.kernelVirtAddr), name: 'Kernel mapping' },
    { vpn: Infinity, name: '' },
  ];
}

const UNITS = 'KMGTPE';

function hex16(vpn: number): string {
  return '0x' + (BigInt(vpn) << 12n).toString(16).padStart(16, '0');
}

function hexPa(pfn: number): string {
  return '0x' + (BigInt(pfn) << 12n).toString(16).padStart(16, '0');
}

/** The ten flag columns: N, MT, RSW, D, A, G, U, X, W, R, V. */
function protColumns(lo: number, hiBits: number): string {
  const napot = (hiBits & 4) !== 0;
  const mt = hiBits & 3;
  const rsw = (lo >> 8) & 3;
  const bit = (mask: number, ch: string): string => ((lo & mask) !== 0 ? ch : '.');
  const mtText = mt === 0 ? '  ..  ' : mt === 1 ? 'MT(NC)' : mt === 2 ? 'MT(IO)' : 'MT(??)';
  const rswText = rsw === 0 ? '  ..  ' : `RSW(${rsw})`;
  return [
    napot ? 'N' : '.',
    mtText,
    rswText,
    bit(0x80, 'D'),
    bit(0x40, 'A'),
    bit(0x20, 'G'),
    bit(0x10, 'U'),
    bit(0x08, 'X'),
    bit(0x04, 'W'),
    bit(0x02, 'R'),
    bit(0x01, 'V'),
  ]
    .map((s) => ' ' + s)
    .join('');
}

export function kernelPageTables(pt: KernelPageTables, layout: KernelLayout): string {
  const markers = ptdumpMarkers(layout);
  let mi = 0;
  const out: string[] = [];
  let level = -1;
  let prot = 0; // flag bits | hi bits 29..31 shifted to 10..12
  let startVpn = 0;
  let startPfn = 0;

  const notePage = (vpn: number, lvl: number, lo: number, hi: number): void => {
    const p = lo === 0 && hi === 0 ? 0 : (lo & PTE_FLAGS_MASK) | (((hi >>> 29) & 7) << 10);
    const pfn = ptePpn(lo, hi);
    if (level === -1) {
      level = lvl;
      prot = p;
      startVpn = vpn;
      startPfn = pfn;
      out.push(`---[ ${markers[mi]!.name} ]---`);
    } else if (p !== prot || lvl !== level || vpn >= markers[mi + 1]!.vpn) {
      if (prot !== 0) {
        let delta = (vpn - startVpn) * 4;
        let unit = 0;
        while (delta % 1024 === 0 && unit < UNITS.length - 1) {
          delta /= 1024;
          unit++;
        }
        out.push(
          `${hex16(startVpn)}-${hex16(vpn)}    ${hexPa(startPfn)} ${String(delta).padStart(9)}${UNITS[unit]} ` +
            pt.levelName(level) +
            protColumns(prot & PTE_FLAGS_MASK, prot >> 10),
        );
      }
      while (vpn >= markers[mi + 1]!.vpn) {
        mi++;
        out.push(`---[ ${markers[mi]!.name} ]---`);
      }
      startVpn = vpn;
      startPfn = pfn;
      prot = p;
      level = lvl;
    }
  };

  pt.walk(vpnOf(layout.kernVirtStart), VPN_END, {
    leaf: (vpn, lvl, lo, hi) => notePage(vpn, lvl, lo, hi),
    hole: (vpn, lvl, end) => {
      notePage(vpn, lvl, 0, 0);
      // The rest of the run changes nothing, except at the first entry past each section marker.
      const span = LEVEL_PAGES[lvl]!;
      const second = vpn - (vpn % span) + span;
      for (;;) {
        const entry = Math.max(second, Math.ceil(markers[mi + 1]!.vpn / span) * span);
        if (entry >= end) break;
        notePage(entry, lvl, 0, 0);
      }
    },
  });
  // note_page_flush: level -1 forces the last run out; address 0 passes no marker.
  notePage(0, -1, 0, 0);
  return out.join('\n') + '\n';
}

/**
 * ptdump_show() for kernel_page_tables: the walk runs under get_online_mems(), so memory cannot
 * be added or removed (and page-table pages freed) under it. `withoutHotplugLock` walks without
 * it, as before that lock was added, for the concurrency explorer's ptdump-remove scenario.
 */
export function ptdumpShow(k: Kernel, withoutHotplugLock = false): string {
  if (withoutHotplugLock) return kernelPageTables(k.pt, k.layout);
  return withOnlineMems(k, () => kernelPageTables(k.pt, k.layout));
}
