/**
 * MMU walk throughput: TLB-missing walks (walkInto called directly, no TLB)
 * over an Sv48 table of mixed leaf sizes — 512 GiB, 1 GiB, 2 MiB, 64 KiB
 * NAPOT and 4 KiB — with every check of the walk on. Target: >= 30 M walks/s.
 *
 * The addresses come in runs of consecutive pages from random starting
 * points in each mapping, round-robin over the mappings: the shape of the
 * checker's sweeps over the linear map and vmemmap, which is what the model
 * spends its walks on. Loads, stores and fetches alternate per pass.
 */

import { SV48 } from '../src/hw/paging.js';
import { PhysMem } from '../src/hw/physmem.js';
import { type AccessType, WalkConfig, WalkRecord, walkInto } from '../src/hw/mmu.js';
import { bumpAllocator, mapPage } from '../src/hw/ptbuilder.js';
import { PTE_A, PTE_D, PTE_G, PTE_R, PTE_W, PTE_X } from '../src/hw/pte.js';

const FLAGS = PTE_R | PTE_W | PTE_X | PTE_A | PTE_D | PTE_G;
const SAMPLES = 1 << 20;
const RUN = 64; // consecutive pages per run

/** Builds the tables; returns the walk config and the vpns to translate. */
function setup(): { mem: PhysMem; cfg: WalkConfig; vpns: Float64Array } {
  const mem = new PhysMem();
  mem.addRegion({ name: 'ram', kind: 'ram', basePfn: 0x80000, pages: 1 << 20 });
  const alloc = bumpAllocator(mem, 0x80000);
  const root = alloc();
  const ranges: [vpn: number, pages: number][] = [];
  const G = 1 << 18; // pages per GiB
  // One 512 GiB leaf at VA 512 GiB.
  mapPage(mem, SV48, root, 2 ** 27, 3, 0, FLAGS, alloc);
  ranges.push([2 ** 27, 2 ** 27]);
  // Four 1 GiB leaves from VA 4 GiB.
  for (let i = 0; i < 4; i++) mapPage(mem, SV48, root, (4 + i) * G, 2, 0x100000 + i * G, FLAGS, alloc);
  ranges.push([4 * G, 4 * G]);
  // 1 GiB of 2 MiB leaves at VA 16 GiB.
  for (let i = 0; i < 512; i++)
    mapPage(mem, SV48, root, 16 * G + i * 512, 1, 0x200000 + i * 512, FLAGS, alloc);
  ranges.push([16 * G, G]);
  // 64 MiB of 64 KiB NAPOT pages at VA 32 GiB.
  for (let i = 0; i < 16384; i += 16)
    mapPage(mem, SV48, root, 32 * G + i, 0, 0x300000 + i, FLAGS, alloc, { napot: true });
  ranges.push([32 * G, 16384]);
  // 128 MiB of 4 KiB pages at VA 48 GiB (64 last-level tables).
  for (let i = 0; i < 32768; i++) mapPage(mem, SV48, root, 48 * G + i, 0, 0x400000 + i, FLAGS, alloc);
  ranges.push([48 * G, 32768]);

  let seed = 12345;
  const rand = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  const vpns = new Float64Array(SAMPLES);
  for (let i = 0; i < SAMPLES; i += RUN) {
    const [base, pages] = ranges[(i / RUN) % ranges.length]!;
    const start = base + Math.floor(rand() * (pages - RUN));
    for (let k = 0; k < RUN; k++) vpns[i + k] = start + k;
  }
  const cfg = new WalkConfig({ mode: SV48, rootPpn: root, priv: 'S' });
  return { mem, cfg, vpns };
}

function pass(
  mem: PhysMem,
  cfg: WalkConfig,
  vpns: Float64Array,
  rec: WalkRecord,
  access: AccessType,
): number {
  let sum = 0;
  for (let i = 0; i < vpns.length; i++) {
    if (!walkInto(rec, mem, cfg, vpns[i]!, access)) throw new Error(`walk fault at vpn ${vpns[i]}`);
    sum += rec.ppn;
  }
  return sum;
}

export async function run(): Promise<void> {
  const { mem, cfg, vpns } = setup();
  const rec = new WalkRecord();
  const accesses: AccessType[] = ['load', 'store', 'fetch'];
  // Warm up the optimiser on all three access types.
  for (let i = 0; i < 3; i++) for (const a of accesses) pass(mem, cfg, vpns, rec, a);
  // Timed rounds of one pass per access type; the median round is reported,
  // so a burst of load on the other core does not decide the figure.
  const rates: number[] = [];
  let checksum = 0;
  for (let round = 0; round < 9; round++) {
    const start = process.hrtime.bigint();
    for (const a of accesses) checksum += pass(mem, cfg, vpns, rec, a);
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    rates.push((accesses.length * vpns.length) / seconds);
  }
  if (!Number.isFinite(checksum)) throw new Error('bad checksum');
  rates.sort((x, y) => x - y);
  console.log(`BENCH mmu-walk ${Math.round(rates[rates.length >> 1]!)} walks/s`);
}
