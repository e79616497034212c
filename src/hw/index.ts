/** The machine: physical memory, PTE codec, paging modes, MMU walk, TLB, harts, the virt board. */

export * from './pte.js';
export * from './paging.js';
export * from './physmem.js';
export * from './mmu.js';
export * from './tlb.js';
export * from './hart.js';
export * from './board.js';
