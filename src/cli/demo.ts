/**
 * `riscv-hotplug demo` (and `npm start`): the built-in scenario on the
 * default machine, explained as it goes — grow a virtio-mem device, see the
 * new memory blocks come online, what changed in kernel_page_tables, shrink
 * back to zero, and the invariant report at the end.
 */
import type { Writable } from 'node:stream';
import { parseRunArgs } from '../session/options.js';
import { Session } from '../session/session.js';
import { lineDiff } from '../session/line-diff.js';
import { checkInvariants, formatViolation } from '../check/invariants.js';

export const DEMO_ARGS = [
  '-m',
  '4G,slots=4,maxmem=16G',
  '-smp',
  '2',
  '-append',
  'memhp_default_state=online_movable',
  '-object',
  'memory-backend-ram,id=mem0,size=2G',
  '-device',
  'virtio-mem-pci,id=vm0,memdev=mem0',
];

export function runDemo(out: Writable): number {
  const say = (s: string): void => void out.write(s + '\n');
  const session = new Session(parseRunArgs(DEMO_ARGS));
  const run = (line: string, quiet = false): string => {
    const r = session.execute(line);
    if (!r) return '';
    if (!quiet) {
      say(`  $ ${line}`);
      for (const l of r.kmsg) say('    ' + l);
      for (const l of (r.stdout + r.stderr).split('\n')) if (l) say('    ' + l);
    }
    return r.stdout;
  };
  const k = session.system.kernel;
  say(
    `riscv-hotplug demo: Linux ${k.profile.release} memory hot(un)plug on a RISC-V QEMU virt machine (${k.mode.name})`,
  );
  say(`machine: ${DEMO_ARGS.join(' ')}`);
  say('');
  say('1. At boot the guest has 4 GiB in memory blocks of 128 MiB, all online:');
  run('cat /sys/devices/system/memory/block_size_bytes');
  run('grep MemTotal /proc/meminfo');
  const ptBefore = run('cat /sys/kernel/debug/kernel_page_tables', true);
  say('');
  say('2. Ask the virtio-mem device for 1 GiB. The guest driver plugs it in 128 MiB memory blocks,');
  say('   adds each with add_memory_driver_managed() and onlines it movable (memhp_default_state):');
  run('(qemu) qom-set vm0 requested-size 1G');
  run('(qemu) info memory-devices');
  run('grep MemTotal /proc/meminfo');
  run('grep virtio /proc/iomem');
  const ptAfter = run('cat /sys/kernel/debug/kernel_page_tables', true);
  say('');
  say('3. What changed in kernel_page_tables: the linear map grew by 1 GiB of 2 MiB PMD leaves (virtio-mem');
  say('   adds one 128 MiB memory block at a time, too small for a 1 GiB PUD leaf), and the vmemmap by');
  say('   16 MiB of struct pages in 2 MiB PMD leaves (each 128 MiB section needs 2 MiB):');
  for (const l of lineDiff(ptBefore, ptAfter)) say('    ' + l);
  say('');
  say('4. Shrink back to 0: the driver offlines each block (migrating whatever lives there),');
  say('   unplugs it and removes it; the page tables return to their boot state:');
  run('(qemu) qom-set vm0 requested-size 0');
  run('grep MemTotal /proc/meminfo');
  const ptEnd = run('cat /sys/kernel/debug/kernel_page_tables', true);
  const left = lineDiff(ptBefore, ptEnd);
  say(
    left.length
      ? `    page tables differ from boot:\n${left.map((l) => '    ' + l).join('\n')}`
      : '    kernel_page_tables is identical to the one at boot.',
  );
  say('');
  say('5. Invariant report:');
  const v = checkInvariants(session.system, 'demo');
  if (!v.length) {
    say(
      '    all invariants hold: the linear map covers exactly the present memory, every present section has',
    );
    say('    its vmemmap, no page-table page leaked, free lists and zone counters add up, the MMU walk of');
    say('    every hart agrees with the kernel, and no TLB holds a stale entry.');
  } else {
    for (const x of v) say('    ' + formatViolation(x));
  }
  return v.length ? 1 : 0;
}
