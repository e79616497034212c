/**
 * The test driver the real-kernel recordings used (shared/oracle/kernel/hotplug_oracle.c),
 * modelled so the same scripts run: debugfs files that call add_memory,
 * add_memory_driver_managed, remove_memory and offline_and_remove_memory,
 * `last`, `info` and an exact `ptwalk` of the kernel page tables.
 */
import type { Kernel } from '../../kernel.js';
import { EINVAL, ENOENT, ENOSPC, ENXIO, ERANGE, KernelBug, KernelOops } from '../../errno.js';
import {
  memremapPages,
  memunmapPages,
  newDevPagemap,
  pfnValid,
  readStructPage,
  type DevPagemap,
} from '../../mm/memremap.js';
import { newAltmap, type VmemAltmap } from '../../mm/sparse_vmemmap.js';
import { STRUCT_PAGE_SIZE } from '../../mm/mm_types.js';
import {
  MHP_MEMMAP_ON_MEMORY,
  MHP_NONE,
  addMemory,
  addMemoryDriverManaged,
  mhpSupportsMemmapOnMemory,
  offlineAndRemoveMemory,
  removeMemory,
} from '../../mm/memory_hotplug.js';
import { u64 } from '../../arch/riscv/layout.js';
import { ptePpn, PTE_V } from '../../../hw/pte.js';
import { memoryBlockSizeBytes } from '../base/memory.js';
import { SECTION_SIZE_BITS } from '../../mm/mmzone.js';

export type OracleOp =
  | 'add'
  | 'add_memmap'
  | 'add_driver_managed'
  | 'remove'
  | 'offline_and_remove'
  | 'memremap'
  | 'memremap_altmap'
  | 'memunmap';
export const ORACLE_OPS: readonly OracleOp[] = [
  'add',
  'add_memmap',
  'add_driver_managed',
  'remove',
  'offline_and_remove',
];
/** The files a CONFIG_ZONE_DEVICE build of the driver adds (besides `page`). */
export const ORACLE_ZONE_DEVICE_OPS: readonly OracleOp[] = ['memremap', 'memremap_altmap', 'memunmap'];

/** The driver's pgmap slots (ORACLE_MAX_PGMAPS). */
const ORACLE_MAX_PGMAPS = 32;

const hx = (v: bigint): string => '0x' + v.toString(16);

/** kstrtou64(s, 0): decimal, 0x hex or 0 octal; the whole token must parse. The value or -errno. */
function kstrtou64(s: string): bigint | number {
  const t = s.endsWith('\n') ? s.slice(0, -1) : s;
  let v: bigint;
  if (/^0[xX][0-9a-fA-F]+$/.test(t)) v = BigInt(t);
  else if (/^0[0-7]*$/.test(t)) v = t.length > 1 ? BigInt('0o' + t.slice(1)) : 0n;
  else if (/^\+?[1-9][0-9]*$/.test(t)) v = BigInt(t.replace('+', ''));
  else return -EINVAL;
  if (v >= 1n << 64n) return -ERANGE;
  return v;
}

/** oracle_parse(): "START SIZE" with blanks trimmed; the pair or -errno. */
export function oracleParse(buf: string): [bigint, bigint] | number {
  const p = buf.trim();
  const m = /^(\S+)[ \t]+(.*)$/s.exec(p);
  if (!m) return -EINVAL;
  const start = kstrtou64(m[1]!);
  if (typeof start === 'number') return start;
  const size = kstrtou64(m[2]!.trim());
  if (typeof size === 'number') return size;
  return [start, size];
}

export class HotplugOracle {
  last = 'none\n';
  private walkStart = 0n;
  private walkEnd = 0n;
  private walkDesc = 'unset';

  /** oracle_pgmaps[]: what memremap mapped, for memunmap to find by its exact range. */
  private readonly pgmaps: Array<DevPagemap | undefined> = new Array<DevPagemap | undefined>(
    ORACLE_MAX_PGMAPS,
  ).fill(undefined);

  constructor(private readonly k: Kernel) {}

  /** The START SIZE files this build of the driver has. */
  get ops(): readonly OracleOp[] {
    return this.k.profile.config.ZONE_DEVICE ? [...ORACLE_OPS, ...ORACLE_ZONE_DEVICE_OPS] : ORACLE_OPS;
  }

  /** The driver has the ZONE_DEVICE files (memremap, memremap_altmap, memunmap, page). */
  get zoneDevice(): boolean {
    return this.k.profile.config.ZONE_DEVICE;
  }

  /** oracle_memremap(): memremap_pages of a MEMORY_DEVICE_GENERIC pgmap on node 0; 0 or -errno. */
  private memremap(start: bigint, size: bigint, withAltmap: boolean): number {
    if (!size) return -EINVAL;
    const i = this.pgmaps.indexOf(undefined);
    if (i < 0) return -ENOSPC;
    let altmap: VmemAltmap | undefined;
    if (withAltmap) {
      // The memmap's pages, in whole 2 MiB vmemmap blocks; the rest is the device's data.
      const pages = Number(size >> 12n);
      const free = Math.ceil(Math.ceil((pages * STRUCT_PAGE_SIZE) / 4096) / 512) * 512;
      altmap = newAltmap(Number(start >> 12n), Number((start + size) >> 12n) - 1, free);
    }
    const pgmap = newDevPagemap('generic', start, size, altmap);
    const rc = memremapPages(this.k, pgmap, 0);
    if (rc) return rc;
    this.pgmaps[i] = pgmap;
    return 0;
  }

  /** oracle_memunmap(): memunmap_pages of the pgmap made for exactly [start, start + size); -ENOENT otherwise. */
  private memunmap(start: bigint, size: bigint): number {
    for (let i = 0; i < this.pgmaps.length; i++) {
      const m = this.pgmaps[i];
      if (m && m.start === start && m.end - m.start + 1n === size) {
        memunmapPages(this.k, m);
        this.pgmaps[i] = undefined;
        return 0;
      }
    }
    return -ENOENT;
  }

  /** oracle_page_write(): "PFN"; prints the struct page after a pfn_valid check. 0 or -errno. */
  page(buf: string): number {
    const k = this.k;
    if (buf.length === 0 || buf.length >= 32) return -EINVAL;
    const v = kstrtou64(buf.trim());
    if (typeof v === 'number') return v;
    const pfn = Number(v);
    if (!pfnValid(k, pfn)) {
      k.log.info(`hotplug_oracle: page ${hx(v)}: no memmap (pfn_valid is false)`);
      return -ENXIO;
    }
    const p = readStructPage(k, pfn, 'oracle_page_write');
    k.log.info(
      `hotplug_oracle: page ${hx(v)}: struct page at ${p.va.toString(16).padStart(16, '0')} flags=${hx(p.flags)} refcount=${p.refcount} zone=${p.zone}`,
    );
    return 0;
  }

  /** oracle_op_write(): 0 or -errno (a KernelBug escapes where the kernel would BUG). */
  op(op: OracleOp, buf: string): number {
    const k = this.k;
    if (buf.length === 0 || buf.length >= 96) return -EINVAL;
    const parsed = oracleParse(buf);
    if (typeof parsed === 'number') {
      k.log.info(`hotplug_oracle: ${op}: cannot parse "START SIZE" (${parsed})`);
      return parsed;
    }
    const [start, size] = parsed;
    const t0 = k.log.clockNs;
    let rc: number;
    try {
      rc = this.call(op, start, size);
    } catch (e) {
      if (e instanceof KernelBug && !(e instanceof KernelOops)) k.log.log(0, `kernel BUG: ${e.where}`);
      throw e;
    }
    // The model's clock stands in for ktime: a fixed cost per call keeps logs reproducible.
    k.log.tick(1000);
    const ns = k.log.clockNs - t0;
    this.last = `${op} ${hx(start)} ${hx(size)} rc=${rc} ns=${ns}\n`;
    k.log.info(`hotplug_oracle: ${op} start=${hx(start)} size=${hx(size)} -> rc=${rc} (${ns} ns)`);
    return rc;
  }

  private call(op: OracleOp, start: bigint, size: bigint): number {
    const k = this.k;
    switch (op) {
      case 'add':
        return addMemory(k, 0, start, size, MHP_NONE);
      case 'add_memmap':
        return addMemory(k, 0, start, size, MHP_MEMMAP_ON_MEMORY);
      case 'add_driver_managed':
        return addMemoryDriverManaged(k, 0, start, size, 'System RAM (oracle)', MHP_NONE);
      case 'remove':
        return removeMemory(k, start, size);
      case 'offline_and_remove':
        return offlineAndRemoveMemory(k, start, size);
      case 'memremap':
        return this.zoneDevice ? this.memremap(start, size, false) : -EINVAL;
      case 'memremap_altmap':
        return this.zoneDevice ? this.memremap(start, size, true) : -EINVAL;
      case 'memunmap':
        return this.zoneDevice ? this.memunmap(start, size) : -EINVAL;
    }
  }

  info(): string {
    const k = this.k;
    const L = k.layout;
    const r = L.mappableRange();
    const mode = k.mode.name;
    const lines = [
      `satp_mode=${mode}`,
      `pgtable_l4_enabled=${L.l4 ? 1 : 0} pgtable_l5_enabled=${L.l5 ? 1 : 0}`,
      `PAGE_OFFSET=${hx(L.pageOffset)}`,
      `VMEMMAP_START=${hx(L.vmemmapStart)} VMEMMAP_END=${hx(L.vmemmapEnd)}`,
      `VMALLOC_START=${hx(L.vmallocStart)} VMALLOC_END=${hx(L.vmallocEnd)}`,
      `PGDIR_SHIFT=${L.pgdirShift} PGDIR_SIZE=${hx(L.pgdirSize)} PTRS_PER_PGD=512`,
      `P4D_SIZE=0x8000000000 PUD_SIZE=0x40000000 PMD_SIZE=0x200000 PAGE_SIZE=0x1000`,
      `phys_ram_base=${hx(L.physRamBase)} va(phys_ram_base)=${hx(L.va(L.physRamBase))}`,
      `mappable_range=${hx(r.start)}-${hx(r.end)}`,
      `vmemmap(struct page of pfn 0)=${hx(L.pfnToPage(0n))} page_of(phys_ram_base)=${hx(L.pfnToPage(L.physRamBase >> 12n))}`,
      `sizeof(struct page)=64`,
      `memory_block_size_bytes=${hx(BigInt(memoryBlockSizeBytes()))} SECTION_SIZE_BITS=${SECTION_SIZE_BITS}`,
      `pageblock_order=9 MAX_PAGE_ORDER=10`,
      `max_pfn=${hx(BigInt(k.maxPfn))} max_low_pfn=${hx(BigInt(k.maxLowPfn))}`,
      `mhp_supports_memmap_on_memory=${mhpSupportsMemmapOnMemory(k) ? 1 : 0}`,
    ];
    return lines.join('\n') + '\n';
  }

  /** oracle_ptwalk_write(): "linear|vmemmap|va START END"; 0 or -errno. */
  setWalk(buf: string): number {
    if (buf.length === 0 || buf.length >= 96) return -EINVAL;
    const p = buf.trim();
    const m = /^(\S+)[ \t]+(.*)$/s.exec(p);
    if (!m) return -EINVAL;
    const kind = m[1]!;
    const parsed = oracleParse(m[2]!);
    if (typeof parsed === 'number') return parsed;
    const [a, b] = parsed;
    if (b <= a) return -EINVAL;
    const L = this.k.layout;
    if (kind === 'linear') {
      this.walkStart = L.va(a);
      this.walkEnd = L.va(b);
    } else if (kind === 'vmemmap') {
      this.walkStart = L.pfnToPage(a >> 12n);
      this.walkEnd = L.pfnToPage(b >> 12n);
    } else if (kind === 'va') {
      this.walkStart = a;
      this.walkEnd = b;
    } else {
      return -EINVAL;
    }
    this.walkDesc = `${kind} ${hx(a)}-${hx(b)}`;
    return 0;
  }

  /** oracle_ptwalk_show(). */
  ptwalk(): string {
    const k = this.k;
    const top = k.pt.rootLevel;
    const vaBits = BigInt(12 + 9 * (top + 1));
    const names = ['PTE', 'PMD', 'PUD', 'P4D', 'PGD'];
    const out: string[] = [];
    const ws = this.walkStart;
    const we = this.walkEnd;
    out.push(`# ptwalk ${this.walkDesc} va=${hxz(ws)}-${hxz(we)} mode=${k.mode.name} levels=${top + 1}`);
    if (ws >= we) return out.join('\n') + '\n';
    interface Run {
      va: bigint;
      vaEnd: bigint;
      pa: bigint;
      flags: bigint;
      lvl: number;
      n: number;
    }
    let run: Run | undefined;
    const flush = (): void => {
      if (!run) return;
      out.push(
        `LEAF  ${names[run.lvl]} va=${hxz(run.va)}-${hxz(run.vaEnd)} pa=${hxz(run.pa)}-${hxz(run.pa + (run.vaEnd - run.va))} n=${run.n} flags=${hxz(run.flags)}`,
      );
      run = undefined;
    };
    const entry = (lo: number, hi: number, lvl: number, va: bigint, size: bigint): void => {
      if ((lo & PTE_V) === 0) {
        flush();
        return;
      }
      const pa = BigInt(ptePpn(lo, hi)) << 12n;
      const flags = BigInt(lo & 0x3ff) | ((BigInt(hi >>> 0) >> 22n) << 54n);
      if ((lo & 0xe) !== 0) {
        if (
          run &&
          run.lvl === lvl &&
          run.vaEnd === va &&
          run.flags === flags &&
          run.pa + (run.vaEnd - run.va) === pa
        ) {
          run.vaEnd = u64(run.vaEnd + size);
          run.n++;
        } else {
          flush();
          run = { va, vaEnd: u64(va + size), pa, flags, lvl, n: 1 };
        }
        return;
      }
      flush();
      out.push(`TABLE ${names[lvl]} va=${hxz(va)}-${hxz(u64(va + size))} table_pa=${hxz(pa)}`);
      if (lvl > 0) table(Number(pa >> 12n), lvl - 1, va);
    };
    const table = (pfn: number, lvl: number, base: bigint): void => {
      const size = 1n << BigInt(12 + 9 * lvl);
      for (let i = 0; i < 512; i++) {
        const va = u64(base + BigInt(i) * size);
        if (u64(va + size - 1n) < ws || va >= we) continue;
        entry(k.pt.readLo(pfn, i), k.pt.readHi(pfn, i), lvl, va, size);
      }
    };
    const size = 1n << (vaBits - 9n);
    for (let i = 0; i < 512; i++) {
      let va = BigInt(i) * size;
      if (i >= 256) va = u64(va | u64(~0n << vaBits));
      if (u64(va + size - 1n) < ws || va >= we) continue;
      entry(k.pt.readLo(k.pt.rootPfn, i), k.pt.readHi(k.pt.rootPfn, i), top, va, size);
    }
    flush();
    return out.join('\n') + '\n';
  }
}

/** The kernel's %#lx: always 0x-prefixed, also for zero. */
function hxz(v: bigint): string {
  return '0x' + v.toString(16);
}
