/** alloc_pages_bulk: the same pages, counts and oops as one alloc_pages per page. */
import { describe, expect, test } from 'vitest';
import { sessionFor } from '../../../test/support/guest.js';
import type { Kernel } from '../kernel.js';
import { allocPagesBulk, allocPagesFrom, zonelist } from './page_alloc.js';

/** The machine of finding F1: memory33..39 online with no linear map left under them. */
function brokenLinearMap(): Kernel {
  const s = sessionFor('-m 8G -smp 2 -append mem=2G');
  for (const line of [
    'echo 0x100000000 0x40000000 > /sys/kernel/debug/hotplug_oracle/add',
    'for b in 33 34 35 36 37 38 39; do echo online > /sys/devices/system/memory/memory$b/state; done',
    'echo 0x100000000 0x8000000 > /sys/kernel/debug/hotplug_oracle/remove',
  ])
    s.execute(line);
  return s.system.kernel;
}

/** What a run of allocations leaves: the pages, the oops (if any), the zones' free lists and counts. */
function outcome(k: Kernel, take: (out: number[]) => void): string {
  const out: number[] = [];
  let oops = '';
  try {
    take(out);
  } catch (e) {
    oops = (e as Error).message;
  }
  const zones = k.pgdat.zones.map((z) => [z.name, z.numaHit, [...z.free.extents()]]);
  return JSON.stringify({ out, oops, zones });
}

describe('allocPagesBulk', () => {
  test.each([
    ['into memory whose linear map is gone: the oops at the same page', 'movable' as const, 600_000],
    ['from boot memory, over many free blocks', 'kernel' as const, 70_000],
  ])('%s', (_name, gfp, count) => {
    const mt = gfp === 'movable' ? 'movable' : 'unmovable';
    const bulk = brokenLinearMap();
    const single = brokenLinearMap();
    const a = outcome(bulk, (out) => allocPagesBulk(bulk, count, zonelist(bulk, gfp), mt, out));
    const b = outcome(single, (out) => {
      for (let i = 0; i < count; i++) {
        const pfn = allocPagesFrom(single, 0, zonelist(single, gfp), mt);
        if (pfn === undefined) break;
        out.push(pfn);
      }
    });
    expect(a).toBe(b);
    if (gfp === 'movable') expect(JSON.parse(a).oops).toMatch(/clear_page: unable to handle kernel paging request/);
  });
});
