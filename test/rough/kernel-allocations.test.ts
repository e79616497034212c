/**
 * The kernel's own run-time allocations (docs/kernel-allocations.md): slab
 * pages that land in a ZONE_NORMAL block make its offline fail with EBUSY
 * and a dump_page of the slab; per-CPU boot allocations move where hot-add
 * vmemmap lands; /proc/vmstat, /proc/zoneinfo and node0/meminfo as 6.12
 * prints them.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { EBUSY } from '../../src/kernel/errno.js';
import { sessionFor } from '../support/guest.js';
import { Session } from '../../src/session/session.js';
import { parseRunArgs } from '../../src/session/options.js';

/** -m 8G -smp 4 with memmap_on_memory: the kept-aside recordings' kind of machine. */
const memmapOnMemory = (): Session =>
  new Session(parseRunArgs(['-m', '8G', '-smp', '4', '-append', 'mem=2G memory_hotplug.memmap_on_memory=1']));
import { NODE_STAT_ITEMS, NUMA_STAT_ITEMS, ZONE_STAT_ITEMS } from '../../src/kernel/mm/vmstat.js';

const strip = (l: string): string => l.replace(/^\[[ \d.]+\] /, '');
const MEM = '/sys/devices/system/memory';

describe('offline meets a slab page', () => {
  test('a Normal block holding inodes of sysfs files looked up after it came online: EBUSY, dump_page of the slab, range restored', () => {
    const s = memmapOnMemory();
    s.execute('echo 0x100000000 0x8000000 > /sys/kernel/debug/hotplug_oracle/add_memmap');
    s.execute(`echo online_kernel > ${MEM}/memory32/state`);
    s.execute('echo 0x108000000 0x8000000 > /sys/kernel/debug/hotplug_oracle/add_memmap');
    const k = s.system.kernel;
    const normal = k.pgdat.zones[1]!;
    // Looking up memory33's files makes dentries and inodes; ZONE_NORMAL is first in GFP_KERNEL's zonelist.
    s.execute(`ls ${MEM}/memory33`);
    const inodeSlab = [...k.slub.caches.get('inode_cache')!.partial].find((sl) => normal.contains(sl.pfn));
    expect(inodeSlab).toBeDefined();
    const freeBefore = normal.free.freePages;
    const r = s.execute(`echo offline > ${MEM}/memory32/state`)!;
    expect(r.errno).toBe(EBUSY);
    const lines = r.kmsg.map(strip);
    const pfn = inodeSlab!.pfn.toString(16);
    expect(lines[0]).toMatch(
      new RegExp(`^page: refcount:1 mapcount:0 mapping:0000000000000000 index:0x[0-9a-f]+ pfn:0x${pfn}$`),
    );
    expect(lines[1]).toBe('head: order:1 mapcount:0 entire_mapcount:0 nr_pages_mapped:0 pincount:0');
    expect(lines[2]).toBe('flags: 0x1000000000000040(head|node=0|zone=1)');
    expect(lines[3]).toBe('page_type: f5(slab)');
    // raw: the counters word holds inuse and objects (13 inodes fit an order-1 slab); the type word f5000000, refcount 1.
    expect(lines[5]).toMatch(
      /^raw: [0-9a-f]{16} 00000000000d00[0-9a-f]{2} 00000001f5000000 0000000000000000$/,
    );
    expect(lines.filter((l) => l.startsWith('head: '))).toHaveLength(5);
    expect(lines[lines.length - 1]).toBe('page dumped because: unmovable page');
    // The range is as it was: online, in Normal, its free pages back in the buddy lists.
    expect(s.execute(`cat ${MEM}/memory32/state`)!.stdout).toBe('online\n');
    expect(normal.free.freePages).toBe(freeBefore);
    expect(s.execute(`cat ${MEM}/memory32/valid_zones`)!.stdout).toBe('Normal\n');
  });

  test('the same steps with the block online_movable: kernel objects never go there, offline succeeds', () => {
    const s = memmapOnMemory();
    s.execute('echo 0x100000000 0x8000000 > /sys/kernel/debug/hotplug_oracle/add_memmap');
    s.execute(`echo online_movable > ${MEM}/memory32/state`);
    s.execute('echo 0x108000000 0x8000000 > /sys/kernel/debug/hotplug_oracle/add_memmap');
    s.execute(`ls ${MEM}/memory33`);
    expect(s.execute(`echo offline > ${MEM}/memory32/state`)!.errno ?? 0).toBe(0);
  });

  test('removing a block frees the slab objects its device and its looked-up files held', () => {
    const s = sessionFor('-m 8G -append mem=2G');
    const k = s.system.kernel;
    s.execute(`ls ${MEM}`);
    const before = k.slub.unreclaimablePages;
    const objects = [...k.slub.caches.values()].reduce((n, c) => n + c.nrObjects, 0);
    s.execute('echo 0x100000000 0x8000000 > /sys/kernel/debug/hotplug_oracle/add');
    s.execute(`ls ${MEM}/memory32`);
    expect([...k.slub.caches.values()].reduce((n, c) => n + c.nrObjects, 0)).toBeGreaterThan(objects + 12);
    s.execute('echo 0x100000000 0x8000000 > /sys/kernel/debug/hotplug_oracle/remove');
    expect([...k.slub.caches.values()].reduce((n, c) => n + c.nrObjects, 0)).toBe(objects);
    expect(k.slub.unreclaimablePages).toBe(before);
  });
});

describe('per-CPU boot allocations move hot-add vmemmap', () => {
  const vmemmapPas = (smp: number): string[] => {
    const s = sessionFor(`-m 8G -smp ${smp} -append mem=2G no5lvl`);
    s.execute('echo 0x180000000 0x8000000 > /sys/kernel/debug/hotplug_oracle/add');
    const pt = s.execute('cat /sys/kernel/debug/kernel_page_tables')!.stdout.split('\n');
    const from = pt.indexOf('---[ vmemmap start ]---');
    const to = pt.indexOf('---[ vmemmap end ]---');
    return pt.slice(from + 1, to).map((l) => l.split(/\s+/)[1]!);
  };

  test('two and three harts: the first free 2 MiB unmovable block; four: the next one, 2 MiB away', () => {
    const two = vmemmapPas(2);
    expect(two[1]).toBe('0x0000000081600000');
    expect(vmemmapPas(3)[1]).toBe(two[1]);
    expect(vmemmapPas(4)[1]).toBe('0x0000000081800000');
  });
});

describe('/proc/vmstat, /proc/zoneinfo, node0/meminfo', () => {
  test('/proc/vmstat: the 6.12 items of this build in vmstat_text order, then nr_unstable', () => {
    const s = sessionFor('-m 8G -append mem=2G');
    const out = s.execute('cat /proc/vmstat')!.stdout.trimEnd().split('\n');
    expect(out.map((l) => l.split(' ')[0])).toEqual([
      ...ZONE_STAT_ITEMS,
      ...NUMA_STAT_ITEMS,
      ...NODE_STAT_ITEMS,
      'nr_dirty_threshold',
      'nr_dirty_background_threshold',
      'nr_memmap_pages',
      'nr_memmap_boot_pages',
      'nr_unstable',
    ]);
    const v = Object.fromEntries(out.map((l) => l.split(' ') as [string, string]));
    // 16 boot sections of 512 memmap pages each; nothing hot-added yet.
    expect(v['nr_memmap_boot_pages']).toBe('8192');
    expect(v['nr_memmap_pages']).toBe('0');
    const meminfo = s.execute('cat /proc/meminfo')!.stdout;
    expect(Number(/MemFree: +(\d+)/.exec(meminfo)![1]) / 4).toBe(Number(v['nr_free_pages']));
    s.execute('echo 0x100000000 0x10000000 > /sys/kernel/debug/hotplug_oracle/add');
    const after = Object.fromEntries(
      s
        .execute('cat /proc/vmstat')!
        .stdout.trimEnd()
        .split('\n')
        .map((l) => l.split(' ') as [string, string]),
    );
    expect(after['nr_memmap_pages']).toBe('1024');
    s.execute('echo 0x100000000 0x10000000 > /sys/kernel/debug/hotplug_oracle/remove');
    expect(s.execute('grep memmap /proc/vmstat')!.stdout).toBe(
      'nr_memmap_pages 0\nnr_memmap_boot_pages 8192\n',
    );
  });

  test('/proc/zoneinfo has the lines of the real one (a-boot.sv48), in its order', () => {
    const log = readFileSync(new URL('../fixtures/oracle/a-boot.sv48.log', import.meta.url), 'utf8').split(
      '\n',
    );
    const begin = log.indexOf('=== BEGIN cat /proc/zoneinfo ===');
    const end = log.findIndex((l, i) => i > begin && l.startsWith('=== END cat /proc/zoneinfo'));
    const label = (l: string): string => l.replace(/ +\d+$/, '').replace(/\(.*\)$/, '');
    const expected = log.slice(begin + 1, end).map(label);
    const s = sessionFor('-m 8G -append mem=2G no5lvl');
    const got = s.execute('cat /proc/zoneinfo')!.stdout.trimEnd().split('\n');
    expect(got.map(label)).toEqual(expected);
    // The values the model computes as the kernel does: watermarks, spans, pcp batch, stat thresholds, stacks.
    const exact =
      /^ +(min|low|high|promo|spanned|present|batch:|vm stats threshold:|start_pfn:|nr_kernel_stack) /;
    const pick = (lines: string[]): string[] => lines.filter((l) => exact.test(l));
    expect(pick(got)).toEqual(pick(log.slice(begin + 1, end)));
  });

  test('node0/meminfo: the lines node_read_meminfo prints for this build, totals agreeing with /proc/meminfo', () => {
    const s = sessionFor('-m 8G -append mem=2G');
    const node = s.execute('cat /sys/devices/system/node/node0/meminfo')!.stdout.trimEnd().split('\n');
    expect(node.map((l) => l.split(':')[0])).toEqual(
      [
        'MemTotal',
        'MemFree',
        'MemUsed',
        'SwapCached',
        'Active',
        'Inactive',
        'Active(anon)',
        'Inactive(anon)',
        'Active(file)',
        'Inactive(file)',
        'Unevictable',
        'Mlocked',
        'Dirty',
        'Writeback',
        'FilePages',
        'Mapped',
        'AnonPages',
        'Shmem',
        'KernelStack',
        'PageTables',
        'SecPageTables',
        'NFS_Unstable',
        'Bounce',
        'WritebackTmp',
        'KReclaimable',
        'Slab',
        'SReclaimable',
        'SUnreclaim',
        'AnonHugePages',
        'ShmemHugePages',
        'ShmemPmdMapped',
        'FileHugePages',
        'FilePmdMapped',
        'HugePages_Total',
        'HugePages_Free',
        'HugePages_Surp',
      ].map((n) => `Node 0 ${n}`),
    );
    const meminfo = s.execute('cat /proc/meminfo')!.stdout;
    const kb = (text: string, name: string): number =>
      Number(new RegExp(`${name}: +(\\d+) kB`).exec(text)![1]);
    const nodeText = node.join('\n');
    expect(kb(nodeText, 'MemTotal')).toBe(kb(meminfo, 'MemTotal'));
    expect(kb(nodeText, 'Slab')).toBe(kb(meminfo, 'Slab'));
    expect(kb(nodeText, 'MemUsed')).toBe(kb(nodeText, 'MemTotal') - kb(nodeText, 'MemFree'));
  });
});
