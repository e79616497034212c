/**
 * The riscv64 kernel virtual memory layout of Linux 6.12 for one paging mode
 * (arch/riscv/include/asm/page.h, pgtable.h, kasan.h): where the linear map,
 * vmemmap, vmalloc, PCI I/O, fixmap, modules and the kernel image live, and
 * the __va/__pa conversions with the kernel's own 64-bit wrap-around.
 *
 * Addresses here are bigint (full 64-bit values); hot code uses page numbers.
 */
import type { PagingMode } from '../../../hw/paging.js';
import type { KernelProfile } from '../../profile.js';

const MASK64 = (1n << 64n) - 1n;
export const SZ_2M = 0x200000n;
export const SZ_16M = 0x1000000n;
export const SZ_2G = 0x80000000n;
export const PAGE_SHIFT = 12n;
export const PAGE_SIZE_B = 4096n;
export const PMD_SIZE_B = 1n << 21n;
export const PUD_SIZE_B = 1n << 30n;
export const P4D_SIZE_B = 1n << 39n;
/** log2(sizeof(struct page)) upper bound used to size the vmemmap area. */
const STRUCT_PAGE_MAX_SHIFT = 6n;
import { STRUCT_PAGE_SIZE } from '../../mm/mm_types.js';

export { STRUCT_PAGE_SIZE };
const KASAN_SHADOW_SCALE_SHIFT = 3n;

export function u64(v: bigint): bigint {
  return v & MASK64;
}

export function hex64(v: bigint): string {
  return '0x' + u64(v).toString(16).padStart(16, '0');
}

export class KernelLayout {
  readonly vaBits: bigint;
  readonly pgdirShift: bigint;
  readonly pgdirSize: bigint;
  readonly pageOffset: bigint;
  readonly kernVirtSize: bigint;
  readonly vmallocStart: bigint;
  readonly vmallocEnd: bigint;
  readonly vmemmapStart: bigint;
  readonly vmemmapEnd: bigint;
  readonly pciIoStart: bigint;
  readonly pciIoEnd: bigint;
  readonly fixaddrStart: bigint;
  readonly fixaddrTop: bigint;
  readonly modulesVaddr: bigint;
  readonly modulesEnd: bigint;
  readonly kernelVirtAddr: bigint;
  readonly kernelPhysAddr: bigint;
  /** kernel_map.size: _end - _start. */
  readonly kernelSize: bigint;
  readonly taskSize: bigint;
  readonly kernVirtStart: bigint;
  /** KASAN_SHADOW_START, which riscv uses as the end of the direct map (PAGE_END). */
  readonly pageEnd: bigint;
  readonly l4: boolean;
  readonly l5: boolean;
  /** phys_ram_base, set by setup_bootmem. */
  physRamBase = 0x80000000n;
  /** vmemmap_start_pfn: the pfn whose struct page sits at VMEMMAP_START. */
  vmemmapStartPfn = 0x80000;

  /** VMEMMAP_START as a page number (hot: computed once). */
  readonly vmemmapStartVpn: number;

  constructor(
    readonly mode: PagingMode,
    readonly profile: KernelProfile,
  ) {
    this.l5 = mode.levels === 5;
    this.l4 = mode.levels >= 4;
    this.vaBits = BigInt(mode.vaBits);
    this.pgdirShift = BigInt(12 + 9 * (mode.levels - 1));
    this.pgdirSize = 1n << this.pgdirShift;
    this.pageOffset = this.l5 ? 0xff60000000000000n : this.l4 ? 0xffffaf8000000000n : 0xffffffd600000000n;
    this.kernVirtSize = (256n * this.pgdirSize) / 2n;
    this.vmallocEnd = this.pageOffset;
    this.vmallocStart = this.pageOffset - this.kernVirtSize / 2n;
    const vmemmapShift = this.vaBits - PAGE_SHIFT - 1n + STRUCT_PAGE_MAX_SHIFT;
    this.vmemmapEnd = this.vmallocStart;
    this.vmemmapStart = this.vmallocStart - (1n << vmemmapShift);
    this.pciIoEnd = this.vmemmapStart;
    this.pciIoStart = this.pciIoEnd - SZ_16M;
    this.fixaddrTop = this.pciIoStart;
    // One PMD of fixmap slots plus the FDT window (MAX_FDT_SIZE + 2 MiB).
    this.fixaddrStart = this.fixaddrTop - (PMD_SIZE_B + PMD_SIZE_B + SZ_2M);
    const sym = profile.symbols;
    this.kernelVirtAddr = profile.kernelLinkAddr;
    this.kernelPhysAddr = profile.loadPhys;
    this.kernelSize = sym._end - sym._start;
    this.modulesEnd = pfnAlign(sym._start);
    this.modulesVaddr = u64(pfnAlign(sym._end) - SZ_2G);
    this.taskSize = this.pgdirSize * 256n;
    this.kernVirtStart = u64(-(1n << this.vaBits) + this.taskSize);
    const modulesLowest = profile.kernelLinkAddr - SZ_2G;
    const shadowSize = 1n << (this.vaBits - 1n - KASAN_SHADOW_SCALE_SHIFT);
    this.pageEnd = (modulesLowest - shadowSize) & ~(this.pgdirSize - 1n) & MASK64;
    this.vmemmapStartVpn = Number(this.vmemmapStart >> 12n);
  }

  /** va_pa_offset of the linear map. */
  get vaPaOffset(): bigint {
    return this.pageOffset - this.physRamBase;
  }

  private offsetPagesFor = -1n;
  private offsetPages = 0;

  /** __va(pfn << PAGE_SHIFT) >> PAGE_SHIFT in plain numbers, wrapping at 2^52 as the 64-bit address does. */
  linearVpn(pfn: number): number {
    if (this.offsetPagesFor !== this.physRamBase) {
      this.offsetPages = Number(u64(this.vaPaOffset) >> 12n);
      this.offsetPagesFor = this.physRamBase;
    }
    const vpn = pfn + this.offsetPages;
    return vpn < 2 ** 52 ? vpn : vpn - 2 ** 52;
  }

  /** va_kernel_pa_offset of the kernel mapping. */
  get vaKernelPaOffset(): bigint {
    return this.kernelVirtAddr - this.kernelPhysAddr;
  }

  isLinearMapping(va: bigint): boolean {
    return va >= this.pageOffset && va < this.pageOffset + this.kernVirtSize;
  }

  isKernelMapping(va: bigint): boolean {
    return va >= this.kernelVirtAddr && va < this.kernelVirtAddr + this.kernelSize;
  }

  /** __va(pa): the linear-map address, wrapping as 64-bit C arithmetic does. */
  va(pa: bigint): bigint {
    return u64(pa + this.vaPaOffset);
  }

  /** __pa(va): linear map if the address is in it, else treated as a kernel-image address (as the kernel does). */
  pa(va: bigint): bigint {
    return this.isLinearMapping(va) ? u64(va - this.vaPaOffset) : u64(va - this.vaKernelPaOffset);
  }

  /** __pa_symbol / lm_alias of a kernel image symbol. */
  paSymbol(va: bigint): bigint {
    return u64(va - this.vaKernelPaOffset);
  }

  lmAlias(va: bigint): bigint {
    return this.va(this.paSymbol(va));
  }

  /** The address of pfn's struct page in the vmemmap, wrapping like pfn_to_page. */
  pfnToPage(pfn: bigint): bigint {
    return u64(this.vmemmapStart + (pfn - BigInt(this.vmemmapStartPfn)) * BigInt(STRUCT_PAGE_SIZE));
  }

  /** arch_get_mappable_range(): [__pa(PAGE_OFFSET), __pa(PAGE_END - 1)]. */
  mappableRange(): { start: bigint; end: bigint } {
    return { start: this.pa(this.pageOffset), end: this.pa(this.pageEnd - 1n) };
  }
}

function pfnAlign(v: bigint): bigint {
  return (v + PAGE_SIZE_B - 1n) & ~(PAGE_SIZE_B - 1n);
}
