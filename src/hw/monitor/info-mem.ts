/**
 * `info mem` and `gva2gpa` for a RISC-V hart (QEMU target/riscv/monitor.c):
 * the page tables behind satp, walked as the hardware walks them, with
 * virtually and physically contiguous leaves of equal attributes merged.
 */
import type { PhysMem } from '../physmem.js';
import { type PagingMode } from '../paging.js';
import { PTE_A, PTE_D, PTE_G, PTE_R, PTE_U, PTE_V, PTE_W, PTE_X, ptePpn } from '../pte.js';
import { walkVa } from '../mmu.js';

const ATTR_MASK = PTE_R | PTE_W | PTE_X | PTE_U | PTE_G | PTE_A | PTE_D;

function attrText(a: number): string {
  return (
    (a & PTE_R ? 'r' : '-') +
    (a & PTE_W ? 'w' : '-') +
    (a & PTE_X ? 'x' : '-') +
    (a & PTE_U ? 'u' : '-') +
    (a & PTE_G ? 'g' : '-') +
    (a & PTE_A ? 'a' : '-') +
    (a & PTE_D ? 'd' : '-')
  );
}

const hex16 = (v: bigint): string => v.toString(16).padStart(16, '0');

export function infoMem(mem: PhysMem, mode: PagingMode | undefined, rootPpn: number): string {
  if (!mode) return 'No translation or protection\n';
  const lines = [
    '      vaddr            paddr            size         attr',
    '---------------- ---------------- ---------------- -------',
  ];
  const vaBits = BigInt(mode.vaBits);
  let run: { va: bigint; pa: bigint; size: bigint; attr: number } | undefined;
  const flush = (): void => {
    if (run) lines.push(`${hex16(run.va)} ${hex16(run.pa)} ${hex16(run.size)} ${attrText(run.attr)}`);
    run = undefined;
  };
  const canonical = (va: bigint): bigint =>
    (va >> (vaBits - 1n)) & 1n ? va | (((1n << 64n) - 1n) ^ ((1n << vaBits) - 1n)) : va;
  const visit = (ppn: number, level: number, base: bigint): void => {
    const shift = BigInt(12 + 9 * level);
    for (let i = 0; i < 512; i++) {
      const lo = mem.readLo(ppn, i);
      if ((lo & PTE_V) === 0) continue;
      const hi = mem.readHi(ppn, i);
      const va = base + (BigInt(i) << shift);
      if ((lo & (PTE_R | PTE_W | PTE_X)) === 0) {
        if (level > 0) visit(ptePpn(lo, hi), level - 1, va);
        continue;
      }
      const pa = BigInt(ptePpn(lo, hi)) << 12n;
      const size = 1n << shift;
      const attr = lo & ATTR_MASK;
      const cva = canonical(va);
      if (run && run.attr === attr && run.va + run.size === cva && run.pa + run.size === pa) run.size += size;
      else {
        flush();
        run = { va: cva, pa, size, attr };
      }
    }
  };
  visit(rootPpn, mode.levels - 1, 0n);
  flush();
  return lines.join('\n') + '\n';
}

/** gva2gpa through a hart's translation regime (no TLB involved, as QEMU's debug walk). */
export function gva2gpa(
  mem: PhysMem,
  mode: PagingMode | undefined,
  rootPpn: number,
  va: bigint,
): bigint | undefined {
  if (!mode) return va;
  const r = walkVa(mem, { mode, rootPpn, mxr: true, ad: 'svadu' }, va, 'load');
  if (!r.ok) return undefined;
  return (BigInt(r.ppn) << 12n) | (va & 0xfffn);
}
