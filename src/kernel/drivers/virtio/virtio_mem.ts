/**
 * drivers/virtio/virtio_mem.c, the guest's virtio-mem driver of Linux 6.12:
 * it plugs and unplugs device blocks towards the device's requested size,
 * adds what it plugged with add_memory_driver_managed() one memory block (or
 * big block) at a time, lets the auto-online policy online it, and on
 * unplug takes memory back out of the buddy allocator ("fake offline")
 * before offlining and removing it.
 *
 * Sub-block mode (device blocks smaller than a memory block) and big-block
 * mode are chosen as Linux chooses them. The driver's work queue runs to
 * completion on each configuration change and whenever the memory notifier
 * asks for a retry, so a script sees the finished state.
 */
import type { Kernel } from '../../kernel.js';
import { EAGAIN, EBUSY, EINVAL, ENOMEM, ENOSPC, ETXTBSY } from '../../errno.js';
import {
  MHP_MERGE_RESOURCE,
  MHP_NID_IS_MGID,
  addMemoryDriverManaged,
  mhpGetPluggableRange,
  offlineAndRemoveMemory,
  removeMemory,
  type MemoryGroup,
} from '../../mm/memory_hotplug.js';
import { memoryBlockSizeBytes, type MemoryAction, type MemoryNotify } from '../base/memory.js';
import {
  IORESOURCE_EXCLUSIVE,
  IORESOURCE_SYSTEM_RAM,
  __requestRegion,
  type Resource,
} from '../../kernel/resource.js';
import { ZONE_MOVABLE } from '../../mm/zone.js';
import type {
  VirtioMemConfig,
  VirtioMemRequest,
  VirtioMemResponseType,
} from '../../../hw/devices/virtio-mem.js';
import { adjustManagedPageCount, pageZone } from '../../mm/page_alloc.js';
import { allocContigRange } from '../../mm/page_isolation.js';

/** The device as the driver sees it: its config space and its request queue (virtio 1.2 §5.15). */
export interface VirtioMemTransport {
  readConfig(): VirtioMemConfig;
  request(req: VirtioMemRequest): { type: VirtioMemResponseType };
}

/** Sub-block mode memory block states, in the kernel's order (partial = full + 1). */
const enum Mb {
  UNUSED = 0,
  PLUGGED = 1,
  OFFLINE = 2,
  OFFLINE_PARTIAL = 3,
  KERNEL = 4,
  KERNEL_PARTIAL = 5,
  MOVABLE = 6,
  MOVABLE_PARTIAL = 7,
}

const enum Bb {
  UNUSED = 0,
  PLUGGED = 1,
  ADDED = 2,
  FAKE_OFFLINE = 3,
}

const hx = (v: bigint): string => '0x' + v.toString(16);
const DEFAULT_OFFLINE_THRESHOLD = 1n << 30n;
const PAGE = 4096n;

export class VirtioMemDriver {
  readonly name: string;
  private addr = 0n;
  private regionSize = 0n;
  private deviceBlockSize = 0n;
  private nid = 0;
  private pluggedSize = 0n;
  private requestedSize = 0n;
  private usableRegionSize = 0n;
  private offlineThreshold = 0n;
  private offlineSize = 0n;
  private inSbm = true;
  private sbSize = 0n;
  private sbsPerMb = 0;
  private bbSize = 0n;
  private firstId = 0;
  private nextId = 0;
  private lastUsableId = -1;
  /** Sub-block mode: state per memory block id, plugged bitmap per block. */
  private readonly mbState = new Map<number, Mb>();
  private readonly sbPlugged = new Map<number, Uint8Array>();
  /** Big-block mode: state per big block id. */
  private readonly bbState = new Map<number, Bb>();
  private group!: MemoryGroup;
  private parent: Resource | undefined;
  private unplugAllRequired = false;
  private configChanged = true;
  private broken = false;
  /** Work the memory notifier or a failed step asked to redo later (virtio_mem_retry / the retry timer). */
  retryPending = false;
  private running = false;
  private readonly notifier = (action: MemoryAction, arg: MemoryNotify): number =>
    this.memoryNotifierCb(action, arg);

  constructor(
    private readonly k: Kernel,
    private readonly dev: VirtioMemTransport,
    index: number,
  ) {
    this.name = `virtio${index}`;
  }

  private info(text: string): void {
    this.k.log.info(`virtio_mem ${this.name}: ${text}`);
  }

  private dbg(text: string): void {
    // virtio_mem.dyndbg=+p on the command line turns the driver's dev_dbg lines on.
    if (this.k.cmdline.raw.includes('virtio_mem.dyndbg=+p'))
      this.k.log.log(7, `virtio_mem ${this.name}: ${text}`);
  }

  private warn(text: string): void {
    this.k.log.warn(`virtio_mem ${this.name}: ${text}`);
  }

  get pluggedBytes(): bigint {
    return this.pluggedSize;
  }

  /** virtio_mem_probe() -> virtio_mem_init() -> virtio_mem_init_hotplug(); then the first work run. */
  probe(): number {
    const c = this.dev.readConfig();
    this.pluggedSize = c.pluggedSize;
    this.deviceBlockSize = c.blockSize;
    this.nid = c.nodeId;
    this.addr = c.addr;
    this.regionSize = c.regionSize;
    this.usableRegionSize = c.usableRegionSize;
    this.info(`start address: ${hx(this.addr)}`);
    this.info(`region size: ${hx(this.regionSize)}`);
    this.info(`device block size: ${hx(this.deviceBlockSize)}`);
    this.info(`nid: ${this.nid}`);
    const rc = this.initHotplug();
    if (rc) return rc;
    this.configChanged = true;
    this.runWq();
    return 0;
  }

  private initHotplug(): number {
    const mbs = BigInt(memoryBlockSizeBytes());
    const range = mhpGetPluggableRange(this.k);
    if (this.addr % mbs !== 0n)
      this.warn('The alignment of the physical start address can make some memory unusable.');
    if ((this.addr + this.regionSize) % mbs !== 0n)
      this.warn('The alignment of the physical end address can make some memory unusable.');
    if (this.addr < range.start || this.addr + this.regionSize - 1n > range.end) {
      this.warn('Some device memory is not addressable/pluggable. This can make some memory unusable.');
    }
    this.offlineThreshold = 2n * mbs > DEFAULT_OFFLINE_THRESHOLD ? 2n * mbs : DEFAULT_OFFLINE_THRESHOLD;
    const pageblock = 512n * PAGE;
    const sb = this.deviceBlockSize > pageblock ? this.deviceBlockSize : pageblock;
    const start = this.addr > range.start ? this.addr : range.start;
    if (sb < mbs) {
      this.inSbm = true;
      this.sbSize = sb;
      this.sbsPerMb = Number(mbs / sb);
      this.firstId = Number((start + mbs - 1n) / mbs);
    } else {
      this.inSbm = false;
      this.bbSize = this.deviceBlockSize > mbs ? this.deviceBlockSize : mbs;
      this.firstId = Number((start + this.bbSize - 1n) / this.bbSize);
      if (2n * this.bbSize > this.offlineThreshold) this.offlineThreshold = 2n * this.bbSize;
    }
    this.nextId = this.firstId;
    this.info(`memory block size: ${hx(mbs)}`);
    if (this.inSbm) this.info(`subblock size: ${hx(this.sbSize)}`);
    else this.info(`big block size: ${hx(this.bbSize)}`);
    // virtio_mem_create_resource(): the whole region, exclusive but not busy so add_memory() nests in it.
    const parent = __requestRegion(
      this.k.iomem,
      this.addr,
      this.regionSize,
      this.name,
      IORESOURCE_SYSTEM_RAM | IORESOURCE_EXCLUSIVE,
    );
    if (!parent) {
      this.warn('could not reserve device region');
      this.info('reloading the driver is not supported');
      return -EBUSY;
    }
    this.parent = parent;
    // memory_group_register_dynamic(): unit = a memory block (SBM) or a big block (BBM).
    const id = this.k.memoryGroups.size ? Math.max(...this.k.memoryGroups.keys()) + 1 : 0;
    this.group = {
      id,
      nid: this.nid,
      isDynamic: true,
      pages: Number((this.inSbm ? mbs : this.bbSize) / PAGE),
      presentKernelPages: 0,
      presentMovablePages: 0,
    };
    this.k.memoryGroups.set(id, this.group);
    if (this.pluggedSize) {
      this.unplugAllRequired = true;
      this.info('unplugging all memory is required');
    }
    this.k.memoryNotifiers.push(this.notifier);
    this.installOnlinePageCallback();
    return 0;
  }

  /** The device changed its config (requested size): virtio_mem_config_changed(). */
  configChangedCb(): void {
    this.configChanged = true;
    this.runWq();
  }

  /** Runs deferred work (a retry the notifier or the retry timer asked for). */
  tick(): void {
    if (this.retryPending && !this.running) {
      this.retryPending = false;
      this.runWq();
    }
  }

  /** virtio_mem_run_wq(). */
  runWq(): void {
    if (this.broken) return;
    if (this.running) {
      this.retryPending = true;
      return;
    }
    this.running = true;
    try {
      for (let guard = 0; guard < 64; guard++) {
        let rc = 0;
        if (this.unplugAllRequired) rc = this.sendUnplugAll();
        if (this.configChanged) {
          this.configChanged = false;
          this.refreshConfig();
        }
        if (!rc && this.requestedSize !== this.pluggedSize) {
          rc =
            this.requestedSize > this.pluggedSize
              ? this.plugRequest(this.requestedSize - this.pluggedSize)
              : this.unplugRequest(this.pluggedSize - this.requestedSize);
        }
        if (rc === -EAGAIN) continue;
        if (rc === -EBUSY || rc === -ETXTBSY || rc === -ENOMEM) this.retryPending = true;
        else if (rc && rc !== -ENOSPC) {
          this.k.log.err(`virtio_mem ${this.name}: unknown error, marking device broken: ${rc}`);
          this.broken = true;
        }
        break;
      }
    } finally {
      this.running = false;
    }
  }

  /** virtio_mem_refresh_config(). */
  private refreshConfig(): void {
    const c = this.dev.readConfig();
    this.pluggedSize = c.pluggedSize;
    this.usableRegionSize = c.usableRegionSize;
    const range = mhpGetPluggableRange(this.k);
    let end = this.addr + this.usableRegionSize - 1n;
    if (end > range.end) end = range.end;
    const unit = this.inSbm ? BigInt(memoryBlockSizeBytes()) : this.bbSize;
    this.lastUsableId = Number(end / unit);
    if ((end + 1n) % unit !== 0n) this.lastUsableId--;
    this.requestedSize = c.requestedSize;
    this.info(`plugged size: ${hx(this.pluggedSize)}`);
    this.info(`requested size: ${hx(this.requestedSize)}`);
  }

  // ---- requests ----------------------------------------------------------------------------

  private sendPlug(addr: bigint, size: bigint): number {
    this.dbg(`plugging memory: ${hx(addr)} - ${hx(addr + size - 1n)}`);
    const r = this.dev.request({ type: 'plug', addr, nbBlocks: Number(size / this.deviceBlockSize) });
    if (r.type === 'ack') {
      this.pluggedSize += size;
      return 0;
    }
    const rc = r.type === 'nack' ? -EAGAIN : r.type === 'busy' ? -ETXTBSY : -EINVAL;
    this.dbg(`plugging memory failed: ${rc}`);
    return rc;
  }

  private sendUnplug(addr: bigint, size: bigint): number {
    this.dbg(`unplugging memory: ${hx(addr)} - ${hx(addr + size - 1n)}`);
    const r = this.dev.request({ type: 'unplug', addr, nbBlocks: Number(size / this.deviceBlockSize) });
    if (r.type === 'ack') {
      this.pluggedSize -= size;
      return 0;
    }
    const rc = r.type === 'busy' ? -ETXTBSY : -EINVAL;
    this.dbg(`unplugging memory failed: ${rc}`);
    return rc;
  }

  private sendUnplugAll(): number {
    this.dbg('unplugging all memory');
    const r = this.dev.request({ type: 'unplug_all' });
    if (r.type === 'ack') {
      this.unplugAllRequired = false;
      this.pluggedSize = 0n;
      this.configChanged = true;
      return 0;
    }
    const rc = r.type === 'busy' ? -ETXTBSY : -EINVAL;
    this.dbg(`unplugging all memory failed: ${rc}`);
    return rc;
  }

  // ---- adding and removing memory ------------------------------------------------------------

  private couldAddMemory(size: bigint): boolean {
    if (size > this.offlineThreshold) return false;
    return this.offlineSize + size <= this.offlineThreshold;
  }

  private addMemory(addr: bigint, size: bigint): number {
    this.dbg(`adding memory: ${hx(addr)} - ${hx(addr + size - 1n)}`);
    this.offlineSize += size;
    const rc = addMemoryDriverManaged(
      this.k,
      this.group.id,
      addr,
      size,
      'System RAM (virtio_mem)',
      MHP_MERGE_RESOURCE | MHP_NID_IS_MGID,
    );
    if (rc) {
      this.offlineSize -= size;
      this.warn(`adding memory failed: ${rc}`);
    }
    return rc;
  }

  private removeMemory(addr: bigint, size: bigint): number {
    this.dbg(`removing memory: ${hx(addr)} - ${hx(addr + size - 1n)}`);
    const rc = removeMemory(this.k, addr, size);
    if (rc) this.dbg(`removing memory failed: ${rc}`);
    else this.offlineSize -= size;
    return rc;
  }

  private offlineAndRemove(addr: bigint, size: bigint): number {
    this.dbg(`offlining and removing memory: ${hx(addr)} - ${hx(addr + size - 1n)}`);
    const rc = offlineAndRemoveMemory(this.k, addr, size);
    if (rc) this.dbg(`offlining and removing memory failed: ${rc}`);
    else this.offlineSize -= size;
    return rc;
  }

  // ---- fake offline / online (pages the buddy does not get) -------------------------------------

  /** virtio_mem_fake_offline(): alloc_contig_range() of the range, then it counts as unmanaged. */
  private fakeOffline(pfn: number, nr: number): number {
    const k = this.k;
    const zone = pageZone(k, pfn);
    if (!zone) return -EBUSY;
    const end = pfn + nr;
    const rc = allocContigRange(k, pfn, end);
    if (rc) return rc;
    const already = k.fakeOffline.freeIn(pfn, end);
    k.fakeOffline.removeAllIn(pfn, end);
    k.fakeOffline.add(pfn, end);
    adjustManagedPageCount(k, zone, -(nr - already));
    return 0;
  }

  /** virtio_mem_fake_online(): the pages go (back) to the buddy allocator. */
  private fakeOnline(pfn: number, nr: number): void {
    const k = this.k;
    const zone = pageZone(k, pfn);
    if (!zone) return;
    const n = k.fakeOffline.removeAllIn(pfn, pfn + nr);
    for (const [s, e] of [[pfn, pfn + nr] as [number, number]]) zone.free.add(s, e);
    adjustManagedPageCount(k, zone, n);
  }

  /** set_online_page_callback(virtio_mem_online_page_cb): only plugged sub-blocks reach the buddy. */
  private installOnlinePageCallback(): void {
    const k = this.k;
    const prev = k.onlinePageCallback;
    const startPfn = Number(this.addr / PAGE);
    const endPfn = Number((this.addr + this.regionSize) / PAGE);
    k.onlinePageCallback = (pfn, nr) => {
      if (pfn >= endPfn || pfn + nr <= startPfn) return prev ? prev(pfn, nr) : [[pfn, pfn + nr]];
      if (!this.inSbm) return [[pfn, pfn + nr]];
      const out: Array<[number, number]> = [];
      const sbPages = Number(this.sbSize / PAGE);
      for (let p = pfn; p < pfn + nr; p += sbPages) {
        const mbId = Math.floor((p * 4096) / memoryBlockSizeBytes());
        const sb = Math.floor((p - mbId * (memoryBlockSizeBytes() / 4096)) / sbPages);
        if (this.sbPlugged.get(mbId)?.[sb]) {
          const last = out[out.length - 1];
          if (last && last[1] === p) last[1] = p + sbPages;
          else out.push([p, p + sbPages]);
        } else {
          k.fakeOffline.add(p, p + sbPages);
        }
      }
      return out;
    };
  }

  // ---- the memory notifier ------------------------------------------------------------------------

  private memoryNotifierCb(action: MemoryAction, arg: MemoryNotify): number {
    const start = BigInt(arg.startPfn) * PAGE;
    const size = BigInt(arg.nrPages) * PAGE;
    if (start + size <= this.addr || start >= this.addr + this.regionSize) return 0;
    const mbs = BigInt(memoryBlockSizeBytes());
    const mbId = Number(start / mbs);
    const movable = arg.zone.idx === ZONE_MOVABLE;
    switch (action) {
      case 'going-online':
        if (!this.inSbm) return 0;
        if (this.mbState.get(mbId) === Mb.OFFLINE || this.mbState.get(mbId) === Mb.OFFLINE_PARTIAL) return 0;
        this.warn('memory block onlining denied');
        return -1;
      case 'online':
        if (this.inSbm) {
          const st = this.mbState.get(mbId);
          if (st === Mb.OFFLINE_PARTIAL)
            this.mbState.set(mbId, movable ? Mb.MOVABLE_PARTIAL : Mb.KERNEL_PARTIAL);
          else if (st === Mb.OFFLINE) this.mbState.set(mbId, movable ? Mb.MOVABLE : Mb.KERNEL);
        }
        this.offlineSize -= size;
        this.retryPending = true;
        return 0;
      case 'offline':
        if (this.inSbm) {
          const st = this.mbState.get(mbId);
          if (st === Mb.KERNEL_PARTIAL || st === Mb.MOVABLE_PARTIAL)
            this.mbState.set(mbId, Mb.OFFLINE_PARTIAL);
          else if (st === Mb.KERNEL || st === Mb.MOVABLE) this.mbState.set(mbId, Mb.OFFLINE);
        }
        this.offlineSize += size;
        this.k.fakeOffline.removeAllIn(arg.startPfn, arg.startPfn + arg.nrPages);
        this.retryPending = true;
        return 0;
      default:
        return 0;
    }
  }

  // ---- plugging ------------------------------------------------------------------------------------

  private plugRequest(diff: bigint): number {
    return this.inSbm ? this.sbmPlugRequest(diff) : this.bbmPlugRequest(diff);
  }

  private unplugRequest(diff: bigint): number {
    return this.inSbm ? this.sbmUnplugRequest(diff) : this.bbmUnplugRequest(diff);
  }

  private mbPhys(mbId: number): bigint {
    return BigInt(mbId) * BigInt(memoryBlockSizeBytes());
  }

  private sbBits(mbId: number): Uint8Array {
    let b = this.sbPlugged.get(mbId);
    if (!b) {
      b = new Uint8Array(this.sbsPerMb);
      this.sbPlugged.set(mbId, b);
    }
    return b;
  }

  private allPlugged(mbId: number): boolean {
    return this.sbBits(mbId).every((x) => x === 1);
  }

  private allUnplugged(mbId: number): boolean {
    return this.sbBits(mbId).every((x) => x === 0);
  }

  private plugSb(mbId: number, sbId: number, count: number): number {
    const addr = this.mbPhys(mbId) + BigInt(sbId) * this.sbSize;
    const rc = this.sendPlug(addr, BigInt(count) * this.sbSize);
    if (!rc) this.sbBits(mbId).fill(1, sbId, sbId + count);
    return rc;
  }

  private unplugSb(mbId: number, sbId: number, count: number): number {
    const addr = this.mbPhys(mbId) + BigInt(sbId) * this.sbSize;
    const rc = this.sendUnplug(addr, BigInt(count) * this.sbSize);
    if (!rc) this.sbBits(mbId).fill(0, sbId, sbId + count);
    return rc;
  }

  private mbsIn(state: Mb, reverse = false): number[] {
    const ids: number[] = [];
    for (let id = this.firstId; id < this.nextId; id++)
      if ((this.mbState.get(id) ?? Mb.UNUSED) === state) ids.push(id);
    return reverse ? ids.reverse() : ids;
  }

  /** virtio_mem_sbm_plug_and_add_mb(). */
  private sbmPlugAndAddMb(mbId: number, nbSb: { v: number }): number {
    const count = Math.min(nbSb.v, this.sbsPerMb);
    let rc = this.plugSb(mbId, 0, count);
    if (rc) return rc;
    this.mbState.set(mbId, count === this.sbsPerMb ? Mb.OFFLINE : Mb.OFFLINE_PARTIAL);
    rc = this.addMemory(this.mbPhys(mbId), BigInt(memoryBlockSizeBytes()));
    if (rc) {
      let st = Mb.UNUSED;
      if (this.unplugSb(mbId, 0, count)) st = Mb.PLUGGED;
      this.mbState.set(mbId, st);
      return rc;
    }
    nbSb.v -= count;
    return 0;
  }

  /** virtio_mem_sbm_plug_any_sb(). */
  private sbmPlugAnySb(mbId: number, nbSb: { v: number }): number {
    const old = this.mbState.get(mbId)!;
    const bits = this.sbBits(mbId);
    while (nbSb.v) {
      const sbId = bits.indexOf(0);
      if (sbId < 0) break;
      let count = 1;
      while (count < nbSb.v && sbId + count < this.sbsPerMb && !bits[sbId + count]) count++;
      const rc = this.plugSb(mbId, sbId, count);
      if (rc) return rc;
      nbSb.v -= count;
      if (old === Mb.OFFLINE_PARTIAL) continue;
      const pfn = Number((this.mbPhys(mbId) + BigInt(sbId) * this.sbSize) / PAGE);
      this.fakeOnline(pfn, Number((BigInt(count) * this.sbSize) / PAGE));
    }
    if (this.allPlugged(mbId)) this.mbState.set(mbId, old - 1);
    return 0;
  }

  /** virtio_mem_sbm_plug_request(). */
  private sbmPlugRequest(diff: bigint): number {
    const nbSb = { v: Number(diff / this.sbSize) };
    if (!nbSb.v) return 0;
    for (const st of [Mb.KERNEL_PARTIAL, Mb.MOVABLE_PARTIAL, Mb.OFFLINE_PARTIAL]) {
      for (const id of this.mbsIn(st)) {
        const rc = this.sbmPlugAnySb(id, nbSb);
        if (rc || !nbSb.v) return rc;
      }
    }
    const mbs = BigInt(memoryBlockSizeBytes());
    for (const id of this.mbsIn(Mb.UNUSED)) {
      if (!this.couldAddMemory(mbs)) return -ENOSPC;
      const rc = this.sbmPlugAndAddMb(id, nbSb);
      if (rc || !nbSb.v) return rc;
    }
    while (nbSb.v) {
      if (!this.couldAddMemory(mbs)) return -ENOSPC;
      if (this.nextId > this.lastUsableId) return -ENOSPC;
      const id = this.nextId++;
      this.mbState.set(id, Mb.UNUSED);
      const rc = this.sbmPlugAndAddMb(id, nbSb);
      if (rc) return rc;
    }
    return 0;
  }

  // ---- unplugging ------------------------------------------------------------------------------------

  /** virtio_mem_sbm_unplug_any_sb_raw(): from the end of the block. */
  private sbmUnplugAnySbRaw(mbId: number, nbSb: { v: number }): number {
    const bits = this.sbBits(mbId);
    let sbId = this.sbsPerMb - 1;
    while (nbSb.v) {
      while (sbId >= 0 && !bits[sbId]) sbId--;
      if (sbId < 0) break;
      let count = 1;
      while (count < nbSb.v && sbId > 0 && bits[sbId - 1]) {
        count++;
        sbId--;
      }
      const rc = this.unplugSb(mbId, sbId, count);
      if (rc) return rc;
      nbSb.v -= count;
      sbId--;
    }
    return 0;
  }

  private sbmUnplugAnySbOffline(mbId: number, nbSb: { v: number }): number {
    const rc = this.sbmUnplugAnySbRaw(mbId, nbSb);
    if (!this.allPlugged(mbId)) this.mbState.set(mbId, Mb.OFFLINE_PARTIAL);
    if (rc) return rc;
    if (this.allUnplugged(mbId)) {
      this.mbState.set(mbId, Mb.UNUSED);
      this.removeMemory(this.mbPhys(mbId), BigInt(memoryBlockSizeBytes()));
    }
    return 0;
  }

  /** virtio_mem_sbm_unplug_sb_online(): fake-offline the pages, then unplug them. */
  private sbmUnplugSbOnline(mbId: number, sbId: number, count: number): number {
    const old = this.mbState.get(mbId);
    const pfn = Number((this.mbPhys(mbId) + BigInt(sbId) * this.sbSize) / PAGE);
    const nr = Number((BigInt(count) * this.sbSize) / PAGE);
    let rc = this.fakeOffline(pfn, nr);
    if (rc) return rc;
    rc = this.unplugSb(mbId, sbId, count);
    if (rc) {
      this.fakeOnline(pfn, nr);
      return rc;
    }
    if (old === Mb.KERNEL) this.mbState.set(mbId, Mb.KERNEL_PARTIAL);
    else if (old === Mb.MOVABLE) this.mbState.set(mbId, Mb.MOVABLE_PARTIAL);
    return 0;
  }

  private sbmUnplugAnySbOnline(mbId: number, nbSb: { v: number }): number {
    let done = false;
    if (nbSb.v >= this.sbsPerMb && this.allPlugged(mbId)) {
      const rc = this.sbmUnplugSbOnline(mbId, 0, this.sbsPerMb);
      if (!rc) {
        nbSb.v -= this.sbsPerMb;
        done = true;
      } else if (rc !== -EBUSY) return rc;
    }
    if (!done) {
      const bits = this.sbBits(mbId);
      for (let sbId = this.sbsPerMb - 1; sbId >= 0 && nbSb.v; sbId--) {
        while (sbId >= 0 && !bits[sbId]) sbId--;
        if (sbId < 0) break;
        const rc = this.sbmUnplugSbOnline(mbId, sbId, 1);
        if (rc === -EBUSY) continue;
        if (rc) return rc;
        nbSb.v -= 1;
      }
    }
    // virtio_mem_sbm_try_remove_unplugged_mb(): a block with nothing plugged goes away.
    if (this.allUnplugged(mbId)) {
      const rc = this.offlineAndRemove(this.mbPhys(mbId), BigInt(memoryBlockSizeBytes()));
      if (!rc) this.mbState.set(mbId, Mb.UNUSED);
    }
    return 0;
  }

  /** virtio_mem_sbm_unplug_request(): partial blocks first, offline before online, movable before kernel. */
  private sbmUnplugRequest(diff: bigint): number {
    const nbSb = { v: Number(diff / this.sbSize) };
    if (!nbSb.v) return 0;
    const order = [
      Mb.OFFLINE_PARTIAL,
      Mb.OFFLINE,
      Mb.MOVABLE_PARTIAL,
      Mb.KERNEL_PARTIAL,
      Mb.MOVABLE,
      Mb.KERNEL,
    ];
    for (const st of order) {
      for (const id of this.mbsIn(st, true)) {
        if ((this.mbState.get(id) ?? Mb.UNUSED) !== st) continue;
        const rc =
          st === Mb.OFFLINE_PARTIAL || st === Mb.OFFLINE
            ? this.sbmUnplugAnySbOffline(id, nbSb)
            : this.sbmUnplugAnySbOnline(id, nbSb);
        if (rc || !nbSb.v) return rc;
      }
    }
    return nbSb.v ? -EBUSY : 0;
  }

  // ---- big-block mode ------------------------------------------------------------------------------

  private bbPhys(bbId: number): bigint {
    return BigInt(bbId) * this.bbSize;
  }

  private bbmPlugRequest(diff: bigint): number {
    let nbBb = Number(diff / this.bbSize);
    if (!nbBb) return 0;
    const plugAndAdd = (id: number): number => {
      let rc = this.sendPlug(this.bbPhys(id), this.bbSize);
      if (rc) return rc;
      this.bbState.set(id, Bb.ADDED);
      rc = this.addMemory(this.bbPhys(id), this.bbSize);
      if (rc) {
        this.bbState.set(id, this.sendUnplug(this.bbPhys(id), this.bbSize) ? Bb.PLUGGED : Bb.UNUSED);
        return rc;
      }
      return 0;
    };
    for (let id = this.firstId; id < this.nextId && nbBb; id++) {
      if ((this.bbState.get(id) ?? Bb.UNUSED) !== Bb.UNUSED) continue;
      if (!this.couldAddMemory(this.bbSize)) return -ENOSPC;
      const rc = plugAndAdd(id);
      if (!rc) nbBb--;
      if (rc) return rc;
    }
    while (nbBb) {
      if (!this.couldAddMemory(this.bbSize)) return -ENOSPC;
      if (this.nextId > this.lastUsableId) return -ENOSPC;
      const id = this.nextId++;
      const rc = plugAndAdd(id);
      if (rc) return rc;
      nbBb--;
    }
    return 0;
  }

  private bbIsOffline(id: number): boolean {
    const first = Number(this.bbPhys(id) / BigInt(memoryBlockSizeBytes()));
    const n = Number(this.bbSize / BigInt(memoryBlockSizeBytes()));
    for (let b = first; b < first + n; b++) if (this.k.memoryBlocks.get(b)?.state === 'online') return false;
    return true;
  }

  private bbIsMovable(id: number): boolean {
    const first = Number(this.bbPhys(id) / BigInt(memoryBlockSizeBytes()));
    const n = Number(this.bbSize / BigInt(memoryBlockSizeBytes()));
    for (let b = first; b < first + n; b++) {
      const m = this.k.memoryBlocks.get(b);
      if (m && m.state === 'online' && m.zone?.idx !== ZONE_MOVABLE) return false;
    }
    return true;
  }

  private bbmUnplugRequest(diff: bigint): number {
    let nbBb = Number(diff / this.bbSize);
    if (!nbBb) return 0;
    for (let pass = 0; pass < 3; pass++) {
      for (let id = this.nextId - 1; id >= this.firstId && nbBb; id--) {
        if (this.bbState.get(id) !== Bb.ADDED) continue;
        if (pass === 0 && !this.bbIsOffline(id)) continue;
        if (pass === 1 && !this.bbIsMovable(id)) continue;
        let rc = this.offlineAndRemove(this.bbPhys(id), this.bbSize);
        if (!rc) rc = this.sendUnplug(this.bbPhys(id), this.bbSize);
        if (rc === -EBUSY) continue;
        if (rc) return rc;
        this.bbState.set(id, Bb.UNUSED);
        nbBb--;
      }
      if (!nbBb) return 0;
    }
    return nbBb ? -EBUSY : 0;
  }

  /** What explains a size below or above the requested size (for the model's plain-words reasons). */
  explainState(): {
    offlineSize: bigint;
    offlineThreshold: bigint;
    blockSize: bigint;
    usableRegionSize: bigint;
    onlineRanges: Array<[number, number]>;
  } {
    const unit = this.inSbm ? BigInt(memoryBlockSizeBytes()) : this.bbSize;
    const pages = Number(unit / PAGE);
    const online: Array<[number, number]> = [];
    if (this.inSbm) {
      for (const [id, st] of this.mbState) if (st >= Mb.KERNEL) online.push([id * pages, (id + 1) * pages]);
    } else {
      for (const [id, st] of this.bbState) if (st === Bb.ADDED) online.push([id * pages, (id + 1) * pages]);
    }
    return {
      offlineSize: this.offlineSize,
      offlineThreshold: this.offlineThreshold,
      blockSize: unit,
      usableRegionSize: this.usableRegionSize,
      onlineRanges: online,
    };
  }

  /** Can the device go away now (nothing of it added to Linux)? */
  canRemove(): boolean {
    if (this.inSbm) return [...this.mbState.values()].every((s) => s === Mb.UNUSED);
    return [...this.bbState.values()].every((s) => s === Bb.UNUSED);
  }

  /** virtio_mem_remove(): unregister; the device region's resource goes. */
  remove(): void {
    const i = this.k.memoryNotifiers.indexOf(this.notifier);
    if (i >= 0) this.k.memoryNotifiers.splice(i, 1);
    this.k.memoryGroups.delete(this.group.id);
    this.parent?.release();
  }
}
