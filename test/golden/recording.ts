/**
 * Reading the real-kernel recordings (test/fixtures/oracle/*.log, copied from
 * shared/oracle) and turning them into model scripts with expected results,
 * the way shared/oracle/compare.py does, so the test suite checks the same
 * things without Python.
 */
import { readFileSync } from 'node:fs';

export interface RecordedCommand {
  cmd: string;
  out: string[];
}

export interface Recording {
  name: string;
  command: string;
  /** Every line of the log (the boot console included). */
  lines: string[];
  commands: RecordedCommand[];
}

export type Check =
  | { kind: 'ptdump' | 'exact' | 'set' | 'blockset'; what: string; expected: string[] }
  | { kind: 'meminfo'; what: string; expected: string[] }
  | { kind: 'errno'; what: string; expected: number };

export interface BuiltScript {
  lines: string[];
  checks: Array<{ line: number; check: Check }>;
}

const SKIP = new Set([
  'time',
  'info',
  'ptwalk',
  'consolelevel',
  'exists',
  'dmesg',
  'sleep',
  'poweroff',
  'settle',
  'touch',
]);
const HMP_COMPARED = [
  'info memory-devices',
  'info memory_size_summary',
  'qom-set ',
  'qom-get ',
  'device_add ',
  'device_del ',
  'object_add ',
  'object_del ',
];
const SKIP_CAT = new Set([
  '/proc/zoneinfo',
  '/proc/buddyinfo',
  '/proc/cpuinfo',
  '/proc/version',
  '/proc/pagetypeinfo',
  '/sys/kernel/debug/hotplug_oracle/last',
]);
const SKIP_LS = new Set(['/sys/kernel/debug', '/sys/kernel/debug/hotplug_oracle']);
const ATTRS = ['phys_index', 'state', 'valid_zones', 'removable', 'phys_device'];
const MEMDIR = '/sys/devices/system/memory';
const PTDUMP = '/sys/kernel/debug/kernel_page_tables';

export function parseRecording(path: string): Recording {
  const text = readFileSync(path, 'utf8').split('\n');
  let command = '';
  for (const l of text) if (l.startsWith('### command: ')) command = l.slice('### command: '.length);
  const start = text.indexOf('### ---- console ----') + 1;
  const commands: RecordedCommand[] = [];
  let cur: RecordedCommand | undefined;
  for (const l of text.slice(start)) {
    if (l.startsWith('>>> ')) {
      cur = { cmd: l.slice(4).trim(), out: [] };
      commands.push(cur);
    } else if (l.startsWith('=== ORACLE DONE')) {
      cur = undefined;
    } else if (cur) {
      cur.out.push(l);
    }
  }
  return { name: path.split('/').pop()!, command, lines: text, commands };
}

export function block(out: string[], what: string): string[] | undefined {
  let res: string[] | undefined;
  let inside = false;
  for (const l of out) {
    if (l === `=== BEGIN ${what} ===`) {
      inside = true;
      res = [];
    } else if (inside && l.startsWith(`=== END ${what}`)) {
      return res;
    } else if (inside) {
      res!.push(l);
    }
  }
  return undefined;
}

function writes(out: string[]): Array<[string, string, number]> {
  const res: Array<[string, string, number]> = [];
  for (const l of out) {
    const m = /^WRITE (\S+) '(.*)' -> (OK|ERR errno=(\d+)|OPEN-ERR errno=(\d+))/.exec(l);
    if (m) res.push([m[1]!, m[2]!, m[3] === 'OK' ? 0 : Number(m[4] ?? m[5])]);
  }
  return res;
}

function memblockFields(line: string): Record<string, string> {
  const rest = line.includes(' ') ? line.slice(line.indexOf(' ') + 1) : '';
  const out: Record<string, string> = {};
  for (const m of rest.matchAll(/(\w+)=(.*?)(?= \w+=|$)/g)) out[m[1]!] = m[2]!;
  return out;
}

export function buildScript(rec: Recording): BuiltScript {
  const lines: string[] = [];
  const checks: Array<{ line: number; check: Check }> = [];
  const emit = (line: string, check?: Check): void => {
    lines.push(line);
    if (check) checks.push({ line: lines.length - 1, check });
  };
  for (const c of rec.commands) {
    const words = c.cmd.split(/\s+/).filter(Boolean);
    if (!words.length) continue;
    const [op, ...args] = words as [string, ...string[]];
    if (SKIP.has(op)) continue;
    if (op === 'echo') emit('echo ' + args.join(' '));
    else if (op === 'ptdump' || (op === 'cat' && args[0] === PTDUMP)) {
      const exp = block(c.out, `cat ${PTDUMP}`);
      if (exp) emit(`cat ${PTDUMP}`, { kind: 'ptdump', what: c.cmd, expected: exp });
    } else if (op === 'cat' && args.length) {
      const exp = block(c.out, `cat ${args[0]}`);
      if (SKIP_CAT.has(args[0]!) || !exp) continue;
      emit(`cat ${args[0]}`, {
        kind: args[0] === '/proc/meminfo' ? 'meminfo' : 'exact',
        what: c.cmd,
        expected: exp,
      });
    } else if (op === 'grep' && args.length >= 2) {
      const exp = block(c.out, `grep ${args[0]} ${args[1]}`);
      if (exp) emit(`grep ${args[0]} ${args[1]}`, { kind: 'exact', what: c.cmd, expected: exp });
    } else if (op === 'ls' && args.length) {
      const exp = block(c.out, `ls ${args[0]}`);
      if (exp && !SKIP_LS.has(args[0]!)) emit(`ls ${args[0]}`, { kind: 'set', what: c.cmd, expected: exp });
    } else if (op === 'memblocks') {
      const exp = block(c.out, 'memblocks');
      if (!exp) continue;
      emit(`ls ${MEMDIR}`, { kind: 'blockset', what: c.cmd, expected: exp });
      for (const l of exp) {
        const name = l.split(' ')[0]!;
        const f = memblockFields(l);
        for (const a of ATTRS) {
          if (a in f)
            emit(`cat ${MEMDIR}/${name}/${a}`, {
              kind: 'exact',
              what: `memblocks ${name}/${a}`,
              expected: [f[a]!],
            });
        }
      }
    } else if (op === 'host' && args[0] === 'hmp') {
      const hmp = args.slice(1).join(' ');
      const exp = block(c.out, `hmp ${hmp}`);
      const compared = HMP_COMPARED.some((h) => hmp === h || (h.endsWith(' ') && hmp.startsWith(h)));
      emit(`(qemu) ${hmp}`, compared && exp ? { kind: 'exact', what: c.cmd, expected: exp } : undefined);
    } else if (op === 'write' || op === 'blocks_write') {
      for (const [path, text, errno] of writes(c.out)) {
        emit(`echo -n ${text} > ${path}`, { kind: 'errno', what: `write ${path} ${text}`, expected: errno });
      }
    }
  }
  return { lines, checks };
}

/** The machine options of the recorded QEMU command line (-append kept exactly, trailing blanks too). */
export function machineArgs(rec: Recording): string[] {
  const out: string[] = [];
  const cmd = rec.command;
  const keep = new Set(['-m', '-smp', '-object', '-device']);
  const quoted = /-append '([^']*)'/.exec(cmd);
  const bare = /-append ([^'"].*)$/.exec(cmd);
  const words = cmd.replace(/-append .*$/, '').split(/\s+/);
  for (let i = 0; i + 1 < words.length; i++) if (keep.has(words[i]!)) out.push(words[i]!, words[i + 1]!);
  const rest = quoted ? cmd.slice(cmd.indexOf(quoted[0]) + quoted[0].length).split(/\s+/) : [];
  for (let i = 0; i + 1 < rest.length; i++) if (keep.has(rest[i]!)) out.push(rest[i]!, rest[i + 1]!);
  if (quoted) out.push('-append', quoted[1]!);
  else if (bare) out.push('-append', bare[1]!);
  if (!out.includes('-m')) out.push('-m', '8G');
  // Recordings made with the ZONE_DEVICE build (build_zdev.sh) name its Image: the model's profile of that build.
  const kernel = /(?:^|\s)-kernel\s+(\S+)/.exec(cmd.replace(/-append .*$/, ''));
  if (kernel && kernel[1]!.startsWith('out-zdev/')) out.push('-kernel', 'linux-6.12.117-virt-zdev');
  return out;
}

/**
 * The initrd's size: QEMU places it at 0x88200000 and the kernel reserves it
 * page-rounded; "Freeing initrd memory" tells whether its last page was whole.
 */
export function initrdSize(rec: Recording): number | undefined {
  let reserved: number | undefined;
  for (const c of rec.commands) {
    if (c.cmd !== 'cat /proc/iomem') continue;
    for (const l of block(c.out, 'cat /proc/iomem') ?? []) {
      // QEMU 7.2 puts the initrd 128 MiB above the kernel, QEMU 10.2 up to 512 MiB above it.
      const m = /^\s*(88200000|a0200000)-([0-9a-f]+) : Reserved/.exec(l);
      if (m) reserved = parseInt(m[2]!, 16) + 1 - parseInt(m[1]!, 16);
    }
    if (reserved !== undefined) break;
  }
  if (reserved === undefined) return undefined;
  for (const l of rec.lines) {
    const m = /Freeing initrd memory: (\d+)K/.exec(l);
    if (m) return Number(m[1]) * 1024 < reserved ? reserved - 1 : reserved;
  }
  return reserved;
}

/**
 * The parts of kernel_page_tables that memory layout determines: every section marker, and the lines of
 * the vmemmap, linear-map and kernel-mapping sections. Exempt: the lines of the Fixmap, PCI I/O, vmalloc()
 * and Modules/BPF sections, which run-time allocations of software the model does not run fill (the FDT
 * and early console fixmaps, vmalloc'd stacks and ioremaps, the PCI I/O window's page).
 */
export function ptdumpSections(lines: string[]): { kept: string[]; markers: string[] } {
  let keep = false;
  const kept: string[] = [];
  const markers: string[] = [];
  for (const l of lines) {
    if (l.startsWith('---[')) {
      markers.push(l);
      const name = l.replace(/^[-[ ]+|[-\] ]+$/g, '');
      keep = name === 'vmemmap start' || name === 'Linear mapping' || name === 'Kernel mapping';
      kept.push(l);
    } else if (keep) {
      kept.push(l.trim().replace(/\s+/g, ' '));
    }
  }
  return { kept, markers };
}

export function memTotal(lines: string[] | undefined): number | undefined {
  for (const l of lines ?? []) if (l.startsWith('MemTotal:')) return Number(l.split(/\s+/)[1]);
  return undefined;
}
