/**
 * The model's VFS: path lookup with the errno open(2) gives, links, read
 * and write errors as sysfs (kernfs) reports them, and ls's version sort.
 */
import { describe, expect, test } from 'vitest';
import { EACCES, EINVAL, EIO, EISDIR, ELOOP, ENOENT, ENOTDIR } from '../errno.js';
import { GuestSystem } from '../system.js';
import { Vfs, dynamicDir, file, link, staticDir, versionCompare, type VNode } from './vfs.js';
import { errnoOf } from '../../../test/support/guest.js';

function tree(): { vfs: Vfs; written: string[] } {
  const written: string[] = [];
  const built: { vfs?: Vfs } = {};
  const node0 = staticDir({ meminfo: file(() => 'Node 0 MemTotal: 1 kB\n') });
  const block = (n: number): VNode =>
    staticDir({
      node0: link('../../node/node0', () => built.vfs?.lookup('/sys/devices/system/node/node0')),
      state: file(
        () => 'online\n',
        (d) => {
          if (d !== 'offline\n') return -EINVAL;
          written.push(`memory${n}:${d}`);
          return 0;
        },
      ),
      phys_index: file(() => n.toString(16).padStart(8, '0') + '\n'),
      dangling: link('../nowhere', () => undefined),
    });
  const memory = dynamicDir(() => [
    ['memory10', block(10)],
    ['memory9', block(9)],
    ['auto_online_blocks', file(() => 'offline\n')],
    ['block_size_bytes', file(() => '8000000\n')],
    ['probe', file(undefined, (d) => written.push(`probe:${d}`))],
    ['uevent', file()],
  ]);
  const root = staticDir({
    sys: staticDir({ devices: staticDir({ system: staticDir({ memory, node: staticDir({ node0 }) }) }) }),
  });
  built.vfs = new Vfs(root);
  return { vfs: built.vfs, written };
}

const MEM = '/sys/devices/system/memory';

describe('lookup', () => {
  test('an absolute path resolves through directories; empty and "." components are skipped', () => {
    const { vfs } = tree();
    expect(vfs.read(`${MEM}/block_size_bytes`)).toBe('8000000\n');
    expect(vfs.read('//sys/./devices//system/memory/block_size_bytes')).toBe('8000000\n');
    expect(vfs.lookup('/').kind).toBe('dir');
  });

  test('a missing name is ENOENT, at any depth', () => {
    const { vfs } = tree();
    expect(errnoOf(() => vfs.lookup(`${MEM}/memory11`))).toBe(ENOENT);
    expect(errnoOf(() => vfs.lookup(`${MEM}/memory11/state`))).toBe(ENOENT);
    expect(errnoOf(() => vfs.lookup('/proc'))).toBe(ENOENT);
    expect(vfs.exists(`${MEM}/memory11`)).toBe(false);
    expect(vfs.exists(`${MEM}/memory9`)).toBe(true);
  });

  test('a path that goes through a file is ENOTDIR', () => {
    const { vfs } = tree();
    expect(errnoOf(() => vfs.lookup(`${MEM}/block_size_bytes/x`))).toBe(ENOTDIR);
    expect(errnoOf(() => vfs.read(`${MEM}/memory9/state/x/y`))).toBe(ENOTDIR);
  });

  test('a relative path does not resolve', () => {
    const { vfs } = tree();
    expect(errnoOf(() => vfs.lookup('sys/devices'))).toBe(ENOENT);
  });

  test('links are followed, in the middle of a path and at its end', () => {
    const { vfs } = tree();
    expect(vfs.read(`${MEM}/memory9/node0/meminfo`)).toBe('Node 0 MemTotal: 1 kB\n');
    expect(vfs.lookup(`${MEM}/memory9/node0`).kind).toBe('dir');
  });

  test('a dangling link is ENOENT', () => {
    const { vfs } = tree();
    expect(errnoOf(() => vfs.lookup(`${MEM}/memory9/dangling`))).toBe(ENOENT);
    expect(errnoOf(() => vfs.read(`${MEM}/memory9/dangling`))).toBe(ENOENT);
  });

  // fs/namei.c: a trailing slash asks for a directory, so open("file/") fails with ENOTDIR.
  test('a trailing slash after a file name is ENOTDIR', () => {
    const { vfs } = tree();
    expect(errnoOf(() => vfs.lookup(`${MEM}/block_size_bytes/`))).toBe(ENOTDIR);
    expect(errnoOf(() => vfs.lookup(`${MEM}/block_size_bytes/.`))).toBe(ENOTDIR);
    expect(errnoOf(() => vfs.lookup(`${MEM}/block_size_bytes/..`))).toBe(ENOTDIR);
    expect(vfs.lookup(`${MEM}/memory9/`).kind).toBe('dir');
  });

  test('a trailing slash after a link follows it to a directory, but not to a file', () => {
    const { vfs } = tree();
    expect(vfs.lookup(`${MEM}/memory9/node0/`).kind).toBe('dir');
    const root = staticDir({ a: link('b', () => vfs.lookup(`${MEM}/probe`)) });
    expect(errnoOf(() => new Vfs(root).lookup('/a/'))).toBe(ENOTDIR);
  });

  // fs/namei.c follow_dotdot(): ".." goes to the parent directory.
  test('".." goes up one directory', () => {
    const { vfs } = tree();
    expect(vfs.read(`${MEM}/memory9/../block_size_bytes`)).toBe('8000000\n');
    expect(vfs.read(`${MEM}/memory9/../../memory/memory10/phys_index`)).toBe('0000000a\n');
  });

  test('".." at the root stays at the root', () => {
    const { vfs } = tree();
    expect(vfs.read(`/../..${MEM}/block_size_bytes`)).toBe('8000000\n');
  });

  test('".." after a link leaves the directory the link points to, not the one holding the link', () => {
    const { vfs } = tree();
    // memory9/node0 -> ../../node/node0, so node0/.. is /sys/devices/system/node.
    expect(vfs.lookup(`${MEM}/memory9/node0/../node0/meminfo`).kind).toBe('file');
    expect(errnoOf(() => vfs.lookup(`${MEM}/memory9/node0/../state`))).toBe(ENOENT);
  });

  test('a link loop is ELOOP', () => {
    const root: Record<string, VNode> = {};
    root['a'] = link('b', () => undefined);
    root['b'] = link('a', () => undefined);
    const vfs = new Vfs(staticDir(root));
    expect(errnoOf(() => vfs.lookup('/a'))).toBe(ELOOP);
  });
});

describe('read and write', () => {
  test('reading a directory is EISDIR', () => {
    const { vfs } = tree();
    expect(errnoOf(() => vfs.read(MEM))).toBe(EISDIR);
  });

  test('reading a write-only sysfs attribute is EACCES (kernfs_fop_open without a show method)', () => {
    const { vfs } = tree();
    expect(errnoOf(() => vfs.read(`${MEM}/probe`))).toBe(EACCES);
  });

  test('writing a directory is EISDIR; writing a read-only attribute is EACCES', () => {
    const { vfs } = tree();
    expect(errnoOf(() => vfs.write(MEM, 'x'))).toBe(EISDIR);
    expect(errnoOf(() => vfs.write(`${MEM}/block_size_bytes`, '1'))).toBe(EACCES);
  });

  test('a write hands the bytes to the store method unchanged; its errno comes back', () => {
    const { vfs, written } = tree();
    vfs.write(`${MEM}/memory9/state`, 'offline\n');
    vfs.write(`${MEM}/probe`, '0x100000000');
    expect(written).toEqual(['memory9:offline\n', 'probe:0x100000000']);
    expect(errnoOf(() => vfs.write(`${MEM}/memory10/state`, 'offline'))).toBe(EINVAL);
  });

  test('a write through a link reaches the target', () => {
    const { vfs, written } = tree();
    const root = staticDir({ a: link('b', () => vfs.lookup(`${MEM}/probe`)) });
    new Vfs(root).write('/a', '1');
    expect(written).toEqual(['probe:1']);
  });
});

describe('list', () => {
  test('entries are version-sorted, directories and links marked', () => {
    const { vfs } = tree();
    expect(vfs.list(MEM).map((e) => e.name)).toEqual([
      'auto_online_blocks',
      'block_size_bytes',
      'memory9',
      'memory10',
      'probe',
      'uevent',
    ]);
    const m9 = vfs.list(`${MEM}/memory9`);
    expect(m9.find((e) => e.name === 'node0')).toEqual({ name: 'node0', isDir: false, isLink: true });
    expect(m9.find((e) => e.name === 'state')).toEqual({ name: 'state', isDir: false, isLink: false });
    expect(vfs.list(MEM).find((e) => e.name === 'memory10')).toEqual({
      name: 'memory10',
      isDir: true,
      isLink: false,
    });
  });

  test('listing a file is ENOTDIR, a missing directory ENOENT', () => {
    const { vfs } = tree();
    expect(errnoOf(() => vfs.list(`${MEM}/uevent`))).toBe(ENOTDIR);
    expect(errnoOf(() => vfs.list(`${MEM}/memory99`))).toBe(ENOENT);
  });
});

describe('versionCompare', () => {
  test('memory9 sorts before memory10 (digit runs compare by value)', () => {
    expect(versionCompare('memory9', 'memory10')).toBeLessThan(0);
    expect(versionCompare('memory10', 'memory9')).toBeGreaterThan(0);
    expect(versionCompare('memory10', 'memory10')).toBe(0);
  });

  test('a sysfs memory directory sorts as ls -v does', () => {
    const names = [
      'memory100',
      'uevent',
      'memory2',
      'memory10',
      'auto_online_blocks',
      'memory1',
      'block_size_bytes',
      'memory',
    ];
    expect(names.sort(versionCompare)).toEqual([
      'auto_online_blocks',
      'block_size_bytes',
      'memory',
      'memory1',
      'memory2',
      'memory10',
      'memory100',
      'uevent',
    ]);
  });

  test('non-digit parts compare as strings', () => {
    expect(versionCompare('node0', 'memory0')).toBeGreaterThan(0);
    expect(versionCompare('a1b', 'a1c')).toBeLessThan(0);
    expect(versionCompare('a2b', 'a10a')).toBeLessThan(0);
  });
});

describe("the kernel's own files (procfs and debugfs are not kernfs)", () => {
  const sys = new GuestSystem({ ramBytes: 8n << 30n, smp: 2, append: 'mem=2G', initrdSize: 0x7f000 });

  test('sysfs: writing a read-only attribute is EACCES (kernfs_fop_open)', () => {
    expect(errnoOf(() => sys.vfs.write('/sys/devices/system/memory/block_size_bytes', '1'))).toBe(EACCES);
    expect(errnoOf(() => sys.vfs.write('/sys/devices/system/memory/memory16/valid_zones', 'Normal'))).toBe(
      EACCES,
    );
  });

  // fs/debugfs/file.c full_proxy_open() gives the proxy a read method only when the real fops have
  // one; without it fs/open.c leaves FMODE_CAN_READ clear and vfs_read() (fs/read_write.c:555)
  // returns -EINVAL.
  test('debugfs: reading a write-only file (hotplug_oracle/add) is EINVAL, after a successful open', () => {
    expect(errnoOf(() => sys.vfs.read('/sys/kernel/debug/hotplug_oracle/add'))).toBe(EINVAL);
    expect(sys.vfs.open('/sys/kernel/debug/hotplug_oracle/add', 'r').kind).toBe('file');
  });

  test('debugfs: writing a read-only file (kernel_page_tables) is EINVAL, after a successful open', () => {
    const f = sys.vfs.open('/sys/kernel/debug/kernel_page_tables', 'w');
    expect(errnoOf(() => sys.vfs.writeOpen(f, '1'))).toBe(EINVAL);
  });

  // fs/proc/inode.c:331 pde_write(): a proc file without proc_write returns -EIO (root may open it
  // for writing).
  test('procfs: writing /proc/meminfo is EIO, after a successful open', () => {
    expect(errnoOf(() => sys.vfs.write('/proc/meminfo', '1\n'))).toBe(EIO);
    expect(sys.vfs.open('/proc/meminfo', 'w').kind).toBe('file');
  });

  test('sysfs: a write of no bytes returns before the store; procfs still answers EIO', () => {
    expect(errnoOf(() => sys.vfs.write('/sys/devices/system/memory/auto_online_blocks', ''))).toBeUndefined();
    expect(sys.vfs.read('/sys/devices/system/memory/auto_online_blocks')).toBe('offline\n');
    expect(errnoOf(() => sys.vfs.write('/proc/meminfo', ''))).toBe(EIO);
  });
});
