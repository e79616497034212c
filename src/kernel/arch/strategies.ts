/**
 * The strategies a kernel can be built with (`--strategy NAME`): Linux 6.12's
 * riscv code as recorded, its variants and candidate fixes, and the arm64 and
 * x86 algorithms applied to RISC-V page tables. docs/strategies.md explains each.
 */
import type { ArchOps } from './arch_ops.js';
import { riscv612 } from './riscv/index.js';
import { riscvNoPrealloc, riscvReject, riscvSplit, riscvV12023 } from './riscv/strategies.js';
import { arm64612, arm6471 } from './arm64/mmu.js';
import { x86612 } from './x86/init_64.js';

export const DEFAULT_STRATEGY = 'riscv-6.12';

export const STRATEGIES: ReadonlyMap<string, ArchOps> = new Map(
  [riscv612, riscvV12023, riscvNoPrealloc, arm64612, arm6471, x86612, riscvSplit, riscvReject].map((a) => [
    a.name,
    a,
  ]),
);

export function strategyByName(name: string): ArchOps | undefined {
  return STRATEGIES.get(name);
}
