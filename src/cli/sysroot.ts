/**
 * --sysroot DIR: mirror the guest's memory files as plain files under DIR,
 * so host tools read the model as they read a real guest
 * (`lsmem --sysroot DIR`, `numastat`, scripts that grep /proc).
 */
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Vfs } from '../kernel/fs/vfs.js';

export const MIRRORED_DIRS = ['/sys/devices/system/memory', '/sys/devices/system/node'];
export const MIRRORED_FILES = ['/proc/meminfo', '/proc/iomem', '/proc/zoneinfo', '/proc/buddyinfo'];

function mirrorDir(vfs: Vfs, path: string, out: string, depth: number): void {
  mkdirSync(out, { recursive: true });
  const dir = vfs.lookup(path);
  if (dir.kind !== 'dir') return;
  for (const name of dir.list()) {
    const child = dir.get(name);
    if (!child) continue;
    const target = join(out, name);
    if (child.kind === 'link') {
      symlinkSync(child.target, target);
    } else if (child.kind === 'dir') {
      if (depth < 4) mirrorDir(vfs, `${path}/${name}`, target, depth + 1);
    } else if (child.show) {
      writeFileSync(target, child.show());
    } else {
      writeFileSync(target, '');
    }
  }
}

/** Writes the mirror afresh (the old one is removed first, so removed blocks disappear). */
export function writeSysroot(vfs: Vfs, root: string): void {
  // The mirror watches the guest; it is not a process in it, so it leaves no dentries or buffers behind.
  vfs.quietly(() => {
    for (const d of MIRRORED_DIRS) {
      const out = join(root, d);
      rmSync(out, { recursive: true, force: true });
      mirrorDir(vfs, d, out, 0);
    }
    mkdirSync(join(root, 'proc'), { recursive: true });
    for (const f of MIRRORED_FILES) writeFileSync(join(root, f), vfs.read(f));
  });
}
