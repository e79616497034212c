/**
 * Workloads a user drives from the shell (movable, pinned and unmovable memory
 * from a chosen zone) and the plain-words reasons when offline or a
 * virtio-mem unplug fails because of them.
 */
import { describe, expect, test } from 'vitest';
import { sessionFor } from '../support/guest.js';
import { Session } from '../../src/session/session.js';
import { parseRunArgs } from '../../src/session/options.js';
import { EBUSY, EINTR } from '../../src/kernel/errno.js';

const M = '/sys/devices/system/memory';

/** The recordings' machine (8 GiB, mem=2G: all DMA32) and one hot-added block, memory32, onlined as asked. */
function withBlock(online: 'online_kernel' | 'online_movable'): Session {
  const s = new Session(parseRunArgs(['-m', '8G', '-append', 'mem=2G']));
  s.execute('echo 0x100000000 0x8000000 > /sys/kernel/debug/hotplug_oracle/add');
  expect(s.execute(`echo ${online} > ${M}/memory32/state`)?.status).toBe(0);
  return s;
}

describe('workload commands', () => {
  test('workload alloc takes pages from the chosen zone; list shows them; free gives them back', () => {
    const s = withBlock('online_kernel');
    const free0 = s.system.kernel.pgdat.zones.reduce((n, z) => n + z.free.freePages, 0);
    expect(s.execute('workload alloc unmovable 1M zone=Normal')?.stdout).toMatch(
      /^workload: #1 unmovable 1 MiB: 256 pages in Normal \(from pfn 0x100\d+\)\n$/,
    );
    expect(s.execute('memhog 2M')?.stdout).toMatch(/^memhog: #2 movable 2 MiB: 512 pages in /);
    expect(s.execute('workload list')?.stdout).toBe(
      'ID   KIND       SIZE       ZONES\n#1   unmovable  1 MiB      Normal:256\n#2   movable    2 MiB      Normal:512\n',
    );
    expect(s.execute('workload free all')?.stdout).toBe('workload: freed #1 #2 (768 pages)\n');
    expect(s.system.kernel.pgdat.zones.reduce((n, z) => n + z.free.freePages, 0)).toBe(free0);
    expect(s.execute('workload free all')?.stdout).toBe('workload: nothing to free\n');
  });

  test('bad input is refused clearly and changes nothing', () => {
    const s = withBlock('online_movable');
    expect(s.execute('workload alloc unmovable 1M zone=Movable')?.stderr).toMatch(
      /never comes from ZONE_MOVABLE/,
    );
    expect(s.execute('workload alloc pinned 1M zone=Movable')?.stderr).toMatch(
      /long-term pin never stays in ZONE_MOVABLE/,
    );
    expect(s.execute('workload alloc movable 1M node=1')?.stderr).toMatch(/node 1 has no memory/);
    expect(s.execute('workload alloc movable lots')?.stderr).toMatch(/invalid size 'lots'/);
    expect(s.execute('workload free 7')?.stderr).toMatch(/no allocation #7/);
    expect(s.execute('workload alloc movable 1T')?.stderr).toMatch(/cannot allocate .* out of memory/);
    expect(s.execute('workload list')?.stdout).toBe('ID   KIND       SIZE       ZONES\n');
  });
});

describe('why offline fails', () => {
  test('unmovable kernel memory in a ZONE_NORMAL block: EBUSY, the pages and what would help', () => {
    const s = withBlock('online_kernel');
    s.execute('workload alloc unmovable 1M zone=Normal');
    const r = s.execute(`echo offline > ${M}/memory32/state`)!;
    expect(r.errno).toBe(EBUSY);
    expect(r.stderr).toContain('bash: echo: write error: Device or resource busy');
    expect(r.stderr).toMatch(
      /why: offlining pfn 0x100000-0x107fff \(memory32, zone Normal\) failed: failure to isolate range/,
    );
    expect(r.stderr).toMatch(
      /256 page\(s\) from pfn 0x1[0-9a-f]+ \(Normal, \w+ pageblock\): unmovable kernel memory #1; free it \(workload free 1\)/,
    );
    expect(r.stderr).toContain('only ZONE_MOVABLE guarantees');
    s.execute('workload free 1');
    expect(s.execute(`echo offline > ${M}/memory32/state`)?.status).toBe(0);
  });

  test('a pinned buffer: the kernel retries until interrupted (EINTR); the model says so', () => {
    const s = withBlock('online_kernel');
    s.execute('workload alloc pinned 64K zone=Normal');
    const r = s.execute(`echo offline > ${M}/memory32/state`)!;
    expect(r.errno).toBe(EINTR);
    expect(r.stderr).toMatch(/pinned user memory #1 .*free the pinned buffer \(workload free 1\)/);
    expect(r.stderr).toMatch(/hangs until Ctrl-C/);
  });

  test('movable memory in ZONE_MOVABLE migrates away: offline succeeds, no explanation', () => {
    const s = withBlock('online_movable');
    s.execute('memhog 4M zone=Movable');
    const r = s.execute(`echo offline > ${M}/memory32/state`)!;
    expect(r).toMatchObject({ status: 0, stderr: '' });
    expect(s.execute('workload list')?.stdout).toContain('#1   movable    4 MiB      DMA32:1024');
  });
});

describe('why a virtio-mem device stays below its requested size', () => {
  test('blocks left offline: the driver stops at its offline limit, and the model says what to do', () => {
    const s = sessionFor(
      '-m 2G,maxmem=8G -object memory-backend-ram,id=m0,size=4G -device virtio-mem-pci,id=vm0,memdev=m0',
    );
    const r = s.execute('(qemu) qom-set vm0 requested-size 3G')!;
    expect(s.execute('(qemu) info memory-devices')!.stdout).toContain('  size: 1073741824\n');
    expect(r.stderr).toMatch(
      /why: virtio-mem 'vm0' has size 1024 MiB, requested 3072 MiB: the driver stops adding memory while 1024 MiB it added is still offline/,
    );
  });
});

describe('ptwalk, the readable walk', () => {
  test('names the PTE bits and prints the last address of a range, never a wrapped -0x0', async () => {
    const { formatPtwalk, decodePteFlags } = await import('../../src/session/ptwalk-cmd.js');
    expect(decodePteFlags(0xe7n)).toBe('V R W G A D');
    expect(decodePteFlags(0xebn | (1n << 62n))).toBe('V R X G A D IO');
    expect(formatPtwalk('LEAF  PMD va=0xffffffffffe00000-0x0 pa=0x80000000-0x80200000 n=1 flags=0xe7')).toBe(
      'LEAF  PMD va=0xffffffffffe00000..0xffffffffffffffff pa=0x80000000..0x801fffff n=1 flags=0xe7 (V R W G A D)',
    );
    const s = new Session(parseRunArgs(['-m', '2G']));
    const r = s.execute('ptwalk linear 0x80000000 0x80400000')!;
    expect(r.stdout).toMatch(
      /LEAF {2}PMD va=0x[0-9a-f]+\.\.0x[0-9a-f]+ pa=0x80000000\.\.0x801fffff n=1 flags=0xe7 \(V R W G A D\)/,
    );
    expect(r.stdout).not.toContain('-0x0');
  });
});

describe('why a virtio-mem unplug does not shrink the device', () => {
  test('unmovable memory in blocks onlined to ZONE_NORMAL: size stays up, and the pages in the way are named', () => {
    const s = sessionFor(
      '-m 2G,maxmem=8G -append memhp_default_state=online_kernel -object memory-backend-ram,id=m0,size=4G -device virtio-mem-pci,id=vm0,memdev=m0',
    );
    s.execute('(qemu) qom-set vm0 requested-size 256M');
    expect(s.execute('workload alloc unmovable 200M zone=Normal')?.status).toBe(0);
    const r = s.execute('(qemu) qom-set vm0 requested-size 0')!;
    expect(s.execute('(qemu) info memory-devices')!.stdout).not.toContain('  size: 0\n');
    // Sub-block mode takes free sub-blocks back without offlining; the busy ones stay plugged.
    expect(r.stderr).toMatch(
      /why: virtio-mem 'vm0' has size \d+ MiB, requested 0 MiB: the driver could not unplug/,
    );
    expect(r.stderr).toMatch(
      /page\(s\) from pfn 0x1[0-9a-f]+ \(Normal, unmovable pageblock\): unmovable kernel memory #1; free it \(workload free 1\)/,
    );
  });
});
