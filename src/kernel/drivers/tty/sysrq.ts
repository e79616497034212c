/**
 * drivers/tty/sysrq.c as /proc/sysrq-trigger reaches it: a write runs the
 * handler of its first character (without the sysrq_enabled mask check) and
 * logs the handler's action message; an unknown key logs the help line.
 * The model runs no tasks, so `t` and `w` show the messages only; `m`
 * shows the memory the model keeps (show_mem's zone and free-list lines).
 */
import type { Kernel } from '../../kernel.js';
import { nrFreePages } from '../../mm/page_alloc.js';
import { zoneWatermarks } from '../../mm/vmstat.js';
import { KernelBug } from '../../errno.js';

interface SysrqOp {
  help: string;
  action: string;
  handler?: (k: Kernel) => void;
}

/** The keys Linux 6.12 registers on a RISC-V virt guest, in its table's order, with their help texts. */
const KEYS: Array<[string, SysrqOp]> = [
  ['b', { help: 'reboot(b)', action: 'Resetting' }],
  ['c', { help: 'crash(c)', action: 'Trigger a crash' }],
  ['e', { help: 'terminate-all-tasks(e)', action: 'Terminate All Tasks' }],
  ['f', { help: 'memory-full-oom-kill(f)', action: 'Manual OOM execution' }],
  ['i', { help: 'kill-all-tasks(i)', action: 'Kill All Tasks' }],
  ['j', { help: 'thaw-filesystems(j)', action: 'Emergency Thaw of all frozen filesystems' }],
  ['k', { help: 'saK(k)', action: 'SAK' }],
  ['l', { help: 'show-backtrace-all-active-cpus(l)', action: 'Show backtrace of all active CPUs' }],
  ['m', { help: 'show-memory-usage(m)', action: 'Show Memory', handler: showMem }],
  ['n', { help: 'nice-all-RT-tasks(n)', action: 'Nice All RT Tasks' }],
  ['o', { help: 'poweroff(o)', action: 'Power Off' }],
  ['p', { help: 'show-registers(p)', action: 'Show Regs' }],
  ['q', { help: 'show-all-timers(q)', action: 'Show clockevent devices & pending hrtimers (no others)' }],
  ['r', { help: 'unraw(r)', action: 'Keyboard mode set to system default' }],
  ['s', { help: 'sync(s)', action: 'Emergency Sync' }],
  ['t', { help: 'show-task-states(t)', action: 'Show State' }],
  ['u', { help: 'unmount(u)', action: 'Emergency Remount R/O' }],
  ['w', { help: 'show-blocked-tasks(w)', action: 'Show Blocked State' }],
  ['z', { help: 'dump-ftrace-buffer(z)', action: 'Dump ftrace buffer' }],
];

/** Keys whose handlers would reset the machine or kill tasks: the model logs them and does nothing. */
const REFUSED = new Set(['b', 'e', 'i', 'o']);

const ORDERS_KB = [4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096];

/** __show_mem(): the zones' counters and free lists. */
function showMem(k: Kernel): void {
  const log = (t: string): void => k.log.info(t);
  log('Mem-Info:');
  log(`free:${nrFreePages(k)}`);
  for (const z of k.pgdat.zones) {
    if (!z.isPopulated()) continue;
    const wm = zoneWatermarks(k, z);
    log(
      `Node 0 ${z.name} free:${z.free.freePages * 4}kB boost:0kB min:${wm.min * 4}kB low:${wm.low * 4}kB ` +
        `high:${wm.high * 4}kB reserved_highatomic:0KB present:${z.presentPages * 4}kB managed:${z.managedPages * 4}kB`,
    );
  }
  for (const z of k.pgdat.zones) {
    if (!z.isPopulated()) continue;
    const counts = z.free.counts();
    const parts = counts.map((c, o) => `${c}*${ORDERS_KB[o]}kB`);
    const total = counts.reduce((s, c, o) => s + c * ORDERS_KB[o]!, 0);
    log(`Node 0 ${z.name}: ${parts.join(' ')} = ${total}kB`);
  }
  const ram = k.pgdat.zones.reduce((s, z) => s + z.presentPages, 0);
  const managed = k.pgdat.zones.reduce((s, z) => s + z.managedPages, 0);
  log(`${ram} pages RAM`);
  log('0 pages HighMem/MovableOnly');
  log(`${ram - managed} pages reserved`);
}

/** write_sysrq_trigger(): 0 (every key is taken, as the kernel takes it): the first character picks the operation. */
export function sysrqTrigger(k: Kernel, data: string): number {
  const key = data[0];
  if (key === undefined) return 0;
  const op = KEYS.find(([c]) => c === key)?.[1];
  if (!op) {
    k.log.info('sysrq: HELP : loglevel(0-9) ' + KEYS.map(([, o]) => o.help).join(' ') + ' ');
    return 0;
  }
  k.log.info(`sysrq: ${op.action}`);
  if (key === 'c') {
    // sysrq_handle_crash(): panic(), which the guest does not survive.
    k.log.log(0, 'Kernel panic - not syncing: sysrq triggered crash');
    throw new KernelBug('drivers/tty/sysrq.c (sysrq triggered crash)');
  }
  // Rebooting, powering off and killing every task are not carried out: the model has no tasks and no reset.
  if (REFUSED.has(key)) return 0;
  op.handler?.(k);
  return 0;
}
