/**
 * When offline meets an unmovable page the kernel dumps it (dump_page, "unmovable
 * page"), as the d-bad-inputs recording shows, and the range stays online.
 */
import { expect, test } from 'vitest';
import { Session } from '../../src/session/session.js';
import { parseRunArgs } from '../../src/session/options.js';
import { EBUSY } from '../../src/kernel/errno.js';

const strip = (l: string): string => l.replace(/^\[[ \d.]+\] /, '');

test('offline of boot memory: dump_page of the first unmovable page in isolation order, EBUSY, range restored', () => {
  const s = new Session(parseRunArgs(['-m', '8G', '-append', 'mem=2G no5lvl']));
  const r = s.execute('echo offline > /sys/devices/system/memory/memory16/state')!;
  expect(r.errno).toBe(EBUSY);
  expect(r.kmsg.map(strip)).toEqual([
    'page: refcount:1 mapcount:0 mapping:0000000000000000 index:0x0 pfn:0x80000',
    'flags: 0x2000(reserved|node=0|zone=0)',
    'raw: 0000000000002000 ffff8d8000000008 ffff8d8000000008 0000000000000000',
    'raw: 0000000000000000 0000000000000000 00000001ffffffff 0000000000000000',
    'page dumped because: unmovable page',
  ]);
  // start_isolate_page_range() tries the last pageblock before the middle ones.
  const r2 = s.execute('echo 0xf8000000 0x8000000 > /sys/kernel/debug/hotplug_oracle/offline_and_remove')!;
  expect(r2.kmsg.map(strip)[0]).toBe(
    'page: refcount:1 mapcount:0 mapping:0000000000000000 index:0x0 pfn:0xffe00',
  );
  expect(s.execute('cat /sys/devices/system/memory/memory16/state')!.stdout).toBe('online\n');
  expect(s.execute('cat /sys/devices/system/memory/memory31/state')!.stdout).toBe('online\n');
});

test('an unmovable page in ZONE_NORMAL: its zone in the flags, the lru poisoned by the allocator', () => {
  const s = new Session(parseRunArgs(['-m', '8G', '-append', 'mem=2G']));
  s.execute('echo 0x100000000 0x8000000 > /sys/kernel/debug/hotplug_oracle/add');
  s.execute('echo online_kernel > /sys/devices/system/memory/memory32/state');
  s.execute('workload alloc unmovable 4K zone=Normal');
  const r = s.execute('echo offline > /sys/devices/system/memory/memory32/state')!;
  const lines = r.kmsg.map(strip);
  expect(lines[1]).toBe('flags: 0x1000000000000000(node=0|zone=1)');
  expect(lines[2]).toMatch(/^raw: 1000000000000000 dead000000000100 dead000000000122 0000000000000000$/);
  expect(lines[4]).toBe('page dumped because: unmovable page');
});
