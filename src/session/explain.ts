/**
 * Plain-words reasons next to the kernel's messages: why an offline (a write
 * to a memory block's state or online file, offline_and_remove_memory, a
 * virtio-mem unplug) failed, and why a virtio-mem device's size stays below
 * its requested size. The kernel says only "-EBUSY"; the model knows which
 * pages were in the way and who owns them, and what would let it succeed.
 */
import type { GuestSystem } from '../kernel/system.js';
import { pageReserved, pageZone } from '../kernel/mm/page_alloc.js';
import { busyPieces } from '../kernel/mm/page_isolation.js';
import { PAGES_PER_SECTION } from '../kernel/mm/mmzone.js';
import { ZONE_MOVABLE } from '../kernel/mm/zone.js';
import { allocationTable } from './workload-cmd.js';

const hex = (n: number): string => '0x' + n.toString(16);

interface Blocker {
  owner: string;
  /** What the user can do about it. */
  fix: string;
  first: number;
  count: number;
  migratetype: string;
  zone: string;
}

interface Owner {
  key: string;
  owner: string;
  fix: string;
}

/**
 * Who holds a page that is neither free nor migratable: the owner's key, and a function for its
 * words (a block may have thousands of busy pages and only the first of each owner is described).
 */
function ownerOf(system: GuestSystem, pfn: number): { key: string; describe: () => Owner } | undefined {
  const k = system.kernel;
  const kind = k.workload.kindOf(pfn);
  if (kind === 1) return undefined;
  if (kind !== 0) {
    const a = allocationTable(system).ownerOf(k.workload.tagOf(pfn));
    const name = a ? `#${a.id}` : '';
    if (kind === 3) {
      const key = `pinned${name}`;
      return {
        key,
        describe: () => ({
          key,
          owner: `pinned user memory ${name} (a long-term pin, as VFIO or RDMA hold: migration never succeeds)`,
          fix: `free the pinned buffer (workload free ${a?.id ?? 'ID'})`,
        }),
      };
    }
    const key = `unmovable${name}`;
    return {
      key,
      describe: () => ({
        key,
        owner: `unmovable kernel memory ${name}`,
        fix: `free it (workload free ${a?.id ?? 'ID'}), or online such blocks movable so the kernel never puts its allocations there`,
      }),
    };
  }
  const block = k.memoryBlocks.get(Math.floor(pfn / PAGES_PER_SECTION));
  if (
    block?.altmap &&
    pfn >= block.altmap.basePfn &&
    pfn < block.altmap.basePfn + block.altmap.reserve + block.altmap.free
  )
    return ALTMAP_OWNER;
  const slab = k.slub.slabOf(pfn);
  if (slab) {
    const key = `slab:${slab.cache.name}`;
    return {
      key,
      describe: () => ({
        key,
        owner: `a slab of ${slab.cache.name} (order ${slab.order}; ${slab.inuse} of ${slab.cache.objects} objects in use: sysfs nodes, dentries and inodes the kernel made while this block was the place its allocations went)`,
        fix: 'online hot-added blocks movable (online_movable, or memory_hotplug.online_policy=auto-movable) so kernel objects never land there; slab pages are not migratable',
      }),
    };
  }
  if (pageReserved(k, pfn)) return BOOT_OWNER;
  return KERNEL_OWNER;
}

/** The owners without details, made once (a block of boot memory has 32768 such pages). */
const ALTMAP_OWNER = { key: 'altmap', describe: (): Owner => ALTMAP };
const BOOT_OWNER = { key: 'boot', describe: (): Owner => BOOT };
const KERNEL_OWNER = { key: 'kernel', describe: (): Owner => KERNEL };

const ALTMAP: Owner = {
  key: 'altmap',
  owner: "the block's own memmap (memmap_on_memory)",
  fix: 'offline the memory block through its sysfs state file (memory_block_offline handles the memmap pages)',
};
const BOOT: Owner = {
  key: 'boot',
  owner: 'a boot-time reservation (memblock: kernel image, page tables, memmap)',
  fix: 'nothing: boot memory is not removable',
};
const KERNEL: Owner = {
  key: 'kernel',
  owner: 'a kernel allocation (page tables, vmemmap of other blocks, slab, per-CPU pages)',
  fix: 'online hot-added blocks movable (echo online_movable > /sys/devices/system/memory/memoryN/state, or memory_hotplug.online_policy=auto-movable) so such allocations never land there',
};

/** The pages of [start, end) that keep it from going offline, grouped by owner. */
export function blockersIn(system: GuestSystem, start: number, end: number, limit = 4): Blocker[] {
  const k = system.kernel;
  const zone = pageZone(k, start);
  const out = new Map<string, Blocker>();
  const scan = (s: number, e: number): void => {
    for (let pfn = s; pfn < e; pfn++) {
      const who = ownerOf(system, pfn);
      if (!who) continue;
      const b = out.get(who.key);
      if (b) b.count++;
      else if (out.size < limit) {
        const o = who.describe();
        out.set(o.key, {
          owner: o.owner,
          fix: o.fix,
          first: pfn,
          count: 1,
          migratetype: zone?.free.pageblockType(pfn) ?? '?',
          zone: pageZone(k, pfn)?.name ?? '-',
        });
      }
    }
  };
  for (const [s, e] of busyPieces(k, zone, start, end)) scan(s, e);
  return [...out.values()];
}

/** Reasons for a failed offline of [start, end), as lines for the user. */
export function explainOffline(system: GuestSystem, start: number, end: number, reason: string): string[] {
  const k = system.kernel;
  const zone = pageZone(k, start);
  const range = `pfn ${hex(start)}-${hex(end - 1)} (memory${Math.floor(start / PAGES_PER_SECTION)}${
    end - start > PAGES_PER_SECTION ? `-memory${Math.floor((end - 1) / PAGES_PER_SECTION)}` : ''
  }, zone ${zone?.name ?? '-'})`;
  const lines = [`riscv-hotplug: why: offlining ${range} failed: ${reason}.`];
  const blockers = blockersIn(system, start, end);
  for (const b of blockers) {
    lines.push(
      `riscv-hotplug: why:   ${b.count} page(s) from pfn ${hex(b.first)} (${b.zone}, ${b.migratetype} pageblock): ${b.owner}; ${b.fix}.`,
    );
  }
  if (blockers.length === 0 && reason.includes('migrat'))
    lines.push(
      'riscv-hotplug: why:   migration found no free page outside the range: free some memory or online more.',
    );
  if (zone && zone.idx !== ZONE_MOVABLE && blockers.some((b) => !b.owner.startsWith('pinned')))
    lines.push(
      `riscv-hotplug: why:   the range is in ZONE_${zone.name.toUpperCase()}, where the kernel places unmovable allocations; only ZONE_MOVABLE guarantees that offline can succeed.`,
    );
  if (blockers.some((b) => b.owner.startsWith('pinned')))
    lines.push(
      'riscv-hotplug: why:   the real kernel retries migrating a pinned page until a signal arrives, so the write hangs until Ctrl-C (EINTR); the model returns at once.',
    );
  return lines;
}

/** The failure offline_pages() recorded last (its pr_debug line), as a range and a reason. */
export function parseOfflineFailure(
  text: string,
): { start: number; end: number; reason: string } | undefined {
  const m = /\[mem (0x[0-9a-f]+)-(0x[0-9a-f]+)\] failed due to (.*)$/.exec(text);
  if (!m) return undefined;
  return { start: Number(BigInt(m[1]!) >> 12n), end: Number((BigInt(m[2]!) + 1n) >> 12n), reason: m[3]! };
}

/** Why each virtio-mem device's size is below (or above) its requested size. */
export function explainVirtioMem(system: GuestSystem): string[] {
  const lines: string[] = [];
  const bus = system.virtio;
  if (!system.devices || !bus) return lines;
  for (const dev of system.devices.virtioMemDevices()) {
    const info = dev.fillDeviceInfo();
    if (info.type !== 'virtio-mem') continue;
    const d = info.data;
    if (d.size === d.requestedSize) continue;
    const id = d.id ?? '(anonymous)';
    const head = `riscv-hotplug: why: virtio-mem '${id}' has size ${d.size >> 20n} MiB, requested ${d.requestedSize >> 20n} MiB:`;
    const err = bus.probeError(dev);
    if (err) {
      lines.push(`${head} the guest has no driver for it (probe failed with ${err}).`);
      continue;
    }
    const driver = bus.driverFor(dev);
    const st = driver?.explainState();
    if (!st) continue;
    if (d.size < d.requestedSize) {
      if (st.offlineSize + st.blockSize > st.offlineThreshold)
        lines.push(
          `${head} the driver stops adding memory while ${st.offlineSize >> 20n} MiB it added is still offline ` +
            `(its limit is ${st.offlineThreshold >> 20n} MiB): online the offline blocks ` +
            '(echo online_movable > /sys/devices/system/memory/memoryN/state) or boot with memhp_default_state=online_movable.',
        );
      else if (d.requestedSize > st.usableRegionSize)
        lines.push(`${head} only ${st.usableRegionSize >> 20n} MiB of the device is usable.`);
      else lines.push(`${head} the driver could not add more memory (see the kernel messages above).`);
    } else {
      lines.push(
        `${head} the driver could not unplug: memory it would take back is in use (unmovable or pinned pages in the device's blocks, ` +
          'or blocks onlined to ZONE_NORMAL); it retries when memory goes offline. Use online_movable for virtio-mem memory.',
      );
      for (const r of st.onlineRanges) {
        const b = blockersIn(system, r[0], r[1], 2);
        for (const x of b)
          lines.push(
            `riscv-hotplug: why:   ${x.count} page(s) from pfn ${hex(x.first)} (${x.zone}, ${x.migratetype} pageblock): ${x.owner}; ${x.fix}.`,
          );
      }
    }
  }
  return lines;
}
