/**
 * The riscv parts of booting the memory model (arch/riscv/kernel/setup.c,
 * arch/riscv/mm/init.c): setup_arch up to init_resources, swiotlb in
 * mem_init, pgtable_cache_init, the memblock-reserved initcall, free_initmem
 * and mark_rodata_ro. init/main.ts calls them in start_kernel's order, because
 * every boot-time structure is a top-down memblock allocation whose address
 * depends on everything allocated before it (docs/boot-memblock.md).
 */
import type { Kernel } from '../../kernel.js';
import { KernelBug } from '../../errno.js';
import { NUMA_NO_NODE } from '../../mm/memblock.js';
import { KernelPageTables, LEVEL_PAGES, tableIndex, type PageTableAllocator } from './pgtable.js';
import { createLinearMappingRange, pgprotFromVa } from './init.js';
import { sparseInit } from '../../mm/sparse.js';
import { zoneSizesInit } from '../../mm/mm_init.js';
import { adjustManagedPageCount, allocPages } from '../../mm/page_alloc.js';
import {
  Resource,
  IORESOURCE_BUSY,
  IORESOURCE_MEM,
  IORESOURCE_SYSTEM_RAM,
  __reserveRegionWithSplit,
} from '../../kernel/resource.js';
import { setMemoryProt } from './pageattr.js';
import { hexll, pa as paFmt } from '../../lib/vsprintf.js';
import type { ArchBootInfo, BootOptions } from '../arch_ops.js';

const PAGE = 4096;
const MiB = 1 << 20;
const GiB = 1 << 30;
const SZ_2M = 2 * MiB;
const SMP_CACHE_BYTES = 64;
/** sizeof(pg_data_t) rounded to a cache line in this build. */
const PGDAT_SIZE = 0x1680;
/** What a fourth zone (CONFIG_ZONE_DEVICE) adds to pg_data_t: one struct zone (the zdev recordings' NODE_DATA). */
const SIZEOF_ZONE = 0x640;
const SIZEOF_RESOURCE = 64;

const rdown = (x: number, a: number): number => Math.floor(x / a) * a;
const rup = (x: number, a: number): number => Math.ceil(x / a) * a;

function n(v: bigint): number {
  return Number(v);
}

/** Size of the unflattened device tree QEMU's virt board gives this kernel (after OpenSBI's fixups). */
export function unflattenedDtSize(k: Kernel, smp: number, hasBootargs: boolean, hasInitrd: boolean): number {
  const env = k.profile.bootEnvironment;
  let u = env.dtUnflattenedBase + env.dtUnflattenedPerCpu * smp;
  if (!hasBootargs) u -= 104;
  if (!hasInitrd) u -= 208;
  return u;
}

/** The page-table allocator of setup_vm_final (pt_ops fixmap): memblock_phys_alloc, BUG on failure. */
function memblockTableAllocator(k: Kernel): PageTableAllocator {
  return {
    allocTable: () => {
      const pa = k.memblock.alloc(PAGE, PAGE);
      if (!pa) throw new KernelBug('arch/riscv/mm/init.c: alloc_pte_fixmap (memblock out of memory)');
      return pa / PAGE;
    },
  };
}

/**
 * setup_arch(): from the firmware hand-over to the end of init_resources(), in the kernel's order
 * (setup_bootmem, setup_vm_final, unflatten_device_tree, misc_mem_init, init_resources).
 */
export function setupArch(k: Kernel, opts: BootOptions): ArchBootInfo {
  const L = k.layout;
  const sym = k.profile.symbols;
  const mb = k.memblock;
  const base = n(k.machine.dramBase);
  const ram = n(k.machine.dramSize);
  const log = k.log;

  log.info(k.profile.version);
  log.info('Machine model: riscv-virtio,qemu');
  // early_init_dt_scan_memory(): the DRAM node.
  mb.add(base, ram);
  // Placement by QEMU (hw/riscv/boot.c): the initrd half-way up RAM but at most initrdOffsetCap above the
  // kernel; the fdt below 3 GiB measured before packing (7.2), or packed at the end of RAM (10.x).
  const env = k.profile.bootEnvironment;
  const kernelPhys = n(k.profile.loadPhys);
  const initrdStart = kernelPhys + Math.min(Math.floor(ram / 2), n(env.initrdOffsetCap));
  const fdtPa =
    env.fdtPlacement === 'ramEnd'
      ? rdown(base + ram - opts.fdtSize, SZ_2M)
      : rdown(Math.min(base + ram, 3072 * MiB) - MiB, SZ_2M);

  // ---- setup_bootmem() --------------------------------------------------------------
  // early_mem(): memory_limit starts at KERN_VIRT_SIZE and takes the minimum of each mem=.
  if (k.cmdline.memSizes.length) {
    let limit = L.kernVirtSize;
    for (const size of k.cmdline.memSizes) {
      if (size < limit) limit = size;
      log.log(5, `Memory limited to ${n(limit >> 20n)}MB`);
    }
    mb.enforceMemoryLimit(n(limit));
  }
  const vmlinuxStart = n(L.paSymbol(sym._start));
  const vmlinuxEnd = rup(n(L.paSymbol(sym._end)), SZ_2M);
  mb.reserve(vmlinuxStart, vmlinuxEnd - vmlinuxStart);
  L.physRamBase = BigInt(rdown(mb.startOfDram(), SZ_2M));
  L.vmemmapStartPfn = n(L.physRamBase >> 12n);
  mb.capMemoryRange(n(L.physRamBase), n(L.kernVirtSize));
  const phys_ram_end = mb.endOfDram();
  k.maxPfn = k.maxLowPfn = phys_ram_end / PAGE;
  // reserve_initrd_mem(): only when it lies inside memory.
  if (opts.initrdSize > 0) {
    const s = rdown(initrdStart, PAGE);
    const size = rup(opts.initrdSize + initrdStart - s, PAGE);
    if (s >= mb.startOfDram() && s + size <= phys_ram_end) mb.reserve(s, size);
  }
  // early_init_fdt_scan_reserved_mem(): OpenSBI's reserved-memory node.
  const fw = k.profile.firmware;
  mb.reserve(n(fw.reservedBase), n(fw.reservedSize));
  log.info(
    `OF: reserved mem: ${paFmt(fw.reservedBase)}..${paFmt(fw.reservedBase + fw.reservedSize - 1n)} ` +
      `(${n(fw.reservedSize) / 1024} KiB) map non-reusable ${fw.name}@${fw.reservedBase.toString(16)}`,
  );
  mb.reserve(fdtPa, opts.fdtSize);

  // ---- setup_vm_final() ---------------------------------------------------------------
  const swapperPfn = n(L.paSymbol(sym.swapper_pg_dir)) / PAGE;
  k.mem.zero(swapperPfn);
  k.pt = new KernelPageTables(k.mem, k.mode.levels, swapperPfn, k.stats);
  const early = memblockTableAllocator(k);
  createLinearMappingPageTable(k, early);
  createKernelPageTable(k, early);
  k.machine.setSatpAll(k.mode, swapperPfn);
  k.flushTlbAll();

  // ---- unflatten_device_tree() --------------------------------------------------------
  mb.alloc(48, 64); // the reserved_mem array (one entry)
  mb.alloc(unflattenedDtSize(k, k.machine.smp, k.cmdline.raw.length > 0, opts.initrdSize > 0) + 4, 8);
  // of_alias_scan(): one struct alias_prop (40 bytes + the stem) per /aliases entry.
  for (const stem of env.dtAliasStems) mb.alloc(40 + stem.length + 1, 8);

  // ---- misc_mem_init(): arch_numa_init, sparse_init, zone_sizes_init ------------------
  mb.reserved.setNode(0, Number.MAX_SAFE_INTEGER, NUMA_NO_NODE);
  for (const r of [...mb.memory.regions]) mb.memory.setNode(r.base, r.size, 0);
  log.info(`NUMA: Faking a node at [mem ${paFmt(mb.startOfDram())}-${paFmt(mb.endOfDram() - 1)}]`);
  const pgdatSize = PGDAT_SIZE + (k.profile.config.ZONE_DEVICE ? SIZEOF_ZONE : 0);
  const nd = mb.alloc(pgdatSize, SMP_CACHE_BYTES);
  log.info(`NODE_DATA(0) allocated [mem ${hexll(nd)}-${hexll(nd + pgdatSize - 1)}]`);
  sparseInit(k, nd);
  zoneSizesInit(k);

  // ---- init_resources() ---------------------------------------------------------------
  initResources(k);
  return { initrdStart, reservationEnd: vmlinuxEnd };
}

/**
 * mem_init() -> swiotlb_init(): a bounce buffer below 4 GiB, when memory reaches above 4 GiB or when
 * DMA needs cache-line bouncing is ruled out only by a large dma_cache_alignment (a CPU with Zicbom keeps
 * it small, so the buffer is set up anyway, sized 1/1024 of RAM up to 64 MiB).
 */
export function swiotlbInit(k: Kernel): void {
  const mb = k.memblock;
  const zicbom = k.profile.bootEnvironment.cpuZicbom;
  if (!zicbom && mb.endOfDram() <= 4 * GiB) return;
  const IO_TLB_SHIFT = 11;
  const IO_TLB_SEGSIZE = 128;
  let bytes = 64 * MiB;
  if (zicbom) bytes = Math.min(bytes, Math.ceil(mb.memory.totalSize / 1024));
  let slabs = Math.ceil(bytes / 2 ** IO_TLB_SHIFT / IO_TLB_SEGSIZE) * IO_TLB_SEGSIZE;
  const nareas = nextPow2(Math.min(k.machine.smp, k.profile.nrCpus));
  if (slabs < nareas * IO_TLB_SEGSIZE) slabs = nareas * IO_TLB_SEGSIZE;
  // memblock_alloc_low(): memblock_alloc_try_nid below ARCH_LOW_ADDRESS_LIMIT.
  mb.allocTryNid(slabs << IO_TLB_SHIFT, PAGE, 0, 0xffffffff);
  mb.alloc(rup(24 * slabs, PAGE), PAGE);
  mb.alloc(16 * nareas, SMP_CACHE_BYTES);
}

export function nextPow2(x: number): number {
  let p = 1;
  while (p < x) p *= 2;
  return p;
}

/** create_linear_mapping_page_table(): memory banks first, with the kernel's text and rodata held back. */
function createLinearMappingPageTable(k: Kernel, alloc: PageTableAllocator): void {
  const L = k.layout;
  const sym = k.profile.symbols;
  const mb = k.memblock;
  const ktextStart = n(L.paSymbol(sym._start));
  const ktextSize = n(sym.__init_data_begin - sym._start);
  const krodataStart = n(L.paSymbol(sym.__start_rodata));
  const krodataSize = n(sym._data - sym.__start_rodata);
  mb.markNomap(ktextStart, ktextSize);
  mb.markNomap(krodataStart, krodataSize);
  const pageOffsetPa = n(L.pa(L.pageOffset));
  for (const r of mb.memory.regions) {
    if (r.flags & 4) continue;
    let start = r.base;
    const end = r.base + r.size;
    if (start <= pageOffsetPa && pageOffsetPa < end) start = pageOffsetPa;
    createLinearMappingRange(k, start / PAGE, end / PAGE, undefined, alloc);
  }
  createLinearMappingRange(k, ktextStart / PAGE, (ktextStart + ktextSize) / PAGE, undefined, alloc);
  createLinearMappingRange(k, krodataStart / PAGE, (krodataStart + krodataSize) / PAGE, undefined, alloc);
  mb.clearNomap(ktextStart, ktextSize);
  mb.clearNomap(krodataStart, krodataSize);
}

/** create_kernel_page_table(): the image at KERNEL_LINK_ADDR in PMD leaves, text executable. */
function createKernelPageTable(k: Kernel, alloc: PageTableAllocator): void {
  const L = k.layout;
  const startVpn = n(L.kernelVirtAddr >> 12n);
  const endVpn = n((L.kernelVirtAddr + L.kernelSize + 4095n) >> 12n);
  const physPfn = n(L.kernelPhysAddr >> 12n);
  for (let vpn = startVpn; vpn < endVpn; vpn += 512) {
    const prot = pgprotFromVa(k, vpn);
    if (!k.pt.createMapping(vpn, physPfn + (vpn - startVpn), 1, prot, alloc)) {
      throw new KernelBug('arch/riscv/mm/init.c: create_kernel_page_table');
    }
  }
}

/** init_resources(): System RAM and the kernel image in /proc/iomem. */
function initResources(k: Kernel): void {
  const mb = k.memblock;
  const L = k.layout;
  const sym = k.profile.symbols;
  const num = mb.memory.regions.length + mb.reserved.regions.length + 1;
  const memRes = mb.alloc(num * SIZEOF_RESOURCE, SMP_CACHE_BYTES);
  const pa = (v: bigint): bigint => L.paSymbol(v);
  const kimage = new Resource(
    pa(sym._text),
    pa(sym.__bss_stop) - 1n,
    'Kernel image',
    IORESOURCE_SYSTEM_RAM | IORESOURCE_BUSY,
  );
  k.iomem.request(kimage);
  // The image's sections, each a busy System RAM child of the image.
  const sections: [string, bigint, bigint][] = [
    ['Kernel code', sym._text, sym._etext],
    ['Kernel rodata', sym.__start_rodata, sym.__end_rodata],
    ['Kernel data', sym._data, sym._edata],
    ['Kernel bss', sym.__bss_start, sym.__bss_stop],
  ];
  for (const [name, start, end] of sections) {
    kimage.request(new Resource(pa(start), pa(end) - 1n, name, IORESOURCE_SYSTEM_RAM | IORESOURCE_BUSY));
  }
  // Reserved regions outside memory get their own top-level resource; those inside are left to the initcall.
  let used = 0;
  for (const r of mb.reserved.regions) {
    if (mb.memory.isCovered(r.base)) continue;
    k.iomem.insert(
      new Resource(
        BigInt(rdown(r.base, PAGE)),
        BigInt(rup(r.base + r.size, PAGE) - 1),
        'Reserved',
        IORESOURCE_MEM | IORESOURCE_BUSY,
      ),
    );
    used++;
  }
  for (const r of mb.memory.regions) {
    k.iomem.insert(
      new Resource(
        BigInt(r.base),
        BigInt(r.base + r.size - 1),
        'System RAM',
        IORESOURCE_SYSTEM_RAM | IORESOURCE_BUSY,
      ),
    );
    used++;
  }
  // The part of the array it did not need goes back to memblock.
  mb.free(memRes, (num - used) * SIZEOF_RESOURCE);
  // The console's MMIO range, a platform device registered later in boot.
  k.iomem.insert(new Resource(0x10000000n, 0x100000ffn, 'serial', IORESOURCE_MEM));
}

/** The areas 6.12 preallocates, in its order. */
export const PREALLOCATED_AREAS: readonly string[] = ['vmalloc', 'bpf/modules', 'vmemmap', 'direct map'];

/**
 * pgtable_cache_init() -> preallocate_pgd_pages_range(): the level below the
 * PGD for vmalloc, modules, vmemmap and the direct map, so process page
 * tables copied from swapper_pg_dir never need syncing.
 */
export function pgtableCacheInit(k: Kernel, areas: readonly string[] = PREALLOCATED_AREAS): void {
  const L = k.layout;
  const all: Array<[bigint, bigint, string]> = [
    [L.vmallocStart, L.vmallocEnd, 'vmalloc'],
    [L.modulesVaddr, L.modulesEnd, 'bpf/modules'],
    [L.vmemmapStart, L.vmemmapEnd, 'vmemmap'],
    [L.pageOffset, L.pageEnd, 'direct map'],
  ];
  const ranges = all.filter(([, , area]) => areas.includes(area));
  const top = k.pt.rootLevel;
  const span = BigInt(LEVEL_PAGES[top]!) << 12n;
  for (const [start, end, area] of ranges) {
    for (let addr = start; addr < end && addr >= start; addr = (addr + span) & ~(span - 1n)) {
      const vpn = n(addr >> 12n);
      // p4d_alloc with 5 levels, pud_alloc with 4, pmd_alloc with 3: one table under the PGD entry.
      const idx = tableIndex(vpn, top);
      if (k.pt.isNone(k.pt.rootPfn, idx)) {
        const pfn = allocPages(k, 0);
        if (pfn === undefined) throw new KernelBug(`Failed to pre-allocate pages for ${area} area`);
        k.pt.adoptTable(pfn);
        k.pt.setTable(k.pt.rootPfn, idx, pfn);
      }
    }
  }
}

/** reserve_memblock_reserved_regions(): each reserved memblock range, page-rounded, split around what is there. */
export function reserveMemblockReservedRegions(k: Kernel): void {
  const mb = k.memblock;
  for (const mem of k.iomem.children.filter((r) => r.name === 'System RAM')) {
    for (const r of mb.reserved.regions) {
      const start = BigInt(rdown(r.base, PAGE)) > mem.start ? BigInt(rdown(r.base, PAGE)) : mem.start;
      const endRaw = BigInt(rup(r.base + r.size, PAGE)) - 1n;
      const end = endRaw < mem.end ? endRaw : mem.end;
      if (start > mem.end || end < mem.start) continue;
      __reserveRegionWithSplit(mem, start, end, 'Reserved');
    }
  }
}

/** free_initmem(): the linear alias of init memory becomes RW+NX (splitting a PMD), then its pages are freed. */
export function freeInitmem(k: Kernel): void {
  const L = k.layout;
  const sym = k.profile.symbols;
  setMemoryProt(k, L.lmAlias(sym.__init_begin), L.lmAlias(sym.__init_end), { setW: true, clearX: true });
  setMemoryProt(k, sym.__init_begin, sym.__init_end, { clearX: true });
  const s = Math.ceil(n(L.paSymbol(sym.__init_begin)) / PAGE);
  const e = Math.floor(n(L.paSymbol(sym.__init_end)) / PAGE);
  for (let p = s; p < e; p++) {
    k.bootReserved.remove(p, p + 1);
    const zone = k.pgdat.zoneOf(p)!;
    zone.free.add(p, p + 1);
    adjustManagedPageCount(k, zone, 1);
  }
  k.log.info(`Freeing unused kernel image (initmem) memory: ${(e - s) * 4}K`);
}

/** mark_rodata_ro(): rodata and its linear alias read-only. */
export function markRodataRo(k: Kernel): void {
  const sym = k.profile.symbols;
  setMemoryProt(k, sym.__start_rodata, sym._data, { clearW: true });
}
