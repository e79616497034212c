import { describe, expect, it } from 'vitest';
import { AccessFault, PhysMem, WORDS_PER_FRAME } from './physmem.js';
import { RESTORE_STATE, SAVE_STATE } from './snapshot.js';

function ram(pages = 1024, basePfn = 0x80000): PhysMem {
  const mem = new PhysMem();
  mem.addRegion({ name: 'ram', kind: 'ram', basePfn, pages });
  return mem;
}

describe('PhysMem', () => {
  it('never-written RAM reads as zero and costs nothing', () => {
    const mem = ram();
    expect(mem.readLo(0x80010, 5)).toBe(0);
    expect(mem.read(0x80011).every((w) => w === 0)).toBe(true);
    expect(mem.isZero(0x80012)).toBe(true);
    expect(mem.writtenFrames).toBe(0);
  });

  it('writes land in the right word and read back', () => {
    const mem = ram();
    mem.write64(0x80001, 511, 0xdeadbeef, 0x80000001);
    expect(mem.readLo(0x80001, 511)).toBe(0xdeadbeef);
    expect(mem.readHi(0x80001, 511)).toBe(0x80000001);
    expect(mem.read(0x80001)[1022]).toBe(0xdeadbeef);
    expect(mem.read(0x80001)).toHaveLength(WORDS_PER_FRAME);
    expect(mem.writtenFrames).toBe(1);
    expect(mem.isZero(0x80001)).toBe(false);
  });

  it('a hole is an access fault for reads and writes', () => {
    const mem = ram();
    expect(() => mem.read(0x1000)).toThrow(AccessFault);
    expect(() => mem.write64(0x80000 + 1024, 0, 1, 1)).toThrow(AccessFault);
    expect(() => mem.zero(0x10)).toThrow(AccessFault);
    expect(mem.readOrUndefined(0x1000)).toBeUndefined();
    expect(mem.readOrUndefined(0x80000)).toBeDefined();
    // The fault names the frame that is not there.
    let fault: unknown;
    try {
      mem.read(0x1234);
    } catch (e) {
      fault = e;
    }
    expect(fault).toBeInstanceOf(AccessFault);
    expect((fault as AccessFault).pfn).toBe(0x1234);
  });

  it('a 1 TiB region is O(1): one record, no frames', () => {
    const mem = ram();
    const pages = 2 ** 28; // 1 TiB
    const t0 = performance.now();
    mem.addRegion({ name: 'dimm', kind: 'ram', basePfn: 0x1000000, pages });
    mem.write64(0x1000000 + pages - 1, 0, 7, 0);
    expect(mem.readLo(0x1000000 + pages - 1, 0)).toBe(7);
    expect(mem.readLo(0x1000000 + pages / 2, 3)).toBe(0);
    mem.removeRegion('dimm');
    expect(performance.now() - t0).toBeLessThan(50);
    expect(mem.writtenFrames).toBe(0);
  });

  it('removeRegion drops frames and later accesses fault', () => {
    const mem = ram();
    mem.addRegion({ name: 'dimm', kind: 'ram', basePfn: 0x100000, pages: 16 });
    mem.write64(0x100003, 1, 42, 0);
    mem.write64(0x80000, 0, 1, 0);
    expect(mem.read(0x100003)[2]).toBe(42); // now cached
    const r = mem.removeRegion('dimm');
    expect(r).toMatchObject({ name: 'dimm', basePfn: 0x100000, pages: 16 });
    expect(mem.writtenFrames).toBe(1);
    expect(() => mem.read(0x100003)).toThrow(AccessFault);
    expect(mem.readOrUndefined(0x100003)).toBeUndefined();
    // Re-plugging gives zeroed memory: contents do not survive unplug.
    mem.addRegion({ name: 'dimm', kind: 'ram', basePfn: 0x100000, pages: 16 });
    expect(mem.readLo(0x100003, 1)).toBe(0);
    expect(() => mem.removeRegion('nope')).toThrow(RangeError);
  });

  it('rejects overlapping and empty regions', () => {
    const mem = ram(1024);
    expect(() => mem.addRegion({ name: 'x', kind: 'ram', basePfn: 0x80000 + 1023, pages: 2 })).toThrow(
      /overlaps/,
    );
    expect(() => mem.addRegion({ name: 'y', kind: 'ram', basePfn: 0x90000, pages: 0 })).toThrow(/empty/);
    mem.addRegion({ name: 'z', kind: 'device', basePfn: 0x80000 + 1024, pages: 1 });
    expect(mem.regions.map((r) => r.name)).toEqual(['ram', 'z']);
    expect(mem.regionAt(0x80000 + 1024)?.name).toBe('z');
    expect(mem.isBacked(0x7ffff)).toBe(false);
  });

  it('zero() clears a frame even if it was cached', () => {
    const mem = ram();
    mem.write64(0x80002, 3, 9, 9);
    expect(mem.read(0x80002)[6]).toBe(9);
    mem.zero(0x80002);
    expect(mem.readLo(0x80002, 3)).toBe(0);
    expect(mem.isZero(0x80002)).toBe(true);
    expect(mem.writtenFrames).toBe(0);
    mem.write64(0x80002, 0, 1, 0);
    expect(mem.readLo(0x80002, 3)).toBe(0); // a fresh frame, not the old one
  });

  it('the lookup cache never serves a frame to the wrong pfn', () => {
    const mem = ram(4096);
    // 0x80000 and 0x80400 share a cache slot.
    mem.write64(0x80000, 0, 1, 0);
    mem.write64(0x80400, 0, 2, 0);
    for (let i = 0; i < 3; i++) {
      expect(mem.readLo(0x80000, 0)).toBe(1);
      expect(mem.readLo(0x80400, 0)).toBe(2);
    }
  });

  it('copy() duplicates contents, including zero', () => {
    const mem = ram();
    mem.write64(0x80005, 7, 0x1234, 0x5678);
    mem.copy(0x80006, 0x80005);
    expect(mem.readHi(0x80006, 7)).toBe(0x5678);
    mem.copy(0x80006, 0x80009); // from a never-written frame
    expect(mem.isZero(0x80006)).toBe(true);
    expect(() => mem.copy(0x80006, 0x10)).toThrow(AccessFault);
  });

  it('a frame with one non-zero word reads like any other, and widens when a second word is written', () => {
    const mem = ram();
    mem.write64(0x80020, 0, 0x1234, 0x5a5a5a5a);
    expect(mem.writtenFrames).toBe(1);
    expect([...mem.writtenPfns()]).toEqual([0x80020]);
    expect(mem.readLo(0x80020, 0)).toBe(0x1234);
    expect(mem.readHi(0x80020, 0)).toBe(0x5a5a5a5a);
    expect(mem.readLo(0x80020, 1)).toBe(0);
    expect(mem.isZero(0x80020)).toBe(false);
    mem.write64(0x80020, 3, 7, 0);
    expect(mem.readLo(0x80020, 0)).toBe(0x1234);
    expect(mem.readLo(0x80020, 3)).toBe(7);
    expect(mem.read(0x80020)[0]).toBe(0x1234);
    expect(mem.writtenFrames).toBe(1);
    // Rewriting the one word with zero leaves no storage.
    mem.write64(0x80021, 2, 5, 6);
    mem.write64(0x80021, 2, 0, 0);
    expect(mem.isZero(0x80021)).toBe(true);
    expect(mem.writtenFrames).toBe(1);
    expect(() => mem.write64(0x10, 0, 1, 0)).toThrow(AccessFault);
    expect(() => mem.write64(0x10, 0, 0, 0)).toThrow(AccessFault);
  });

  it('copy, zero and a whole read of a one-word frame see its word', () => {
    const mem = ram();
    mem.write64(0x80030, 9, 0xabc, 1);
    mem.write64(0x80031, 0, 0xfff, 0xfff); // an ordinary frame
    mem.write64(0x80031, 1, 0xfff, 0xfff);
    mem.copy(0x80031, 0x80030);
    expect(mem.readLo(0x80031, 9)).toBe(0xabc);
    expect(mem.readLo(0x80031, 0)).toBe(0);
    expect(mem.read(0x80030)[18]).toBe(0xabc);
    mem.zero(0x80030);
    expect(mem.isZero(0x80030)).toBe(true);
  });

  it('restoring a snapshot brings one-word frames back as they were', () => {
    const mem = ram();
    mem.write64(0x80040, 0, 1, 2);
    const snap = mem[SAVE_STATE]();
    mem.write64(0x80040, 0, 3, 4); // the same word changes
    mem.write64(0x80041, 5, 6, 7); // a new one-word frame
    mem.write64(0x80040, 1, 8, 9); // widened
    mem[RESTORE_STATE](snap);
    expect(mem.readLo(0x80040, 0)).toBe(1);
    expect(mem.readHi(0x80040, 0)).toBe(2);
    expect(mem.readLo(0x80040, 1)).toBe(0);
    expect(mem.isZero(0x80041)).toBe(true);
    expect(mem.writtenFrames).toBe(1);
  });

  it('a never-written frame read (and cached) still reads what is written to it later, and becomes a hole with its region', () => {
    const mem = ram();
    expect(mem.readLo(0x80050, 3)).toBe(0); // cached as never written
    mem.write64(0x80050, 3, 0x77, 0); // a one-word frame now
    expect(mem.readLo(0x80050, 3)).toBe(0x77);
    expect(mem.read(0x80051)[0]).toBe(0);
    mem.write(0x80051)[4] = 9; // an ordinary frame, not the shared zero page
    expect(mem.readLo(0x80051, 2)).toBe(9);
    expect(mem.read(0x80052)[0]).toBe(0); // the shared zero page stayed zero
    expect(mem.read(0x80053).every((w) => w === 0)).toBe(true);
    mem.removeRegion('ram');
    expect(() => mem.read(0x80053)).toThrow(AccessFault);
    expect(mem.readOrUndefined(0x80052)).toBeUndefined();
  });
});
