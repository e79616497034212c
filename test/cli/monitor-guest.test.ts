/** Monitor commands that look at the guest through hart 0: gva2gpa and info mem, on a booted machine. */
import { describe, expect, test } from 'vitest';
import { Session } from '../../src/session/session.js';
import { parseRunArgs } from '../../src/session/options.js';

function session(): Session {
  return new Session(parseRunArgs(['-m', '4G,slots=2,maxmem=8G', '-append', 'no5lvl']));
}

describe('monitor commands over the guest page tables', () => {
  test('gva2gpa translates a linear-map address through hart 0 and keeps the offset', () => {
    const s = session();
    // Sv48: PAGE_OFFSET 0xffffaf8000000000 maps 0x80000000.
    expect(s.execute('(qemu) gva2gpa 0xffffaf8000123456')?.stdout).toBe('gpa: 0x80123456\n');
    expect(s.execute('(qemu) gva2gpa 0x1000')?.stdout).toBe('Unmapped\n');
    expect(s.execute('(qemu) gva2gpa 0xffffffff80000000')?.stdout).toBe('gpa: 0x80200000\n');
  });

  test('info mem lists the kernel mappings with their attributes, text executable and read-only', () => {
    const s = session();
    const out = s.execute('(qemu) info mem')!.stdout.split('\n');
    expect(out[0]).toBe('      vaddr            paddr            size         attr');
    expect(out).toContain('ffffffff80000000 0000000080200000 0000000000200000 r-x-gad');
    expect(out).toContain('ffffaf8000000000 0000000080000000 0000000000200000 rw--gad');
  });

  test('a bad address is the monitor error, not a crash', () => {
    const s = session();
    expect(s.execute('(qemu) gva2gpa nowhere')?.stdout).toMatch(/^Error: invalid char/);
  });
});
