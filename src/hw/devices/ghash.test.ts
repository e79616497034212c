import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { GHashTable, gStrHash } from './ghash.js';

describe('GHashTable (GLib slot order)', () => {
  it('g_str_hash is djb2 over the bytes', () => {
    expect(gStrHash('')).toBe(5381);
    expect(gStrHash('vmem0')).toBe(278121674);
    expect(gStrHash('riscv_virt_board.ram')).toBe(3942936421);
  });

  it('orders /objects as QEMU 10 prints `info memdev` in the recordings (prepend of slot order)', () => {
    const objects = new GHashTable<string>();
    for (const id of ['vmem0', 'riscv_virt_board.ram']) objects.set(id, id);
    expect([...objects.values()].reverse()).toEqual(['vmem0', 'riscv_virt_board.ram']);
    for (const id of ['vmem1', 'vmem2', 'vmem3', 'vmem4']) objects.set(id, id);
    objects.delete('vmem2');
    objects.delete('vmem3');
    expect([...objects.values()].reverse()).toEqual(['vmem0', 'riscv_virt_board.ram', 'vmem1', 'vmem4']);
  });

  it('behaves as a map through growth, shrinking and tombstones', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 40 })), { maxLength: 200 }),
        (ops) => {
          const t = new GHashTable<number>();
          const m = new Map<string, number>();
          for (const [add, n] of ops) {
            const k = `k${n}`;
            if (add) {
              t.set(k, n);
              m.set(k, n);
            } else {
              expect(t.delete(k)).toBe(m.delete(k));
            }
          }
          expect(t.count).toBe(m.size);
          expect(new Map(t.entries())).toEqual(m);
          for (const [k, v] of m) expect(t.get(k)).toBe(v);
        },
      ),
    );
  });
});
