/**
 * Host memory per written physical frame: write one word into each of many
 * frames and divide the growth of heap + external (ArrayBuffer) memory by
 * the frame count. Target: <= 4.5 KiB (4096 bytes of payload + overhead).
 * Run node with --expose-gc for a stable figure.
 */

import { PhysMem } from '../src/hw/physmem.js';

const FRAMES = 100_000;

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g !== undefined) {
    g();
    g();
  }
}

function used(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

export async function run(): Promise<void> {
  const mem = new PhysMem();
  mem.addRegion({ name: 'ram', kind: 'ram', basePfn: 0x80000, pages: 1 << 24 });
  gc();
  const before = used();
  // Spread the frames out, as hot-added memory is touched sparsely.
  for (let i = 0; i < FRAMES; i++) mem.write64(0x80000 + i * 7, i & 511, i, ~i >>> 0);
  gc();
  const after = used();
  if (mem.writtenFrames !== FRAMES) throw new Error('frame count mismatch');
  console.log(`BENCH physmem-bytes-per-frame ${Math.round((after - before) / FRAMES)} B`);
}
