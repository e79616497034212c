import { describe, expect, test } from 'vitest';
import { GuestSystem } from '../system.js';
import { zdevKernelProfile } from '../profile.js';
import { KernelOops, EEXIST, EINVAL, ENOENT, ENOMEM, ENXIO } from '../errno.js';
import { checkInvariants, formatViolation } from '../../check/invariants.js';
import { snapshot } from '../../check/faults.js';
import { addMemory, MHP_NONE } from './memory_hotplug.js';
import { devPagemaps, getDevPagemap, memremapPages, newDevPagemap, pfnValid } from './memremap.js';
import { ZONE_DEVICE } from './zone.js';
import { Session } from '../../session/session.js';
import { parseRunArgs, UsageError } from '../../session/options.js';

const SZ_2M = 0x200000n;
const SZ_128M = 0x8000000n;

function bootZdev(extra = 'no5lvl'): GuestSystem {
  return new GuestSystem({
    ramBytes: 8n << 30n,
    smp: 2,
    append: `mem=2G ${extra}`,
    initrdSize: 0x7f000,
    profile: zdevKernelProfile(),
  });
}

/** Writes through the driver's debugfs file as the recordings do; the errno (0: success). */
function write(sys: GuestSystem, file: string, text: string): number {
  try {
    sys.vfs.write(`/sys/kernel/debug/hotplug_oracle/${file}`, text);
    return 0;
  } catch (e) {
    const errno = (e as { errno?: number }).errno;
    if (errno === undefined) throw e;
    return errno;
  }
}

const vmemmapLeafAt = (sys: GuestSystem, pfn: number): boolean => {
  const k = sys.kernel;
  return k.pt.lookup(Number(k.layout.pfnToPage(BigInt(pfn)) >> 12n)).leaf;
};

describe('the ZONE_DEVICE build', () => {
  test('has the Device zone and the driver files; the plain build has neither', () => {
    const z = bootZdev();
    expect(z.kernel.pgdat.zones.map((x) => x.name)).toEqual(['DMA32', 'Normal', 'Movable', 'Device']);
    expect(z.vfs.read('/proc/zoneinfo')).toMatch(/zone {3}Device\n/);
    expect(z.vfs.read('/proc/zoneinfo')).toMatch(/protection: \(0, 0, 0, 0\)/);
    for (const f of ['memremap', 'memremap_altmap', 'memunmap', 'page'])
      expect(z.vfs.list('/sys/kernel/debug/hotplug_oracle').map((e) => e.name)).toContain(f);
    const plain = new GuestSystem({ ramBytes: 8n << 30n, smp: 2, append: 'mem=2G', initrdSize: 0 });
    expect(plain.kernel.pgdat.zones).toHaveLength(3);
    expect(plain.vfs.list('/sys/kernel/debug/hotplug_oracle').map((e) => e.name)).not.toContain('memremap');
  });

  test('-kernel picks the profile by name; an unknown name is a usage error', () => {
    const s = new Session(
      parseRunArgs(['-m', '8G', '-append', 'mem=2G', '-kernel', 'linux-6.12.117-virt-zdev']),
    );
    expect(s.system.kernel.profile.config.ZONE_DEVICE).toBe(true);
    expect(() => new Session(parseRunArgs(['-m', '8G', '-kernel', 'bzImage']))).toThrow(UsageError);
  });
});

describe('memremap_pages / memunmap_pages', () => {
  test('128 MiB of device memory: struct pages in ZONE_DEVICE, never RAM', () => {
    const sys = bootZdev();
    const k = sys.kernel;
    const memTotal = sys.vfs.read('/proc/meminfo').split('\n')[0];
    const iomem = sys.vfs.read('/proc/iomem');
    expect(write(sys, 'memremap', '0x100000000 0x8000000')).toBe(0);
    expect(pfnValid(k, 0x100000)).toBe(true);
    expect(pfnValid(k, 0x107fff)).toBe(true);
    expect(pfnValid(k, 0x108000)).toBe(false);
    expect(k.pgdat.zone(ZONE_DEVICE).spannedPages).toBe(32768);
    expect(k.pgdat.zone(ZONE_DEVICE).presentPages).toBe(0);
    expect(sys.vfs.read('/proc/meminfo').split('\n')[0]).toBe(memTotal);
    expect(sys.vfs.read('/proc/iomem')).toBe(iomem);
    expect([...k.memoryBlocks.keys()].some((id) => id >= 32)).toBe(false);
    expect(write(sys, 'page', '0x100000')).toBe(0);
    expect(k.log.dmesg()).toMatch(
      /page 0x100000: struct page at ffff8d8002000000 flags=0x3000000000002000 refcount=1 zone=3/,
    );
    expect(checkInvariants(sys, 'memremap').map(formatViolation)).toEqual([]);
    expect(write(sys, 'memunmap', '0x100000000 0x8000000')).toBe(0);
    expect(pfnValid(k, 0x100000)).toBe(false);
    expect(write(sys, 'page', '0x100000')).toBe(ENXIO);
    expect(devPagemaps(k)).toHaveLength(0);
    // ZONE_DEVICE spans never shrink.
    expect(k.pgdat.zone(ZONE_DEVICE).spannedPages).toBe(32768);
    expect(checkInvariants(sys, 'memunmap').map(formatViolation)).toEqual([]);
  });

  test('bad and conflicting ranges: the kernel errno, and nothing changes', () => {
    const sys = bootZdev();
    expect(write(sys, 'memremap', '0x100000000 0x8000000')).toBe(0);
    const cases: Array<[string, string, number]> = [
      ['memremap', '0x80000000 0x8000000', ENXIO],
      ['memremap', '0x100000000 0x8000000', ENOMEM],
      ['memremap', '0x104000000 0x200000', ENOMEM],
      ['memremap', '0x108001000 0x1000', EINVAL],
      ['memremap', '0x108000000 0', EINVAL],
      ['memremap', '0x100000000000000 0x200000', EINVAL],
      ['memunmap', '0x110000000 0x8000000', ENOENT],
      ['memunmap', '0x100000000 0x200000', ENOENT],
    ];
    for (const [file, text, errno] of cases) {
      const before = snapshot(sys);
      expect(write(sys, file, text), `${file} ${text}`).toBe(errno);
      expect(snapshot(sys), `${file} ${text}`).toBe(before);
    }
    expect(sys.kernel.log.dmesg()).toMatch(/attempted on ram region 0x80000000-0x87ffffff/);
    expect(sys.kernel.log.dmesg()).toMatch(/Conflicting mapping in same section/);
    expect(sys.kernel.log.dmesg()).toMatch(/Misaligned __add_pages start: 0x108001 end: 0x108001/);
  });

  test('add_memory over device memory fails with EEXIST and takes the device linear map with it (as recorded)', () => {
    const sys = bootZdev();
    const k = sys.kernel;
    expect(write(sys, 'memremap', '0x100000000 0x8000000')).toBe(0);
    expect(addMemory(k, 0, 0x100000000n, SZ_128M, MHP_NONE)).toBe(-EEXIST);
    const v = checkInvariants(sys, 'add over device memory').map((x) => x.invariant);
    expect(v).toContain('linear-map-covers-present-memory');
  });

  test('an altmap carves the memmap from the start of the device range', () => {
    const sys = bootZdev();
    const k = sys.kernel;
    expect(write(sys, 'memremap_altmap', '0x140000000 0x10000000')).toBe(0);
    const va = Number(k.layout.pfnToPage(0x140000n) >> 12n);
    const hit = k.pt.lookup(va);
    expect(hit.leaf).toBe(true);
    expect(hit.level).toBe(1);
    expect(k.pt.entryPfn(hit.tablePfn, hit.index)).toBe(0x140000);
    expect(checkInvariants(sys, 'memremap_altmap').map(formatViolation)).toEqual([]);
    expect(write(sys, 'memunmap', '0x140000000 0x10000000')).toBe(0);
    expect(k.pt.lookup(va).leaf).toBe(false);
    expect(checkInvariants(sys, 'memunmap').map(formatViolation)).toEqual([]);
  });

  test('sub-sections: two 2 MiB ranges share one section and one vmemmap PMD leaf', () => {
    const sys = bootZdev();
    const k = sys.kernel;
    expect(write(sys, 'memremap', '0x100000000 0x200000')).toBe(0);
    expect(write(sys, 'memremap', '0x100200000 0x200000')).toBe(0);
    expect(k.sparse.get(32)!.subsectionMap).toBe(3n);
    expect(getDevPagemap(k, 0x100200)?.start).toBe(0x100200000n);
    expect(pfnValid(k, 0x100400)).toBe(false);
    expect(checkInvariants(sys, 'two sub-sections').map(formatViolation)).toEqual([]);
  });

  for (const mode of ['', 'no5lvl', 'no4lvl']) {
    test(`F4 (${mode || 'sv57'}): memunmap of one sub-section frees the vmemmap leaf its neighbour still uses`, () => {
      const sys = bootZdev(mode);
      const k = sys.kernel;
      expect(write(sys, 'memremap', '0x100000000 0x200000')).toBe(0);
      expect(write(sys, 'memremap', '0x100200000 0x200000')).toBe(0);
      expect(write(sys, 'memunmap', '0x100000000 0x200000')).toBe(0);
      // The second range is still there as far as sparse is concerned ...
      expect(pfnValid(k, 0x100200)).toBe(true);
      // ... but its struct pages are gone with the shared leaf.
      expect(vmemmapLeafAt(sys, 0x100200)).toBe(false);
      const v = checkInvariants(sys, 'memunmap 0x100000000 0x200000');
      expect(v).toHaveLength(1);
      expect(formatViolation(v[0]!)).toMatch(
        /vmemmap of present sub-sections \[mem 0x100200000-0x1003fffff\] .* unmapped by vmemmap_free\(.*\) of a neighbouring sub-section \[mem 0x100000000-0x1001fffff\]/,
      );
      // Touching it is the recorded oops.
      let oops: unknown;
      try {
        write(sys, 'page', '0x100200');
      } catch (e) {
        oops = e;
      }
      expect(oops).toBeInstanceOf(KernelOops);
      expect((oops as KernelOops).va).toBe(k.layout.pfnToPage(0x100200n));
    });
  }

  test('F4 is named when the range unmapped straddles two sections (the section it shares is not its last)', () => {
    const sys = bootZdev();
    expect(write(sys, 'memremap', '0x1c8200000 0x8000000')).toBe(0);
    expect(write(sys, 'memremap', '0x1c8000000 0x200000')).toBe(0);
    expect(write(sys, 'memunmap', '0x1c8200000 0x8000000')).toBe(0);
    const v = checkInvariants(sys, 'memunmap 0x1c8200000 0x8000000').map(formatViolation);
    expect(v).toHaveLength(1);
    expect(v[0]).toMatch(
      /vmemmap of present sub-sections \[mem 0x1c8000000-0x1c81fffff\] .* of a neighbouring sub-section \[mem 0x1c8200000-0x1cfffffff\]/,
    );
  });

  test('MEMORY_DEVICE_PRIVATE: not in the recorded build; with DEVICE_PRIVATE, struct pages only, no linear map', () => {
    const recorded = bootZdev();
    expect(
      memremapPages(recorded.kernel, newDevPagemap('private', 0x200000000n, SZ_128M, undefined, true), 0),
    ).toBe(-EINVAL);
    expect(recorded.kernel.log.dmesg()).toMatch(/Device private memory not supported/);
    const base = zdevKernelProfile();
    const sys = new GuestSystem({
      ramBytes: 8n << 30n,
      smp: 2,
      append: 'mem=2G no5lvl',
      initrdSize: 0x7f000,
      profile: { ...base, config: { ...base.config, DEVICE_PRIVATE: true } },
    });
    const k = sys.kernel;
    expect(memremapPages(k, newDevPagemap('private', 0x200000000n, SZ_128M), 0)).toBe(-EINVAL);
    const pgmap = newDevPagemap('private', 0x200000000n, SZ_128M, undefined, true);
    expect(memremapPages(k, pgmap, 0)).toBe(0);
    expect(pfnValid(k, 0x200000)).toBe(true);
    expect(k.pt.lookup(Number(k.layout.va(0x200000000n) >> 12n)).leaf).toBe(false);
    expect(checkInvariants(sys, 'private').map(formatViolation)).toEqual([]);
  });

  test('sizes below a sub-section are EINVAL', () => {
    const sys = bootZdev();
    const before = snapshot(sys);
    expect(memremapPages(sys.kernel, newDevPagemap('generic', 0x100000000n, SZ_2M / 2n), 0)).toBe(-EINVAL);
    expect(snapshot(sys)).toBe(before);
  });
});
