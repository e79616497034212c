/**
 * Booting the memory model: what a Linux 6.12 riscv64 kernel does to memory
 * from the firmware hand-over to /init (arch/riscv/kernel/setup.c,
 * arch/riscv/mm/init.c, mm/mm_init.c, mm/sparse.c, mm/percpu.c, ...), in the
 * kernel's order, because every boot-time structure is a top-down memblock
 * allocation whose address depends on everything allocated before it.
 *
 * The allocation list and its sizes are documented in docs/boot-memblock.md;
 * each was checked against the recordings of the real kernel.
 */
import type { Kernel } from '../../kernel.js';
import { KernelBug } from '../../errno.js';
import { MAX_NUMNODES, NUMA_NO_NODE } from '../../mm/memblock.js';
import { KernelPageTables, PAGE_KERNEL_EXEC, _PAGE_TABLE, type PageTableAllocator } from './pgtable.js';
import { createLinearMappingRange, pgprotFromVa, linearVpn } from './init.js';
import { pfnToSectionNr, PAGES_PER_SECTION, sectionNrToPfn } from '../../mm/sparse.js';
import { memmapVpnRange, vmemmapPopulate, type EarlyVmemmapSource } from '../../mm/sparse_vmemmap.js';
import { ZONE_DMA32, ZONE_NORMAL } from '../../mm/zone.js';
import { allocPages, adjustManagedPageCount } from '../../mm/page_alloc.js';
import { Resource, IORESOURCE_BUSY, IORESOURCE_MEM, IORESOURCE_SYSTEM_RAM } from '../../kernel/resource.js';
import { MemoryBlock } from '../../drivers/base/memory.js';
import {
  buildAllZonelists,
  memoryBlockMemmapOnMemoryPages,
  memoryBlockMemmapSize,
} from '../../mm/memory_hotplug.js';
import { pteHi, pteLo } from '../../../hw/pte.js';
import { LEVEL_PAGES, tableIndex } from './pgtable.js';
import { setMemoryProt } from './pageattr.js';

const PAGE = 4096;
const MiB = 1 << 20;
const GiB = 1 << 30;
const SZ_2M = 2 * MiB;
const SMP_CACHE_BYTES = 64;
/** sizeof(pg_data_t) rounded to a cache line in this build. */
const PGDAT_SIZE = 0x1680;
/** sizeof(struct mem_section_usage) in this build. */
const MEM_SECTION_USAGE_SIZE = 56;
/** NR_SECTION_ROOTS * sizeof(pointer): 2^(56-27) sections / 256 per root. */
const MEM_SECTION_ROOTS_BYTES = (1 << 21) * 8;
const SECTIONS_PER_ROOT = 256;
/** Per-CPU unit of the embedded first chunk: 17 pages (static 37664 + dynamic 31968 bytes). */
const PCPU_UNIT_SIZE = 69632;
const SIZEOF_RESOURCE = 64;

export interface BootOptions {
  /** The initrd's size in bytes (QEMU places it; only its size matters). */
  initrdSize: number;
  /** fdt_totalsize() of the device tree QEMU built. */
  fdtSize: number;
}

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

export function startKernel(k: Kernel, opts: BootOptions): void {
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
    `OF: reserved mem: 0x${fw.reservedBase.toString(16).padStart(16, '0')}..0x${(
      fw.reservedBase +
      fw.reservedSize -
      1n
    )
      .toString(16)
      .padStart(
        16,
        '0',
      )} (${n(fw.reservedSize) / 1024} KiB) map non-reusable ${fw.name}@${fw.reservedBase.toString(16)}`,
  );
  mb.reserve(fdtPa, opts.fdtSize);

  // ---- setup_vm_final() ---------------------------------------------------------------
  const swapperPfn = n(L.paSymbol(sym.swapper_pg_dir)) / PAGE;
  k.mem.zero(swapperPfn);
  k.pt = new KernelPageTables(k.mem, k.mode.levels, swapperPfn);
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
  log.info(`NUMA: Faking a node at [mem ${hexmem(mb.startOfDram())}-${hexmem(mb.endOfDram() - 1)}]`);
  const nd = mb.alloc(PGDAT_SIZE, SMP_CACHE_BYTES);
  log.info(`NODE_DATA(0) allocated [mem ${hex(nd)}-${hex(nd + PGDAT_SIZE - 1)}]`);
  sparseInit(k, nd);
  zoneSizesInit(k);

  // ---- init_resources() ---------------------------------------------------------------
  initResources(k);

  // ---- start_kernel(): command line copies, per-cpu areas, hash tables -----------------
  const cl = k.cmdline.raw.length + 1;
  mb.alloc(cl, SMP_CACHE_BYTES);
  mb.alloc(cl, SMP_CACHE_BYTES);
  setupPerCpuAreas(k);
  // parse_args(): set_memmap_mode() says what force mode wastes.
  if (k.params.memmapMode === 'force') {
    const waste = memoryBlockMemmapOnMemoryPages(k) - Math.ceil(memoryBlockMemmapSize() / PAGE);
    log.info(`Memory hotplug will waste ${waste} pages in each memory block`);
  }
  vfsCachesInitEarly(k);
  swiotlbInit(k);

  // ---- mm_core_init(): memblock_free_all ----------------------------------------------
  for (const r of [...mb.memory.regions]) mb.reserved.setNode(r.base, r.size, 0);
  memblockFreeAll(k);
  buildAllZonelists(k);
  k.slabAvailable = true;
  log.info(memoryBanner(k));

  // Boot-time software the model does not run takes its pages from the buddy allocator.
  const foot = k.profile.bootRuntimeFootprint;
  takeRuntimePages(k, foot.unmovablePagesBeforePgtableCacheInit);
  pgtableCacheInit(k);
  // arch_initcall(reserve_memblock_reserved_regions).
  reserveMemblockReservedRegions(k);
  memoryDevInit(k);
  // populate_rootfs(): the initrd's pages go back.
  freeInitrd(k, initrdStart, opts.initrdSize);
  // kernel_init(): free_initmem(), then mark_rodata_ro().
  freeInitmem(k);
  markRodataRo(k);
  fillRuntimeFootprint(k, vmlinuxEnd);
  log.info('Run /init as init process');
}

/**
 * mem_init() -> swiotlb_init(): a bounce buffer below 4 GiB, when memory reaches above 4 GiB or when
 * DMA needs cache-line bouncing is ruled out only by a large dma_cache_alignment (a CPU with Zicbom keeps
 * it small, so the buffer is set up anyway, sized 1/1024 of RAM up to 64 MiB).
 */
function swiotlbInit(k: Kernel): void {
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

function hex(v: number): string {
  return '0x' + v.toString(16);
}

function hexmem(v: number): string {
  return '0x' + v.toString(16).padStart(16, '0');
}

function nextPow2(x: number): number {
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
  void PAGE_KERNEL_EXEC;
}

/** sparse_init(): section roots, usage maps, the memmap buffer and the vmemmap itself. */
function sparseInit(k: Kernel, pgdatPa: number): void {
  const mb = k.memblock;
  const start = mb.startOfDram();
  const end = mb.endOfDram();
  // memblocks_present(): SPARSEMEM_EXTREME allocates the root array, then one page of sections per root.
  mb.alloc(MEM_SECTION_ROOTS_BYTES, SMP_CACHE_BYTES);
  const sec0 = Math.floor(start / (1 << 27));
  const sec1 = Math.floor((end - 1) / (1 << 27));
  const roots = new Set<number>();
  for (let s = sec0; s <= sec1; s++) roots.add(Math.floor(s / SECTIONS_PER_ROOT));
  for (const _ of roots) mb.alloc(4096, SMP_CACHE_BYTES);
  const nsec = sec1 - sec0 + 1;
  const goal = rdown(pgdatPa, 1 << 27);
  if (!mb.allocTryNid(MEM_SECTION_USAGE_SIZE * nsec, SMP_CACHE_BYTES, goal, goal + (1 << 27))) {
    mb.alloc(MEM_SECTION_USAGE_SIZE * nsec, SMP_CACHE_BYTES);
  }
  // sparse_buffer_init(): one allocation for every present section's memmap.
  const bufSize = nsec * SZ_2M;
  let buf = mb.alloc(bufSize, SZ_2M);
  let bufEnd = buf + bufSize;
  const source: EarlyVmemmapSource = {
    bufferAlloc: (bytes) => {
      if (!buf || buf + bytes > bufEnd) return undefined;
      const p = buf;
      buf += bytes;
      return p / PAGE;
    },
    memblockAlloc: (bytes, align) => {
      const p = mb.alloc(bytes, align);
      return p ? p / PAGE : undefined;
    },
  };
  for (let s = sec0; s <= sec1; s++) {
    const ms = k.sparse.getOrCreate(s);
    ms.present = true;
    ms.early = true;
    const [vs, ve] = memmapVpnRange(k, sectionNrToPfn(s), PAGES_PER_SECTION);
    if (vmemmapPopulate(k, vs, ve, { early: source }, undefined))
      throw new KernelBug('mm/sparse.c: sparse_init');
    ms.hasMemMap = true;
  }
  // sparse_buffer_fini(): what is left of the buffer goes back.
  if (buf && buf < bufEnd) {
    mb.free(buf, bufEnd - buf);
    bufEnd = buf;
  }
}

/** zone_sizes_init() / free_area_init(): DMA32 below 4 GiB, NORMAL above. */
function zoneSizesInit(k: Kernel): void {
  const mb = k.memblock;
  const startPfn = mb.startOfDram() / PAGE;
  const endPfn = mb.endOfDram() / PAGE;
  const dma32End = Math.min(endPfn, (4 * GiB) / PAGE);
  const dma = k.pgdat.zone(ZONE_DMA32);
  const normal = k.pgdat.zone(ZONE_NORMAL);
  k.log.info('Zone ranges:');
  if (startPfn < dma32End) {
    dma.zoneStartPfn = startPfn;
    dma.spannedPages = dma32End - startPfn;
    k.log.info(`  DMA32    [mem ${hexmem(startPfn * PAGE)}-${hexmem(dma32End * PAGE - 1)}]`);
  } else {
    k.log.info('  DMA32    empty');
  }
  if (endPfn > (4 * GiB) / PAGE) {
    normal.zoneStartPfn = Math.max(startPfn, (4 * GiB) / PAGE);
    normal.spannedPages = endPfn - normal.zoneStartPfn;
    k.log.info(`  Normal   [mem ${hexmem(normal.zoneStartPfn * PAGE)}-${hexmem(endPfn * PAGE - 1)}]`);
  } else {
    k.log.info('  Normal   empty');
  }
  k.log.info('Movable zone start for each node');
  k.log.info('Early memory node ranges');
  for (const r of mb.memory.regions)
    k.log.info(`  node   0: [mem ${hexmem(r.base)}-${hexmem(r.base + r.size - 1)}]`);
  k.pgdat.nodeStartPfn = startPfn;
  k.pgdat.nodeSpannedPages = endPfn - startPfn;
  for (const r of mb.memory.regions) {
    for (let pfn = r.base / PAGE; pfn < (r.base + r.size) / PAGE;) {
      const zone = pfn < dma32End ? dma : normal;
      const stop = Math.min((r.base + r.size) / PAGE, pfn < dma32End ? dma32End : Infinity);
      zone.presentPages += stop - pfn;
      k.pgdat.nodePresentPages += stop - pfn;
      pfn = stop;
    }
  }
  for (const s of k.sparse.all()) {
    const pfn = sectionNrToPfn(s.nr);
    s.zoneIdx = pfn < dma32End ? ZONE_DMA32 : ZONE_NORMAL;
    s.online = true;
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

/** setup_per_cpu_areas(): the embedded first chunk and its bookkeeping. */
function setupPerCpuAreas(k: Kernel): void {
  const mb = k.memblock;
  const ncpu = Math.min(k.machine.smp, k.profile.nrCpus);
  const ai = mb.alloc(4096, 4096);
  const areas = mb.alloc(4096, SMP_CACHE_BYTES);
  mb.alloc(ncpu * PCPU_UNIT_SIZE, 4096, mb.startOfDram());
  mb.alloc(8, SMP_CACHE_BYTES);
  mb.alloc(8, SMP_CACHE_BYTES);
  mb.alloc(4 * ncpu, SMP_CACHE_BYTES);
  mb.alloc(8 * ncpu, SMP_CACHE_BYTES);
  mb.alloc(18 * 16, SMP_CACHE_BYTES);
  mb.alloc(200, SMP_CACHE_BYTES);
  mb.alloc(1024, SMP_CACHE_BYTES);
  mb.alloc(1032, SMP_CACHE_BYTES);
  mb.alloc(256, SMP_CACHE_BYTES);
  mb.free(ai, 4096);
  mb.free(areas, 4096);
  k.log.info(`percpu: Embedded ${PCPU_UNIT_SIZE / PAGE} pages/cpu s37664 r0 d31968 u${PCPU_UNIT_SIZE}`);
}

/** vfs_caches_init_early(): the dentry and inode hash tables, sized from the free pages. */
function vfsCachesInitEarly(k: Kernel): void {
  const mb = k.memblock;
  let nrKernel = 0;
  for (const [s, e] of mb.freeRangesReverse())
    nrKernel += Math.max(0, Math.floor(e / PAGE) - Math.ceil(s / PAGE));
  const nk = rup(nrKernel, 256);
  let scD = 13;
  let scI = 14;
  for (let a = 1 << 24; a < nk; a *= 4) {
    scD++;
    scI++;
  }
  const dent = Math.max(nextPow2(Math.floor(nk / 2 ** (scD - 12))), 512);
  const inod = Math.max(nextPow2(Math.floor(nk / 2 ** (scI - 12))), 512);
  mb.alloc(dent * 8, SMP_CACHE_BYTES);
  mb.alloc(inod * 8, SMP_CACHE_BYTES);
  const order = (bytes: number): number => Math.max(0, Math.ceil(Math.log2(bytes / PAGE)));
  k.log.info(
    `Dentry cache hash table entries: ${dent} (order: ${order(dent * 8)}, ${dent * 8} bytes, linear)`,
  );
  k.log.info(
    `Inode-cache hash table entries: ${inod} (order: ${order(inod * 8)}, ${inod * 8} bytes, linear)`,
  );
}

/** memblock_free_all(): every free page joins the buddy allocator; reserved ones stay PG_reserved. */
function memblockFreeAll(k: Kernel): void {
  const mb = k.memblock;
  // Pages touched by a reserved region stay reserved (the whole page).
  const reservedExtents: Array<[number, number]> = [];
  for (const r of mb.reserved.regions) {
    const s = Math.floor(r.base / PAGE);
    const e = Math.ceil((r.base + r.size) / PAGE);
    const last = reservedExtents[reservedExtents.length - 1];
    if (last && s <= last[1]) last[1] = Math.max(last[1], e);
    else reservedExtents.push([s, e]);
  }
  for (const m of mb.memory.regions) {
    let cur = m.base / PAGE;
    const end = (m.base + m.size) / PAGE;
    const addFree = (s: number, e: number): void => {
      for (let p = s; p < e;) {
        const zone = k.pgdat.zoneOf(p)!;
        const stop = Math.min(e, zone.zoneEndPfn);
        zone.free.add(p, stop);
        adjustManagedPageCount(k, zone, stop - p);
        p = stop;
      }
    };
    for (const [rs, re] of reservedExtents) {
      if (re <= cur || rs >= end) continue;
      if (rs > cur) addFree(cur, rs);
      k.bootReserved.add(Math.max(rs, cur), Math.min(re, end));
      cur = Math.max(cur, re);
    }
    if (cur < end) addFree(cur, end);
  }
}

function memoryBanner(k: Kernel): string {
  const total = k.memblock.memory.totalSize / 1024;
  const avail = k.totalramPages * 4;
  const sym = k.profile.symbols;
  const kb = (a: bigint, b: bigint): number => Math.round(n(b - a) / 1024);
  return (
    `Memory: ${avail}K/${total}K available (${kb(sym._stext, sym._etext)}K kernel code, ` +
    `${kb(sym._sdata, sym._edata)}K rwdata, ${kb(sym.__start_rodata, sym.__end_rodata)}K rodata, ` +
    `${kb(sym.__init_begin, sym.__init_end)}K init, ${kb(sym.__bss_start, sym.__bss_stop)}K bss, ` +
    `${total - avail}K reserved, 0K cma-reserved)`
  );
}

/** Boot-time software (slab, stacks, the init process) holds pages the model does not track one by one. */
function takeRuntimePages(k: Kernel, count: number): void {
  for (let i = 0; i < count; i++) if (allocPages(k, 0) === undefined) break;
}

/** The pages boot-time software holds when /init runs (kernel profile), and the pageblocks it made unmovable. */
function fillRuntimeFootprint(k: Kernel, reservationEnd: number): void {
  const foot = k.profile.bootRuntimeFootprint;
  const startPfn = reservationEnd / PAGE;
  const zone = k.pgdat.zoneOf(startPfn);
  if (!zone) return;
  const ubStart = startPfn + n(foot.unmovablePageblocksOffset) / PAGE;
  zone.free.setPageblockType(ubStart, ubStart + n(foot.unmovablePageblocksSize) / PAGE, 'unmovable');
  zone.free.removeAllIn(startPfn, startPfn + n(foot.usedBytes) / PAGE);
  // The freed init section is reused by boot-time allocations before /init runs.
  const L = k.layout;
  const sym = k.profile.symbols;
  zone.free.removeAllIn(
    Math.ceil(n(L.paSymbol(sym.__init_begin)) / PAGE),
    Math.floor(n(L.paSymbol(sym.__init_end)) / PAGE),
  );
}

/**
 * pgtable_cache_init() -> preallocate_pgd_pages_range(): the level below the
 * PGD for vmalloc, modules, vmemmap and the direct map, so process page
 * tables copied from swapper_pg_dir never need syncing.
 */
function pgtableCacheInit(k: Kernel): void {
  const L = k.layout;
  const ranges: Array<[bigint, bigint, string]> = [
    [L.vmallocStart, L.vmallocEnd, 'vmalloc'],
    [L.modulesVaddr, L.modulesEnd, 'bpf/modules'],
    [L.vmemmapStart, L.vmemmapEnd, 'vmemmap'],
    [L.pageOffset, L.pageEnd, 'direct map'],
  ];
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
        k.pt.write(k.pt.rootPfn, idx, pteLo(pfn, _PAGE_TABLE), pteHi(pfn));
      }
    }
  }
}

/** reserve_memblock_reserved_regions(): each reserved memblock range, page-rounded, split around what is there. */
function reserveMemblockReservedRegions(k: Kernel): void {
  const mb = k.memblock;
  for (const mem of k.iomem.children.filter((r) => r.name === 'System RAM')) {
    for (const r of mb.reserved.regions) {
      const start = BigInt(rdown(r.base, PAGE)) > mem.start ? BigInt(rdown(r.base, PAGE)) : mem.start;
      const endRaw = BigInt(rup(r.base + r.size, PAGE)) - 1n;
      const end = endRaw < mem.end ? endRaw : mem.end;
      if (start > mem.end || end < mem.start) continue;
      reserveRegionWithSplit(mem, start, end, 'Reserved');
    }
  }
}

/** __reserve_region_with_split(). */
export function reserveRegionWithSplit(root: Resource, start: bigint, end: bigint, name: string): void {
  const pending: Array<[bigint, bigint]> = [[start, end]];
  while (pending.length) {
    const [s, e] = pending.shift()!;
    let res = new Resource(s, e, name, IORESOURCE_MEM | IORESOURCE_BUSY);
    for (;;) {
      const conflict = root.request(res);
      if (!conflict) break;
      if (conflict.start <= res.start && conflict.end >= res.end) break;
      if (conflict.start > res.start) {
        const oldEnd = res.end;
        res = new Resource(res.start, conflict.start - 1n, name, res.flags);
        if (conflict.end < oldEnd) pending.unshift([conflict.end + 1n, oldEnd]);
      } else {
        res = new Resource(conflict.end + 1n, res.end, name, res.flags);
      }
    }
  }
}

/** memory_dev_init(): one online memory block per present boot section, with its zone when only one spans it. */
function memoryDevInit(k: Kernel): void {
  for (const s of k.sparse.all()) {
    if (!s.present) continue;
    const mem = new MemoryBlock(s.nr, 0, undefined, undefined);
    mem.state = s.online ? 'online' : 'offline';
    mem.devOffline = !s.online;
    mem.zone = s.online ? k.pgdat.zone(s.zoneIdx) : undefined;
    k.memoryBlocks.set(s.nr, mem);
  }
  void pfnToSectionNr;
}

/** free_initrd_mem(): the initrd's pages join the buddy allocator. */
function freeInitrd(k: Kernel, start: number, size: number): void {
  if (size <= 0) return;
  const s = Math.ceil(start / PAGE);
  const e = Math.floor((start + size) / PAGE);
  let freed = 0;
  for (let p = s; p < e; p++) {
    if (!k.bootReserved.isFree(p)) continue;
    k.bootReserved.remove(p, p + 1);
    const zone = k.pgdat.zoneOf(p)!;
    zone.free.add(p, p + 1);
    adjustManagedPageCount(k, zone, 1);
    freed++;
  }
  k.log.info(`Freeing initrd memory: ${freed * 4}K`);
}

/** free_initmem(): the linear alias of init memory becomes RW+NX (splitting a PMD), then its pages are freed. */
function freeInitmem(k: Kernel): void {
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
function markRodataRo(k: Kernel): void {
  const sym = k.profile.symbols;
  setMemoryProt(k, sym.__start_rodata, sym._data, { clearW: true });
}

void MAX_NUMNODES;
void linearVpn;
void PAGE_KERNEL_EXEC;
