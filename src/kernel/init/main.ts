/**
 * init/main.c: start_kernel() as far as memory goes, calling the arch's parts
 * (`k.arch`) and the generic ones in the kernel's order, because every
 * boot-time structure is a top-down memblock allocation whose address depends
 * on everything allocated before it. docs/boot-memblock.md explains each
 * allocation; each was checked against the recordings of the real kernel.
 */
import type { Kernel } from '../kernel.js';
import type { BootOptions } from '../arch/arch_ops.js';
import { setupPerCpuAreas } from '../mm/percpu.js';
import { vfsCachesInitEarly } from '../fs/dcache.js';
import { memblockFreeAll, memInitPrintInfo } from '../mm/mm_init.js';
import { allocPages } from '../mm/page_alloc.js';
import {
  buildAllZonelists,
  memoryBlockMemmapOnMemoryPages,
  memoryBlockMemmapSize,
} from '../mm/memory_hotplug.js';
import { memoryDevInit } from '../drivers/base/memory.js';
import { freeInitrd } from './initramfs.js';

const PAGE = 4096;
const SMP_CACHE_BYTES = 64;

export function startKernel(k: Kernel, opts: BootOptions): void {
  const mb = k.memblock;
  const log = k.log;
  const arch = k.arch;
  const boot = arch.setupArch(k, opts);

  // setup_command_line(): saved_command_line and static_command_line.
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

  // mm_core_init(): mem_init (swiotlb), memblock_free_all, zonelists.
  arch.memInit(k);
  for (const r of [...mb.memory.regions]) mb.reserved.setNode(r.base, r.size, 0);
  memblockFreeAll(k);
  buildAllZonelists(k);
  log.info(memInitPrintInfo(k));

  // Boot-time software the model does not run takes its pages from the buddy allocator.
  takeRuntimePages(k, k.profile.bootRuntimeFootprint.unmovablePagesBeforePgtableCacheInit);
  arch.pgtableCacheInit(k);
  arch.archInitcalls(k);
  memoryDevInit(k);
  // populate_rootfs(): the initrd's pages go back.
  freeInitrd(k, boot.initrdStart, opts.initrdSize);
  // kernel_init(): free_initmem(), then mark_rodata_ro().
  arch.freeInitmem(k);
  arch.markRodataRo(k);
  fillRuntimeFootprint(k, boot.reservationEnd);
  perCpuFootprint(k, boot.reservationEnd);
  log.info('Run /init as init process');
  // /init mounts proc, sysfs and debugfs before its script: the mount points' dentries exist.
  k.kernfs.seed(['/sys/kernel', '/sys/kernel/debug']);
  k.running = true;
}

/**
 * Kernel threads each CPU runs (smpboot and workqueue): its idle task, cpuhp/N,
 * migration/N, ksoftirqd/N, kworker/N:0 and kworker/N:0H, each with a
 * THREAD_SIZE (16 KiB, order 2) stack from the page allocator (no VMAP_STACK).
 */
const THREADS_PER_CPU = 6;
const THREAD_SIZE_ORDER = 2;

/**
 * The boot footprint was measured with `measuredSmp` CPUs; each CPU beyond
 * them adds its threads' stacks and the pages its pcp lists hold by the time
 * /init runs, taken from the buddy allocator as rmqueue_bulk() takes them
 * (unmovable, smallest block first). The measured CPUs' lists are inside the
 * footprint; fewer CPUs than measured give nothing back, as the footprint does
 * not say which of its pages those lists held.
 */
function perCpuFootprint(k: Kernel, reservationEnd: number): void {
  const foot = k.profile.bootRuntimeFootprint;
  const zone = k.pgdat.zoneOf(reservationEnd / PAGE);
  if (!zone) return;
  const ncpu = Math.min(k.machine.smp, k.profile.nrCpus);
  for (let cpu = 0; cpu < ncpu; cpu++) {
    if (cpu < foot.measuredSmp) {
      k.pcp.holdInFootprint(zone, cpu, foot.pcpPagesPerCpu);
      continue;
    }
    for (let t = 0; t < THREADS_PER_CPU; t++) {
      if (allocPages(k, THREAD_SIZE_ORDER) === undefined) return;
      k.extraKernelStackPages += 2 ** THREAD_SIZE_ORDER;
    }
    for (let i = 0; i < foot.pcpPagesPerCpu; i++) {
      const pfn = zone.free.alloc(0, 'unmovable');
      if (pfn === undefined) break;
      k.pcp.hold(zone, cpu, pfn, pfn + 1);
    }
  }
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
  const ubStart = startPfn + Number(foot.unmovablePageblocksOffset) / PAGE;
  zone.free.setPageblockType(ubStart, ubStart + Number(foot.unmovablePageblocksSize) / PAGE, 'unmovable');
  zone.free.removeAllIn(startPfn, startPfn + Number(foot.usedBytes) / PAGE);
  // The freed init section is reused by boot-time allocations before /init runs.
  const L = k.layout;
  const sym = k.profile.symbols;
  zone.free.removeAllIn(
    Math.ceil(Number(L.paSymbol(sym.__init_begin)) / PAGE),
    Math.floor(Number(L.paSymbol(sym.__init_end)) / PAGE),
  );
}
