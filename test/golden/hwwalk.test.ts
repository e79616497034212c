/**
 * Independent check of the page tables: every range kernel_page_tables prints
 * (vmemmap, linear map, kernel mapping) is translated by the hardware MMU
 * walk of src/hw at its first and last page, and must give the printed
 * physical address and permissions — in all three modes, after boot and
 * after a hot-add.
 */
import { describe, expect, test } from 'vitest';
import { GuestSystem } from '../../src/kernel/system.js';
import { walkVa } from '../../src/hw/mmu.js';

const LINE = /^0x([0-9a-f]{16})-0x([0-9a-f]{16})\s+0x([0-9a-f]{16})\s+\S+ (PTE|PMD|PUD|P4D|PGD)( .*)$/;

function check(sys: GuestSystem): number {
  const k = sys.kernel;
  const dump = sys.vfs.read('/sys/kernel/debug/kernel_page_tables').split('\n');
  let section = '';
  let checked = 0;
  let runPa = 0n;
  for (const l of dump) {
    if (l.startsWith('---[')) {
      section = l;
      continue;
    }
    if (!/vmemmap start|Linear mapping|Kernel mapping/.test(section)) continue;
    const m = LINE.exec(l);
    if (!m) continue;
    const start = BigInt('0x' + m[1]);
    const end = BigInt('0x' + m[2]);
    const pa = BigInt('0x' + m[3]);
    const flags = m[5]!;
    runPa = pa;
    const writable = / W R V$/.test(flags);
    const exec = / X [.W] R V$/.test(flags);
    const first = walkVa(k.mem, { mode: k.mode, rootPpn: k.pt.rootPfn }, start, 'load');
    expect(first.ok, `load at ${m[1]}`).toBe(true);
    if (!first.ok) continue;
    expect(BigInt(first.ppn) << 12n, `pa of ${m[1]}`).toBe(runPa);
    const last = walkVa(k.mem, { mode: k.mode, rootPpn: k.pt.rootPfn }, end - 4096n, 'load');
    expect(last.ok, `load at the end of ${m[1]}`).toBe(true);
    // Merged runs need not be physically contiguous in the vmemmap; the linear and kernel maps are.
    if (!section.includes('vmemmap') && last.ok)
      expect(BigInt(last.ppn) << 12n).toBe(pa + (end - start) - 4096n);
    expect(
      walkVa(k.mem, { mode: k.mode, rootPpn: k.pt.rootPfn }, start, 'store').ok,
      `store at ${m[1]}`,
    ).toBe(writable);
    expect(
      walkVa(k.mem, { mode: k.mode, rootPpn: k.pt.rootPfn }, start, 'fetch').ok,
      `fetch at ${m[1]}`,
    ).toBe(exec);
    checked++;
  }
  return checked;
}

describe('the MMU walk agrees with kernel_page_tables', () => {
  for (const [mode, append] of [
    ['sv39', 'mem=2G no4lvl'],
    ['sv48', 'mem=2G no5lvl'],
    ['sv57', 'mem=2G'],
  ] as const) {
    test(`${mode}: after boot and after hot-adding 1 GiB`, () => {
      const sys = new GuestSystem({ ramBytes: 8n << 30n, smp: 2, append, initrdSize: 0x7f000 });
      expect(check(sys)).toBeGreaterThan(10);
      sys.vfs.write('/sys/kernel/debug/hotplug_oracle/add', '0x100000000 0x40000000');
      sys.vfs.write('/sys/kernel/debug/hotplug_oracle/add', '0x148000000 0x18000000');
      expect(check(sys)).toBeGreaterThan(10);
    });
  }
});
