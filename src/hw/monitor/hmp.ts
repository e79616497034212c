/**
 * The human monitor (HMP) of QEMU, for the memory-device commands:
 * object_add/object_del, device_add/device_del, qom-set/qom-get, info
 * memory-devices / memory_size_summary / memdev / mtree, and help.
 *
 * Replies are byte-identical to QEMU 10's where the recordings show them:
 * errors print as "Error: <message>\n" plus an optional hint; argument
 * errors print QEMU's usage line. `ok` is false for every error reply.
 */

import type { MachineDevices, MtreeRegion } from '../devices/machine.js';
import { QemuError } from '../devices/qemu-error.js';
import type { QomValue } from '../devices/qom.js';
import { parseDeviceOption, parseObjectOption } from './qemu-opts.js';
import { JsonVisitor, StringInputVisitor, parseJson } from './visitors.js';

export interface MonitorReply {
  readonly output: string;
  readonly ok: boolean;
}

/** A command's argument spec, in HMP's args_type letters: s word, S rest of line, O options, -x flag. */
interface HmpCommand {
  readonly name: string;
  readonly args: readonly {
    readonly key: string;
    readonly type: 's' | 'S' | 'O' | 'flag';
    readonly optional?: boolean;
  }[];
  readonly params: string;
  readonly help: string;
  readonly run: (m: MachineDevices, a: ReadonlyMap<string, string>, cpu: MonitorCpu | undefined) => string;
}

/** What the monitor asks of the CPU (hart 0) for gva2gpa and info mem. */
export interface MonitorCpu {
  /** The guest-physical address hart 0's MMU gives for a virtual address, or undefined when unmapped. */
  gva2gpa(va: bigint): bigint | undefined;
  /** The page-table dump of `info mem` (header included). */
  memInfo(): string;
}

/** HMP's target-long expression: hex with 0x, octal with 0, else decimal. */
function parseTargetLong(text: string): bigint {
  const t = text.trim();
  if (/^0[xX][0-9a-fA-F]+$/.test(t)) return BigInt(t);
  if (/^0[0-7]*$/.test(t)) return t.length > 1 ? BigInt('0o' + t.slice(1)) : 0n;
  if (/^[1-9][0-9]*$/.test(t)) return BigInt(t);
  throw new QemuError(`invalid char '${t.replace(/^[0-9a-fA-Fx]*/, '')[0] ?? t[0]}' in expression`);
}

const INFO_COMMANDS: readonly HmpCommand[] = [
  {
    name: 'memdev',
    args: [],
    params: '',
    help: 'show memory backends',
    run: (m) => formatMemdev(m),
  },
  {
    name: 'memory-devices',
    args: [],
    params: '',
    help: 'show memory devices',
    run: (m) => formatMemoryDevices(m),
  },
  {
    name: 'memory_size_summary',
    args: [],
    params: '',
    help: 'show the amount of initially allocated and present hotpluggable (if enabled) memory in bytes.',
    run: (m) => formatMemorySizeSummary(m),
  },
  {
    name: 'mem',
    args: [],
    params: '',
    help: 'show the active virtual memory mappings',
    run: (_m, _a, cpu) => (cpu ? cpu.memInfo() : 'No CPU available\n'),
  },
  {
    name: 'mtree',
    args: [],
    params: '[-f][-d][-o][-D]',
    help: 'show memory tree (-f: dump flat view for address spaces;-d: dump dispatch tree, valid with -f only);-o: dump region owners/parents;-D: dump disabled regions',
    run: (m) => formatMtree(m),
  },
];

const COMMANDS: readonly HmpCommand[] = [
  {
    name: 'device_add',
    args: [{ key: 'device', type: 'O' }],
    params: 'driver[,prop=value][,...]',
    help: 'add device, like -device on the command line',
    run: (m, a) => {
      m.deviceAdd(parseDeviceOption(a.get('device') ?? ''), true);
      return '';
    },
  },
  {
    name: 'device_del',
    args: [{ key: 'id', type: 's' }],
    params: 'device',
    help: 'remove device',
    run: (m, a) => {
      m.deviceDel(a.get('id')!);
      return '';
    },
  },
  {
    name: 'gva2gpa',
    args: [{ key: 'addr', type: 'S' }],
    params: 'addr',
    help: 'print the guest physical address corresponding to a guest virtual address',
    run: (_m, a, cpu) => {
      const va = parseTargetLong(a.get('addr')!);
      const gpa = cpu?.gva2gpa(va);
      if (gpa === undefined) return 'Unmapped\n';
      return `gpa: 0x${gpa.toString(16)}\n`;
    },
  },
  {
    name: 'help|?',
    args: [{ key: 'name', type: 'S', optional: true }],
    params: '[cmd]',
    help: 'show the help',
    run: (_m, a) => helpText(a.get('name')),
  },
  {
    name: 'info',
    args: [{ key: 'item', type: 's', optional: true }],
    params: '[subcommand]',
    help: 'show various information about the system state',
    run: () => helpText('info'),
  },
  {
    name: 'object_add',
    args: [{ key: 'object', type: 'S' }],
    params: '[qom-type=]type,id=str[,prop=value][,...]',
    help: 'create QOM object',
    run: (m, a) => {
      m.objectAdd(parseObjectOption(a.get('object')!));
      return '';
    },
  },
  {
    name: 'object_del',
    args: [{ key: 'id', type: 's' }],
    params: 'id',
    help: 'destroy QOM object',
    run: (m, a) => {
      m.objectDel(a.get('id')!);
      return '';
    },
  },
  {
    name: 'qom-get',
    args: [
      { key: 'path', type: 's' },
      { key: 'property', type: 's' },
    ],
    params: 'path property',
    help: 'print QOM property',
    run: (m, a) => `${toJsonPretty(m.qomGet(a.get('path')!, a.get('property')!), 0)}\n`,
  },
  {
    name: 'qom-set',
    args: [
      { key: 'json', type: 'flag' },
      { key: 'path', type: 's' },
      { key: 'property', type: 's' },
      { key: 'value', type: 'S' },
    ],
    params: '[-j] path property value',
    help: 'set QOM property.\n\t\t\t-j: the value is specified in json format.',
    run: (m, a) => {
      const value = a.get('value')!;
      const v = a.has('json') ? new JsonVisitor(parseJson(value)) : new StringInputVisitor(value);
      m.qomSet(a.get('path')!, a.get('property')!, v);
      return '';
    },
  },
];

function findCommand(table: readonly HmpCommand[], name: string): HmpCommand | undefined {
  return table.find((c) => c.name.split('|').includes(name));
}

function helpLines(table: readonly HmpCommand[], prefix: string): string {
  return [...table]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((c) => `${prefix}${c.name} ${c.params} -- ${c.help}\n`)
    .join('');
}

function helpText(name: string | undefined): string {
  if (name === undefined || name === '') return helpLines(COMMANDS, '');
  const words = name.trim().split(/\s+/);
  if (words[0] === 'info') {
    if (words.length === 1) return helpLines(INFO_COMMANDS, 'info ');
    const sub = findCommand(INFO_COMMANDS, words[1]!);
    return sub ? helpLines([sub], 'info ') : `unknown command: 'info ${words[1]}'\n`;
  }
  const cmd = findCommand(COMMANDS, words[0]!);
  return cmd ? helpLines([cmd], '') : `unknown command: '${words[0]}'\n`;
}

/** HMP's get_str(): a word, or a double-quoted string with \n \r \\ \' \" escapes. */
function getStr(line: string, pos: number): { value: string; next: number } | { error: string } | undefined {
  let p = pos;
  while (p < line.length && /\s/.test(line[p]!)) p++;
  if (p >= line.length) return undefined;
  if (line[p] === '"') {
    p++;
    let value = '';
    while (p < line.length && line[p] !== '"') {
      if (line[p] === '\\') {
        const c = line[p + 1];
        p += 2;
        if (c === 'n') value += '\n';
        else if (c === 'r') value += '\r';
        else if (c === '\\' || c === "'" || c === '"') value += c;
        else return { error: `unsupported escape code: '\\${c ?? ''}'\n` };
      } else {
        value += line[p++];
      }
    }
    if (line[p] !== '"') return { error: 'unterminated string\n' };
    return { value, next: p + 1 };
  }
  let q = p;
  while (q < line.length && !/\s/.test(line[q]!)) q++;
  return { value: line.slice(p, q), next: q };
}

export class Monitor {
  constructor(
    readonly machine: MachineDevices,
    readonly cpu?: MonitorCpu,
  ) {}

  /** Runs one monitor line and returns QEMU's reply. */
  execute(line: string): MonitorReply {
    const text = line.replace(/\s+$/, '');
    let p = 0;
    while (p < text.length && /\s/.test(text[p]!)) p++;
    if (p >= text.length) return { output: '', ok: true };
    const start = p;
    let table = COMMANDS;
    let cmd: HmpCommand | undefined;
    for (;;) {
      const nameStart = p;
      while (p < text.length && text[p] !== '/' && !/\s/.test(text[p]!)) p++;
      const name = text.slice(nameStart, p);
      cmd = findCommand(table, name);
      if (!cmd) return { output: `unknown command: '${text.slice(start, p)}'\n`, ok: false };
      if (cmd.name !== 'info') break;
      // `info` has sub-commands; without one it lists them.
      while (p < text.length && /\s/.test(text[p]!)) p++;
      if (p >= text.length) return { output: helpText('info'), ok: true };
      table = INFO_COMMANDS;
    }
    // QEMU's usage hint names the command as typed, up to its last name word.
    const usage = `Try "help ${text.slice(start, p)}" for more information\n`;
    const args = new Map<string, string>();
    const fail = (msg: string): MonitorReply => ({ output: msg + usage, ok: false });
    for (const a of cmd.args) {
      if (a.type === 'flag') {
        const m = /^\s*-(\S)(?=\s|$)/.exec(text.slice(p));
        if (m) {
          if (m[1] !== a.key[0]) return fail(`${cmd.name}: unsupported option -${m[1]}\n`);
          args.set(a.key, 'on');
          p += m[0].length;
        }
        continue;
      }
      if (a.type === 'S' || a.type === 'O') {
        while (p < text.length && /\s/.test(text[p]!)) p++;
        if (p >= text.length) {
          if (a.optional || a.type === 'O') continue;
          return fail(`${cmd.name}: string expected\n`);
        }
        const rest = text.slice(p);
        if (a.type === 'O') {
          const r = getStr(text, p);
          if (r && 'error' in r) return fail(r.error);
          if (r) {
            // QemuOpts syntax is checked while arguments are parsed: its errors get the usage line.
            try {
              parseDeviceOption(r.value);
            } catch (e) {
              if (!(e instanceof QemuError)) throw e;
              return fail(`${e.message}\n${e.hint ?? ''}`);
            }
            args.set(a.key, r.value);
            p = r.next;
          }
        } else {
          args.set(a.key, rest);
          p = text.length;
        }
        continue;
      }
      const r = getStr(text, p);
      if (!r) {
        if (a.optional) continue;
        return fail(`${cmd.name}: string expected\n`);
      }
      if ('error' in r) return fail(r.error);
      args.set(a.key, r.value);
      p = r.next;
    }
    while (p < text.length && /\s/.test(text[p]!)) p++;
    if (p < text.length) return fail(`${cmd.name}: extraneous characters at the end of line\n`);
    try {
      return { output: cmd.run(this.machine, args, this.cpu), ok: true };
    } catch (e) {
      if (!(e instanceof QemuError)) throw e;
      return { output: `Error: ${e.message}\n${e.hint ?? ''}`, ok: false };
    }
  }
}

// ---- info output ---------------------------------------------------------------

export function formatMemoryDevices(m: MachineDevices): string {
  let out = '';
  for (const info of m.memoryDeviceInfo()) {
    if (info.type === 'dimm') {
      const d = info.data;
      out +=
        `Memory device [dimm]: "${d.id ?? ''}"\n` +
        `  addr: 0x${d.addr.toString(16)}\n` +
        `  slot: ${d.slot}\n` +
        `  node: ${d.node}\n` +
        `  size: ${d.size}\n` +
        `  memdev: ${d.memdev}\n` +
        `  hotplugged: ${d.hotplugged}\n` +
        `  hotpluggable: ${d.hotpluggable}\n`;
    } else {
      const d = info.data;
      out +=
        `Memory device [virtio-mem]: "${d.id ?? ''}"\n` +
        `  memaddr: 0x${d.memaddr.toString(16)}\n` +
        `  node: ${d.node}\n` +
        `  requested-size: ${d.requestedSize}\n` +
        `  size: ${d.size}\n` +
        `  max-size: ${d.maxSize}\n` +
        `  block-size: ${d.blockSize}\n` +
        `  memdev: ${d.memdev}\n`;
    }
  }
  return out;
}

export function formatMemorySizeSummary(m: MachineDevices): string {
  const s = m.memorySizeSummary();
  let out = `base memory: ${s.baseMemory}\n`;
  if (s.pluggedMemory !== undefined) out += `plugged memory: ${s.pluggedMemory}\n`;
  return out;
}

export function formatMemdev(m: MachineDevices): string {
  let out = '';
  for (const b of m.memdevs()) {
    out +=
      `memory backend: ${b.id}\n` +
      `  size:  ${b.size}\n` +
      `  merge: ${b.merge}\n` +
      `  dump: ${b.dump}\n` +
      `  prealloc: ${b.prealloc}\n` +
      `  share: ${b.share}\n` +
      `  reserve: ${b.reserve}\n` +
      `  policy: ${b.policy}\n` +
      `  host nodes: ${b.hostNodes.join(',')}\n`;
  }
  return `${out}\n`;
}

const hex16 = (v: bigint): string => v.toString(16).padStart(16, '0');

function mtreeLines(r: MtreeRegion, base: bigint, level: number): string {
  const start = base + r.addr;
  const end = start + r.size - 1n;
  let out = `${'  '.repeat(level)}${hex16(start)}-${hex16(end)} (prio ${r.priority}, ${r.kind}): ${r.name}\n`;
  // Subregions print in address order (then higher priority first).
  const kids = [...r.children].sort((a, b) =>
    a.addr < b.addr ? -1 : a.addr > b.addr ? 1 : b.priority - a.priority,
  );
  for (const c of kids) out += mtreeLines(c, start, level + 1);
  return out;
}

/**
 * `info mtree`, limited to what the model has: the system address space
 * (every hart's and the "memory" one) with boot RAM and device memory, and
 * the device-memory address space. The board's MMIO regions are left out.
 */
export function formatMtree(m: MachineDevices): string {
  const root = m.memoryTree();
  let out = '';
  for (let i = 0; i < m.smp; i++) out += `address-space: cpu-memory-${i}\n`;
  out += `address-space: memory\n${mtreeLines(root, 0n, 1)}\n`;
  const dm = root.children.find((c) => c.name === 'device-memory');
  if (dm) out += `address-space: device-memory\n${mtreeLines({ ...dm, addr: 0n }, 0n, 1)}\n`;
  return out;
}

/** qobject_to_json_pretty() of a property value, as qom-get prints it. */
export function toJsonPretty(v: QomValue, indent: number): string {
  if (typeof v === 'bigint' || typeof v === 'number') return v.toString();
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  const pad = '    ';
  let s = '[';
  v.forEach((e, i) => {
    s += `${i ? ',' : ''}\n${pad.repeat(indent + 1)}${toJsonPretty(e, indent + 1)}`;
  });
  return `${s}\n${pad.repeat(indent)}]`;
}
