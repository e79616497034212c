/**
 * /proc/kpageflags's read of one pfn (fs/proc/page.c): pfn_to_online_page()
 * then the struct page's flags through the vmemmap. The online check and the
 * read are not under get_online_mems(), so a concurrent offline and remove
 * can free the struct page in between; the concurrency explorer's
 * kpageflags-remove scenario runs it against a remove. (The file itself is
 * not in the model's /proc: the recorded kernels' listings do not have it.)
 */
import type { Kernel } from '../kernel.js';
import { pfnToSectionNr } from '../mm/mmzone.js';
import { structPageAccess } from '../mm/page_alloc.js';

/** The flags word kpageflags reports for pfn (0 for a pfn that is not online). */
export function kpageflagsRead(k: Kernel, pfn: number): number {
  const ms = k.sparse.get(pfnToSectionNr(pfn));
  // pfn_to_online_page(): an online section, else no page.
  if (!ms || !ms.online) return 0;
  k.sched?.point({ kind: 'load', text: `read the struct page of pfn 0x${pfn.toString(16)}` });
  structPageAccess(k, pfn, 'stable_page_flags');
  return 1;
}
