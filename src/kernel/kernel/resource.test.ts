/**
 * The resource tree and /proc/iomem (kernel/resource.c of Linux 6.12):
 * __request_resource conflicts, __insert_resource adopting children, and
 * r_show's widths and indentation, checked against a real /proc/iomem.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { IORESOURCE_BUSY, IORESOURCE_MEM, IORESOURCE_SYSTEM_RAM, Resource, formatIomem } from './resource.js';

const U64_MAX = (1n << 64n) - 1n;

function iomemRoot(): Resource {
  return new Resource(0n, U64_MAX, 'PCI mem', IORESOURCE_MEM);
}

function res(start: bigint, end: bigint, name: string): Resource {
  return new Resource(start, end, name, IORESOURCE_SYSTEM_RAM | IORESOURCE_BUSY);
}

/** The first /proc/iomem a recording printed. */
function recordedIomem(recording: string): string {
  const path = fileURLToPath(new URL(`../../../test/fixtures/oracle/${recording}`, import.meta.url));
  const lines = readFileSync(path, 'utf8').split('\n');
  const begin = lines.indexOf('=== BEGIN cat /proc/iomem ===');
  const end = lines.findIndex((l, i) => i > begin && l.startsWith('=== END cat /proc/iomem'));
  return lines.slice(begin + 1, end).join('\n') + '\n';
}

function parseIomem(text: string): Array<{ depth: number; start: bigint; end: bigint; name: string }> {
  return text
    .trimEnd()
    .split('\n')
    .map((l) => {
      const m = /^( *)([0-9a-f]+)-([0-9a-f]+) : (.*)$/.exec(l)!;
      return { depth: m[1]!.length / 2, start: BigInt('0x' + m[2]!), end: BigInt('0x' + m[3]!), name: m[4]! };
    });
}

describe('__request_resource', () => {
  test('a free range is inserted as a child, sorted by address', () => {
    const root = iomemRoot();
    const b = res(0x2000n, 0x2fffn, 'b');
    const a = res(0x1000n, 0x1fffn, 'a');
    const c = res(0x5000n, 0x5fffn, 'c');
    expect(root.request(b)).toBeUndefined();
    expect(root.request(c)).toBeUndefined();
    expect(root.request(a)).toBeUndefined();
    expect(root.children.map((r) => r.name)).toEqual(['a', 'b', 'c']);
    expect(a.parent).toBe(root);
  });

  test('an overlapping range is refused with the sibling it conflicts with', () => {
    const root = iomemRoot();
    const a = res(0x1000n, 0x1fffn, 'a');
    const b = res(0x3000n, 0x3fffn, 'b');
    root.request(a);
    root.request(b);
    expect(root.request(res(0x1fffn, 0x2000n, 'x'))).toBe(a);
    expect(root.request(res(0x2000n, 0x3000n, 'x'))).toBe(b);
    expect(root.request(res(0x0n, 0x10000n, 'x'))).toBe(a);
    // An identical range conflicts too.
    expect(root.request(res(0x3000n, 0x3fffn, 'x'))).toBe(b);
    expect(root.children).toEqual([a, b]);
  });

  test('a range outside the parent, or ending before it starts, conflicts with the parent itself', () => {
    const parent = res(0x1000n, 0x1fffn, 'p');
    expect(parent.request(res(0x800n, 0x1800n, 'x'))).toBe(parent);
    expect(parent.request(res(0x1800n, 0x2000n, 'x'))).toBe(parent);
    expect(parent.request(res(0x1800n, 0x17ffn, 'x'))).toBe(parent);
    expect(parent.children).toEqual([]);
  });

  test('request does not descend into children: a range inside a child conflicts with that child', () => {
    const root = iomemRoot();
    const ram = res(0x80000000n, 0xffffffffn, 'System RAM');
    root.request(ram);
    expect(root.request(res(0x80000000n, 0x8007ffffn, 'Reserved'))).toBe(ram);
  });

  test('release unlinks a resource with its children', () => {
    const root = iomemRoot();
    const ram = res(0x80000000n, 0xffffffffn, 'System RAM');
    root.request(ram);
    ram.request(res(0x80000000n, 0x8007ffffn, 'Reserved'));
    ram.release();
    expect(root.children).toEqual([]);
    expect(ram.parent).toBeUndefined();
    expect(ram.children).toHaveLength(1);
  });
});

describe('__insert_resource', () => {
  test('a range inside an existing resource goes below it, at the deepest level that contains it', () => {
    const root = iomemRoot();
    const ram = res(0x80000000n, 0xffffffffn, 'System RAM');
    const image = res(0x80202000n, 0x80d6b237n, 'Kernel image');
    const code = res(0x80202000n, 0x8038bb8dn, 'Kernel code');
    expect(root.insert(ram)).toBeUndefined();
    expect(root.insert(image)).toBeUndefined();
    expect(root.insert(code)).toBeUndefined();
    expect(image.parent).toBe(ram);
    expect(code.parent).toBe(image);
  });

  test('a new resource covering existing siblings adopts them as its children', () => {
    const root = iomemRoot();
    const serial = res(0x10000000n, 0x100000ffn, 'serial');
    const r1 = res(0x80000000n, 0x8007ffffn, 'Reserved');
    const image = res(0x80202000n, 0x80d6b237n, 'Kernel image');
    const r2 = res(0xffffa000n, 0xffffffffn, 'Reserved');
    for (const r of [serial, r2, image, r1]) expect(root.insert(r)).toBeUndefined();
    const ram = res(0x80000000n, 0xffffffffn, 'System RAM');
    expect(root.insert(ram)).toBeUndefined();
    expect(root.children).toEqual([serial, ram]);
    expect(ram.children).toEqual([r1, image, r2]);
    for (const c of ram.children) expect(c.parent).toBe(ram);
  });

  test('a partial overlap with a sibling is refused and leaves the tree as it was', () => {
    const root = iomemRoot();
    const a = res(0x1000n, 0x1fffn, 'a');
    const b = res(0x3000n, 0x3fffn, 'b');
    root.insert(a);
    root.insert(b);
    expect(root.insert(res(0x800n, 0x37ffn, 'x'))).toBeDefined();
    expect(root.insert(res(0x1800n, 0x27ffn, 'x'))).toBe(a);
    expect(root.children).toEqual([a, b]);
    expect(a.children).toEqual([]);
  });

  test('a partial overlap reports the sibling that overlaps partially, not the first one it meets', () => {
    const root = iomemRoot();
    const a = res(0x1000n, 0x1fffn, 'a');
    const b = res(0x3000n, 0x3fffn, 'b');
    root.insert(a);
    root.insert(b);
    expect(root.insert(res(0x800n, 0x37ffn, 'x'))).toBe(b);
    expect(root.children).toEqual([a, b]);
  });

  test('a range that does not fit the root is refused with the root', () => {
    const root = new Resource(0n, 0xffffn, 'PCI IO');
    expect(root.insert(res(0x8000n, 0x10000n, 'x'))).toBe(root);
  });

  // kernel/resource.c:874 __insert_resource(): when the conflicting resource has exactly the new
  // one's range, the loop breaks and the new resource becomes its parent.
  test('inserting a range identical to an existing one makes the new resource its parent', () => {
    const root = iomemRoot();
    const old = res(0x1000n, 0x1fffn, 'old');
    root.insert(old);
    const dup = res(0x1000n, 0x1fffn, 'new');
    expect(root.insert(dup)).toBeUndefined();
    expect(root.children).toEqual([dup]);
    expect(old.parent).toBe(dup);
  });

  test('find and overlaps look at the tree', () => {
    const root = iomemRoot();
    const ram = res(0x80000000n, 0xffffffffn, 'System RAM');
    root.insert(ram);
    root.insert(res(0x80200000n, 0x80201fffn, 'Reserved'));
    expect(root.find((r) => r.name === 'Reserved')?.start).toBe(0x80200000n);
    expect(root.find((r) => r.name === 'nothing')).toBeUndefined();
    expect(root.overlaps(0x7fffffffn, 0x80000000n)).toBe(true);
    expect(root.overlaps(0x100000000n, 0x1ffffffffn)).toBe(false);
  });
});

describe('/proc/iomem (r_show)', () => {
  test('the tree built from a recorded /proc/iomem prints it back byte for byte (parents inserted first)', () => {
    const text = recordedIomem('d-bad-inputs.sv48.log');
    // The recording has 8-, 9- and 10-digit addresses: %08llx pads but never truncates.
    expect(text).toContain('\n100000000-107ffffff : System RAM\n4000000000-4007ffffff : System RAM\n');
    const root = iomemRoot();
    for (const l of parseIomem(text)) expect(root.insert(res(l.start, l.end, l.name))).toBeUndefined();
    expect(formatIomem(root)).toBe(text);
  });

  test('the same tree built children first (insert adopting them) prints the same', () => {
    const text = recordedIomem('a-boot.sv57.log');
    const root = iomemRoot();
    for (const l of parseIomem(text).reverse())
      expect(root.insert(res(l.start, l.end, l.name))).toBeUndefined();
    expect(formatIomem(root)).toBe(text);
    expect(text).toContain('80000000-ffffffff : System RAM\n  80000000-8007ffff : Reserved\n');
    expect(text).toContain('  80202000-80d6b237 : Kernel image\n    80202000-8038bb8d : Kernel code\n');
  });

  test('a root ending below 0x10000 (ioports) prints 4-digit addresses', () => {
    const root = new Resource(0n, 0xffffn, 'PCI IO');
    root.insert(res(0x0n, 0xcf7n, 'PCI Bus 0000:00'));
    root.insert(res(0x60n, 0x60n, 'keyboard'));
    root.insert(res(0x10000n - 0x100n, 0xffffn, 'top'));
    expect(formatIomem(root)).toBe('0000-0cf7 : PCI Bus 0000:00\n  0060-0060 : keyboard\nff00-ffff : top\n');
  });

  test('an empty tree prints nothing', () => {
    expect(formatIomem(iomemRoot())).toBe('');
  });

  test('each level of nesting indents by two spaces, down to the fifth level', () => {
    const root = iomemRoot();
    for (let d = 0; d < 5; d++) root.insert(res(0x1000n + BigInt(d), 0x1fffn - BigInt(d), `L${d}`));
    expect(formatIomem(root)).toBe(
      '00001000-00001fff : L0\n' +
        '  00001001-00001ffe : L1\n' +
        '    00001002-00001ffd : L2\n' +
        '      00001003-00001ffc : L3\n' +
        '        00001004-00001ffb : L4\n',
    );
  });

  // kernel/resource.c:77/91 r_start()/r_next() walk every resource (next_resource(p, false)); only the
  // indentation stops growing at MAX_IORES_LEVEL (r_show, line 108).
  test('resources nested deeper than MAX_IORES_LEVEL are still printed, indented 10 spaces', () => {
    const root = iomemRoot();
    for (let d = 0; d < 7; d++) root.insert(res(0x1000n + BigInt(d), 0x1fffn - BigInt(d), `L${d}`));
    const lines = formatIomem(root).trimEnd().split('\n');
    expect(lines).toHaveLength(7);
    expect(lines[5]).toBe('          00001005-00001ffa : L5');
    expect(lines[6]).toBe('          00001006-00001ff9 : L6');
  });
});
