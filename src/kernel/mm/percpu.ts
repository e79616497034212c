/** mm/percpu.c: the embedded first chunk, as setup_per_cpu_areas() allocates it from memblock. */
import type { Kernel } from '../kernel.js';

const PAGE = 4096;
const SMP_CACHE_BYTES = 64;
/** Per-CPU unit of the embedded first chunk: 17 pages (static 37664 + dynamic 31968 bytes). */
const PCPU_UNIT_SIZE = 69632;

/** setup_per_cpu_areas(): the embedded first chunk and its bookkeeping. */
export function setupPerCpuAreas(k: Kernel): void {
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
