/**
 * drivers/base/memory.c: memory block devices (/sys/devices/system/memory/memoryN),
 * their state machine and the sysfs files users write to online and offline them.
 */
import type { Kernel } from '../../kernel.js';
import { EEXIST, EINVAL, ENOMEM } from '../../errno.js';
import type { KObject } from '../../mm/slub.js';
import { allocObjects, freeObjects, type ObjectSpec } from '../../fs/kernfs.js';
import type { OnlineType } from '../../kernel/cmdline.js';
import { kstrtobool } from '../../lib/kstrtox.js';
import { PAGES_PER_SECTION, SECTION_SIZE_BITS, sectionNrToPfn } from '../../mm/mmzone.js';
import type { Zone } from '../../mm/zone.js';
import type { VmemAltmap } from '../../mm/sparse_vmemmap.js';
import { withDeviceHotplug, withMemHotplug } from '../../locking/hotplug_locks.js';
import {
  adjustPresentPageCount,
  offlinePages,
  onlinePages,
  zoneForPfnRange,
  movePfnRangeToZone,
  removePfnRangeFromZone,
  type MemoryGroup,
} from '../../mm/memory_hotplug.js';

export type BlockState = 'online' | 'offline' | 'going-offline';

export function memoryBlockSizeBytes(): number {
  return 2 ** SECTION_SIZE_BITS;
}

export class MemoryBlock {
  state: BlockState = 'offline';
  /** The type the next device_online() uses ("offline" means the default). */
  onlineType: OnlineType = 'offline';
  zone: Zone | undefined;
  /** dev->offline of the device core. */
  devOffline = true;
  /** The slab objects its device registration allocated (none for boot blocks: they are in the boot footprint). */
  objects: readonly KObject[] = [];

  constructor(
    /** Block id = first section number (one section per block on riscv). */
    readonly id: number,
    readonly nid: number,
    readonly altmap: VmemAltmap | undefined,
    readonly group: MemoryGroup | undefined,
  ) {}

  get startPfn(): number {
    return sectionNrToPfn(this.id);
  }

  get nrPages(): number {
    return PAGES_PER_SECTION;
  }
}

/** memory_dev_init(): one online memory block per present boot section, with its zone. */
export function memoryDevInit(k: Kernel): void {
  for (const s of k.sparse.all()) {
    if (!s.present) continue;
    const mem = new MemoryBlock(s.nr, 0, undefined, undefined);
    mem.state = s.online ? 'online' : 'offline';
    mem.devOffline = !s.online;
    mem.zone = s.online ? k.pgdat.zone(s.zoneIdx) : undefined;
    k.memoryBlocks.set(s.nr, mem);
  }
}

export type MemoryAction =
  'going-online' | 'cancel-online' | 'online' | 'going-offline' | 'cancel-offline' | 'offline';

/** struct memory_notify. */
export interface MemoryNotify {
  startPfn: number;
  nrPages: number;
  zone: Zone;
}

/** A memory notifier (register_memory_notifier): returns 0 or -errno to veto a going-* step. */
export type MemoryNotifier = (action: MemoryAction, arg: MemoryNotify) => number;

/** memory_notify(): calls the chain; the first veto wins. */
export function memoryNotify(k: Kernel, action: MemoryAction, arg: MemoryNotify): number {
  for (const nb of k.memoryNotifiers) {
    const r = nb(action, arg);
    if (r) return r;
  }
  return 0;
}

export function findMemoryBlock(k: Kernel, id: number): MemoryBlock | undefined {
  return k.memoryBlocks.get(id);
}

/** create_memory_block_devices(): one offline block per section of the range. */
export function createMemoryBlockDevices(
  k: Kernel,
  startPfn: number,
  nrPages: number,
  altmap: VmemAltmap | undefined,
  group: MemoryGroup | undefined,
): number {
  const first = Math.floor(startPfn / PAGES_PER_SECTION);
  const last = Math.floor((startPfn + nrPages - 1) / PAGES_PER_SECTION);
  for (let id = first; id <= last; id++) {
    if (k.memoryBlocks.has(id)) {
      for (let j = first; j < id; j++) k.memoryBlocks.delete(j);
      return -EEXIST;
    }
  }
  for (let id = first; id <= last; id++) {
    const mem = new MemoryBlock(id, 0, altmap, group);
    if (k.running) {
      const objs = allocObjects(k, memoryBlockObjects(k));
      if (!objs) {
        // add_memory_block() failed: the blocks this call registered are unregistered again.
        for (let j = first; j < id; j++) unregisterMemory(k, j);
        return -ENOMEM;
      }
      mem.objects = objs;
    }
    k.memoryBlocks.set(id, mem);
  }
  return 0;
}

/**
 * What registering one memory block device allocates (init_memory_block(),
 * device_register(), bus_add_device(), register_memory_block_under_node()):
 * the memory_block (struct device inside: kmalloc-1k), the device_private
 * (kmalloc-256), the kobject name and the copies kernfs and the links keep
 * of it, and one kernfs node each for the directory, its seven attribute
 * files (phys_index, state, phys_device, removable, valid_zones, online,
 * uevent), the subsystem link, the bus's devices/memoryN link and the two
 * links between the block and node0.
 */
export function memoryBlockObjects(k: Kernel): readonly ObjectSpec[] {
  let specs = blockObjectSpecs.get(k);
  if (!specs) {
    const kn = k.slub.cache('kernfs_node_cache');
    const kmalloc = (size: number): ObjectSpec => k.slub.kmallocCache(size)!;
    specs = [
      kmalloc(1024),
      kmalloc(256),
      kmalloc(16),
      ...Array.from({ length: 12 }, () => kn),
      kmalloc(16),
      kmalloc(16),
      kmalloc(8),
      kmalloc(16),
    ];
    blockObjectSpecs.set(k, specs);
  }
  return specs;
}

/** The list once per kernel: a 1 TiB hot-add registers 8192 blocks. */
const blockObjectSpecs = new WeakMap<Kernel, readonly ObjectSpec[]>();

/** unregister_memory(): the device goes, with its kernfs nodes and their dentries. */
function unregisterMemory(k: Kernel, id: number): boolean {
  const mem = k.memoryBlocks.get(id);
  if (!mem) return false;
  k.memoryBlocks.delete(id);
  if (k.kernfs.anyLookedUp()) {
    k.kernfs.forget(k, `/sys/devices/system/memory/memory${id}`);
    k.kernfs.forget(k, `/sys/devices/system/node/node0/memory${id}`);
    k.kernfs.forget(k, `/sys/bus/memory/devices/memory${id}`);
  }
  freeObjects(k, mem.objects);
  mem.objects = [];
  return true;
}

/** remove_memory_block_devices(): WARNs (once per boot) for ids that have no block. */
export function removeMemoryBlockDevices(k: Kernel, startPfn: number, nrPages: number): void {
  const first = Math.floor(startPfn / PAGES_PER_SECTION);
  const last = Math.floor((startPfn + nrPages - 1) / PAGES_PER_SECTION);
  for (let id = first; id <= last; id++) {
    // WARN_ON_ONCE(!mem): one splat per boot however many blocks are missing.
    if (!unregisterMemory(k, id) && k.log.once('remove_memory_block_devices')) {
      k.log.warn('------------[ cut here ]------------');
      k.log.warn('WARNING: CPU: 0 PID: 1 at drivers/base/memory.c:923 remove_memory_block_devices+0x4c/0x6e');
      k.log.warn('---[ end trace 0000000000000000 ]---');
    }
  }
}

/** memory_block_online(): memmap_on_memory pages first, then online_pages() for the rest. */
function memoryBlockOnline(k: Kernel, mem: MemoryBlock): number {
  const startPfn = mem.startPfn;
  const nrPages = mem.nrPages;
  const zone = zoneForPfnRange(k, mem.onlineType, mem.group, startPfn, nrPages);
  const vmemmapPages = mem.altmap ? mem.altmap.free : 0;
  if (vmemmapPages) {
    // mhp_init_memmap_on_memory(): the memmap pages belong to the zone but are never freed to it.
    movePfnRangeToZone(k, zone, startPfn, vmemmapPages);
  }
  const ret = onlinePages(k, startPfn + vmemmapPages, nrPages - vmemmapPages, zone, mem.group);
  if (ret) {
    if (vmemmapPages) removePfnRangeFromZone(k, zone, startPfn, vmemmapPages);
    return ret;
  }
  if (vmemmapPages) adjustPresentPageCount(k, zone, mem.group, vmemmapPages);
  mem.zone = zone;
  return 0;
}

/** memory_block_offline(). */
function memoryBlockOffline(k: Kernel, mem: MemoryBlock): number {
  if (!mem.zone) return -EINVAL;
  const zone = mem.zone;
  const vmemmapPages = mem.altmap ? mem.altmap.free : 0;
  if (vmemmapPages) adjustPresentPageCount(k, zone, mem.group, -vmemmapPages);
  const ret = offlinePages(k, mem.startPfn + vmemmapPages, mem.nrPages - vmemmapPages, zone, mem.group);
  if (ret) {
    if (vmemmapPages) adjustPresentPageCount(k, zone, mem.group, vmemmapPages);
    return ret;
  }
  if (vmemmapPages) removePfnRangeFromZone(k, zone, mem.startPfn, vmemmapPages);
  mem.zone = undefined;
  return 0;
}

/** memory_block_change_state(). */
function memoryBlockChangeState(
  k: Kernel,
  mem: MemoryBlock,
  to: 'online' | 'offline',
  from: 'online' | 'offline',
): number {
  if (mem.state !== from) return -EINVAL;
  if (to === 'offline') mem.state = 'going-offline';
  const ret = withMemHotplug(k, () =>
    to === 'online' ? memoryBlockOnline(k, mem) : memoryBlockOffline(k, mem),
  );
  mem.state = ret ? from : to;
  return ret;
}

/** memory_subsys_online(). */
function memorySubsysOnline(k: Kernel, mem: MemoryBlock): number {
  if (mem.state === 'online') return 0;
  if (mem.onlineType === 'offline') mem.onlineType = 'online';
  const ret = memoryBlockChangeState(k, mem, 'online', 'offline');
  mem.onlineType = 'offline';
  return ret;
}

function memorySubsysOffline(k: Kernel, mem: MemoryBlock): number {
  if (mem.state === 'offline') return 0;
  return memoryBlockChangeState(k, mem, 'offline', 'online');
}

/** device_online(): 1 when the device was already online, else the bus callback's result. */
export function deviceOnline(k: Kernel, mem: MemoryBlock): number {
  if (!mem.devOffline) return 1;
  const ret = memorySubsysOnline(k, mem);
  if (!ret) mem.devOffline = false;
  return ret;
}

/** device_offline(). */
export function deviceOffline(k: Kernel, mem: MemoryBlock): number {
  if (mem.devOffline) return 1;
  const ret = memorySubsysOffline(k, mem);
  if (!ret) mem.devOffline = true;
  return ret;
}

/** mhp_online_type_from_str() (sysfs_streq: one trailing newline is ignored). */
export function onlineTypeFromStr(buf: string): OnlineType | undefined {
  const s = buf.endsWith('\n') ? buf.slice(0, -1) : buf;
  if (s === 'offline' || s === 'online' || s === 'online_kernel' || s === 'online_movable') return s;
  return undefined;
}

/** state_store(): 0 or -errno. */
export function stateStore(k: Kernel, mem: MemoryBlock, buf: string): number {
  // lock_device_hotplug_sysfs() around the state change.
  return withDeviceHotplug(k, () => stateStoreLocked(k, mem, buf));
}

function stateStoreLocked(k: Kernel, mem: MemoryBlock, buf: string): number {
  const type = onlineTypeFromStr(buf);
  if (type === undefined) return -EINVAL;
  let ret: number;
  if (type === 'offline') {
    ret = deviceOffline(k, mem);
  } else {
    mem.onlineType = type;
    ret = deviceOnline(k, mem);
  }
  if (ret < 0) return ret;
  // device_online/offline's 1 ("already in that state") is EINVAL to a writer of state.
  return ret ? -EINVAL : 0;
}

/** The device core's online_store(): kstrtobool, then device_online/offline; "already" is success. */
export function onlineStore(k: Kernel, mem: MemoryBlock, buf: string): number {
  const val = kstrtobool(buf);
  if (val === undefined) return -EINVAL;
  const ret = withDeviceHotplug(k, () => (val ? deviceOnline(k, mem) : deviceOffline(k, mem)));
  return ret < 0 ? ret : 0;
}

/** valid_zones: the zone of an online block, or the default zone then the other allowed ones. */
export function validZonesShow(k: Kernel, mem: MemoryBlock): string {
  if (mem.state === 'online') return (mem.zone ? mem.zone.name : 'none') + '\n';
  const start = mem.startPfn;
  const nr = mem.nrPages;
  const def = zoneForPfnRange(k, 'online', mem.group, start, nr);
  let out = def.name;
  for (const t of ['online_kernel', 'online_movable'] as const) {
    const z = zoneForPfnRange(k, t, mem.group, start, nr);
    if (z !== def) out += ' ' + z.name;
  }
  return out + '\n';
}

export function stateShow(mem: MemoryBlock): string {
  return mem.state + '\n';
}
