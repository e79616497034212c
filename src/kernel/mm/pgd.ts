/**
 * Process page tables as far as the kernel half goes: pgd_alloc() gives a
 * new process a PGD whose upper half is a copy of swapper_pg_dir's
 * (sync_kernel_mappings). Entries the kernel adds to swapper_pg_dir later
 * are not copied; RISC-V relies on the PGD-level entries of the linear map
 * and the vmemmap being allocated at boot (preallocate_pgd_pages_range) so
 * that new mappings land in tables every process shares.
 */
import type { Kernel } from '../kernel.js';
import { allocPages, freePages } from './page_alloc.js';

/** Index of the first kernel-half entry of a PGD (USER_PTRS_PER_PGD). */
const USER_PTRS_PER_PGD = 256;

/** pgd_alloc(): the new PGD's pfn, or undefined when no page is free. */
export function pgdAlloc(k: Kernel): number | undefined {
  const pgd = allocPages(k, 0, 'kernel');
  if (pgd === undefined) return undefined;
  k.mem.zero(pgd);
  syncKernelMappings(k, pgd);
  return pgd;
}

/** sync_kernel_mappings(): copy swapper_pg_dir's kernel half. */
export function syncKernelMappings(k: Kernel, pgd: number): void {
  const root = k.pt.rootPfn;
  for (let i = USER_PTRS_PER_PGD; i < 512; i++) {
    k.mem.write64(pgd, i, k.pt.readLo(root, i), k.pt.readHi(root, i));
  }
}

/** pgd_free(). */
export function pgdFree(k: Kernel, pgd: number): void {
  freePages(k, pgd, 0);
}
