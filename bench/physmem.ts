/**
 * Host memory per written physical frame: write into each of many frames and
 * divide the growth of heap + external (ArrayBuffer) memory by the frame
 * count. Two words per frame give it a whole 4 KiB array (target: <= 4.5 KiB,
 * 4096 bytes of payload + overhead); one word per frame, as a workload page's
 * tag or a new page table's first entry, is a one-word frame. Run node with
 * --expose-gc for a stable figure.
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

/** Bytes per frame after writing `words` words into each of FRAMES frames. */
function bytesPerFrame(words: number): number {
  const mem = new PhysMem();
  mem.addRegion({ name: 'ram', kind: 'ram', basePfn: 0x80000, pages: 1 << 24 });
  gc();
  const before = used();
  // Spread the frames out, as hot-added memory is touched sparsely.
  for (let i = 0; i < FRAMES; i++)
    for (let w = 0; w < words; w++) mem.write64(0x80000 + i * 7, (i + w) & 511, i, ~i >>> 0);
  gc();
  const after = used();
  if (mem.writtenFrames !== FRAMES) throw new Error('frame count mismatch');
  return Math.round((after - before) / FRAMES);
}

export async function run(): Promise<void> {
  console.log(`BENCH physmem-bytes-per-frame ${bytesPerFrame(2)} B`);
  console.log(`BENCH physmem-bytes-per-one-word-frame ${bytesPerFrame(1)} B`);
}
