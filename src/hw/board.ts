/**
 * The QEMU `virt` machine as the rest of the model needs it: boot DRAM at
 * 0x8000_0000 sized by `-m`, `-smp N` harts each with its own satp and TLB,
 * and further RAM regions that hot-pluggable devices add and remove.
 * It knows nothing about Linux.
 */

import type { AccessType } from './mmu.js';
import { Hart, type HartOptions, type Translation } from './hart.js';
import { type MemRegion, PAGE_SHIFT, PhysMem } from './physmem.js';

export const VIRT_DRAM_BASE = 0x8000_0000n;
export const VIRT_DRAM_BASE_PFN = 0x8_0000;
/** QEMU's name for the boot RAM memory region. */
export const VIRT_RAM_REGION = 'riscv_virt_board.ram';
/** Device memory (pc-dimm, virtio-mem) starts on a 1 GiB boundary. */
const GIB_PAGES = 1 << (30 - PAGE_SHIFT);

export interface VirtBoardOptions {
  /** -m: boot RAM in bytes (bigint or number, a multiple of 4 KiB). Give this or ramPages. */
  ramBytes?: bigint | number;
  /** Boot RAM in 4 KiB pages. */
  ramPages?: number;
  /** -smp: number of harts (default 1). */
  smp?: number;
  /** Per-hart TLB geometry and A/D policy. */
  hart?: HartOptions;
}

function ramPagesOf(o: VirtBoardOptions): number {
  if ((o.ramBytes === undefined) === (o.ramPages === undefined)) {
    throw new RangeError('give exactly one of ramBytes and ramPages');
  }
  if (o.ramPages !== undefined) return o.ramPages;
  const bytes = BigInt(o.ramBytes!);
  if (bytes % BigInt(1 << PAGE_SHIFT) !== 0n)
    throw new RangeError(`RAM size ${bytes} is not a multiple of 4 KiB`);
  return Number(bytes >> BigInt(PAGE_SHIFT));
}

export class VirtBoard {
  readonly mem = new PhysMem();
  readonly harts: readonly Hart[];
  readonly ramPages: number;
  readonly dramBasePfn = VIRT_DRAM_BASE_PFN;

  constructor(opts: VirtBoardOptions) {
    const pages = ramPagesOf(opts);
    if (!Number.isSafeInteger(pages) || pages <= 0) throw new RangeError(`bad RAM size: ${pages} pages`);
    const smp = opts.smp ?? 1;
    if (!Number.isInteger(smp) || smp < 1) throw new RangeError(`bad -smp ${smp}`);
    this.ramPages = pages;
    this.mem.addRegion({ name: VIRT_RAM_REGION, kind: 'ram', basePfn: VIRT_DRAM_BASE_PFN, pages });
    this.harts = Array.from({ length: smp }, (_, id) => new Hart(id, this.mem, opts.hart));
  }

  get smp(): number {
    return this.harts.length;
  }

  hart(id: number): Hart {
    const h = this.harts[id];
    if (h === undefined) throw new RangeError(`no hart ${id}`);
    return h;
  }

  /** One past the last boot-RAM frame. */
  get dramEndPfn(): number {
    return VIRT_DRAM_BASE_PFN + this.ramPages;
  }

  /** Where the device-memory window for pc-dimm / virtio-mem begins: the first 1 GiB boundary at or above the end of boot RAM. */
  get deviceMemoryBasePfn(): number {
    return Math.ceil(this.dramEndPfn / GIB_PAGES) * GIB_PAGES;
  }

  /** Plugs RAM (a memory backend behind a device) into the physical address space. */
  addRamRegion(name: string, basePfn: number, pages: number): MemRegion {
    const region: MemRegion = { name, kind: 'ram', basePfn, pages };
    this.mem.addRegion(region);
    return region;
  }

  /** Unplugs a region; its contents are lost. */
  removeRegion(name: string): MemRegion {
    if (name === VIRT_RAM_REGION) throw new RangeError('boot RAM cannot be removed');
    return this.mem.removeRegion(name);
  }

  /** sfence.vma with no operands on every hart (what a remote "flush everything" ends in). */
  flushAllTlbs(): void {
    for (const h of this.harts) h.sfenceVma();
  }

  /** sfence.vma with the given operands on every hart. */
  sfenceVmaAll(vpn?: number, asid?: number): void {
    for (const h of this.harts) h.sfenceVma(vpn, asid);
  }

  /** Translation on one hart, for checks and the monitor. */
  translate(hartId: number, va: bigint | number, access: AccessType): Translation {
    return this.hart(hartId).translate(va, access);
  }
}
