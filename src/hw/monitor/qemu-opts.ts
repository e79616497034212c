/**
 * QEMU's option syntaxes and the command line that builds the machine:
 *
 * - QemuOpts (util/qemu-option.c) for -m, -smp, -device and HMP device_add:
 *   `value,key=value,...`, ",," for a literal comma, a bare key as a flag.
 * - keyval (util/keyval.c) plus the QAPI ObjectOptions visit for -object and
 *   HMP object_add.
 * - QDict order: QEMU hands device properties over in a QDict and sets them
 *   in its hash order, which decides which bad property is reported first.
 *
 * Errors carry QEMU's text; start-up errors are whole lines as
 * qemu-system-riscv64 prints them ("qemu-system-riscv64: -device ...: ...").
 */

import { GHashTable } from '../devices/ghash.js';
import { HOST_MEM_POLICIES, type HostMemPolicy, type MemoryBackendOptions } from '../devices/hostmem.js';
import type { DeviceOption, MachineConfig, ObjectOption } from '../devices/machine-config.js';
import { VIRT_DEFAULT_RAM_SIZE } from '../devices/machine-config.js';
import { MachineDevices, type MachineDevicesOptions, StartupError } from '../devices/machine.js';
import { QemuError, hex } from '../devices/qemu-error.js';
import { ID_HINT, idWellformed } from '../devices/qom.js';
import type { PhysMem } from '../physmem.js';
import {
  legacyRamSizeText,
  parseKeyvalSize,
  parseOptionSize,
  qemuStrtosz,
  qemuStrtou64,
} from './qemu-size.js';
import { KeyvalVisitor, parseBool } from './visitors.js';

export const PROG = 'qemu-system-riscv64';

// ---- QDict ------------------------------------------------------------------

const QDICT_BUCKET_MAX = 512;

/** tdb_hash(), QDict's hash function. */
export function tdbHash(name: string): number {
  const bytes = new TextEncoder().encode(name);
  let value = Math.imul(0x238f13af, bytes.length) >>> 0;
  bytes.forEach((c, i) => {
    value = (value + ((c << ((i * 5) % 24)) >>> 0)) >>> 0;
  });
  return (Math.imul(1103515243, value) + 12345) >>> 0;
}

/** A QDict of strings: 512 buckets, new keys go to the head of their bucket. */
export class QDict {
  private readonly buckets: [string, string][][] = Array.from({ length: QDICT_BUCKET_MAX }, () => []);

  put(key: string, value: string): void {
    const b = this.buckets[tdbHash(key) % QDICT_BUCKET_MAX]!;
    const e = b.find(([k]) => k === key);
    if (e) e[1] = value;
    else b.unshift([key, value]);
  }

  get(key: string): string | undefined {
    return this.buckets[tdbHash(key) % QDICT_BUCKET_MAX]!.find(([k]) => k === key)?.[1];
  }

  delete(key: string): void {
    const b = this.buckets[tdbHash(key) % QDICT_BUCKET_MAX]!;
    const i = b.findIndex(([k]) => k === key);
    if (i >= 0) b.splice(i, 1);
  }

  /** qdict_first/qdict_next order. */
  entries(): [string, string][] {
    return this.buckets.flatMap((b) => b.map(([k, v]): [string, string] => [k, v]));
  }

  /** qdict_clone_shallow(): re-inserting in iteration order reverses collisions within a bucket. */
  clone(): QDict {
    const c = new QDict();
    for (const [k, v] of this.entries()) c.put(k, v);
    return c;
  }
}

// ---- QemuOpts ---------------------------------------------------------------

export interface QemuOptsDesc {
  readonly name: string;
  readonly type: 'size' | 'number' | 'string';
}

export interface ParsedQemuOpts {
  readonly id: string | undefined;
  /** name/value pairs in the order given (the implied first option included). */
  readonly opts: readonly (readonly [string, string])[];
}

/** get_opt_value(): up to the next single comma; ",," is a comma. */
function getOptValue(s: string, pos: number): { value: string; next: number } {
  let value = '';
  for (;;) {
    let comma = s.indexOf(',', pos);
    if (comma < 0) comma = s.length;
    if (s[comma] === ',' && s[comma + 1] === ',') {
      value += s.slice(pos, comma + 1);
      pos = comma + 2;
      continue;
    }
    value += s.slice(pos, comma);
    return { value, next: comma };
  }
}

function splitQemuOpts(params: string, firstname: string | undefined): [string, string][] {
  const out: [string, string][] = [];
  let p = 0;
  let first = firstname;
  while (p < params.length) {
    const rest = params.slice(p);
    const m = /[=,]/.exec(rest);
    const len = m ? m.index : rest.length;
    let name: string;
    let value: string;
    if (rest[len] !== '=') {
      if (first !== undefined) {
        name = first;
        const v = getOptValue(params, p);
        value = v.value;
        p = v.next;
      } else {
        // A bare key is a flag; "noX" turns X off (QEMU also warns that the short form is deprecated).
        name = rest.slice(0, len);
        value = 'on';
        if (name.startsWith('no') && name !== 'no') {
          name = name.slice(2);
          value = 'off';
        }
        p += len;
      }
    } else {
      name = rest.slice(0, len);
      const v = getOptValue(params, p + len + 1);
      value = v.value;
      p = v.next;
    }
    if (params[p] === ',') p++;
    first = undefined;
    out.push([name, value]);
  }
  return out;
}

/**
 * qemu_opts_parse(): the id first (it must be an identifier), then every
 * option checked against `desc` when the list has one.
 */
export function parseQemuOpts(
  params: string,
  firstname: string | undefined,
  desc?: readonly QemuOptsDesc[],
): ParsedQemuOpts {
  const all = splitQemuOpts(params, firstname);
  const idOpt = all.find(([n]) => n === 'id');
  const id = idOpt?.[1];
  if (id !== undefined && !idWellformed(id))
    throw new QemuError("Parameter 'id' expects an identifier", ID_HINT);
  const opts = all.filter(([n]) => n !== 'id');
  if (desc) {
    for (const [name, value] of opts) {
      const d = desc.find((x) => x.name === name);
      if (!d) throw new QemuError(`Invalid parameter '${name}'`);
      if (d.type === 'size') parseOptionSize(name, value);
      else if (d.type === 'number' && !qemuStrtou64(value).ok) {
        throw new QemuError(`Parameter '${name}' expects a number`);
      }
    }
  }
  return { id, opts };
}

/** The option text of -device / HMP device_add, as QEMU hands it to qdev_device_add. */
export function parseDeviceOption(text: string): DeviceOption {
  const parsed = parseQemuOpts(text, 'driver');
  const dict = new QDict();
  if (parsed.id !== undefined) dict.put('id', parsed.id);
  for (const [k, v] of parsed.opts) dict.put(k, v);
  const props = dict.clone();
  for (const k of ['driver', 'bus', 'id']) props.delete(k);
  return {
    driver: dict.get('driver'),
    id: parsed.id,
    bus: dict.get('bus'),
    props: props.entries().map(([name, value]) => ({ name, value, visitor: new KeyvalVisitor(value) })),
    text,
  };
}

// ---- keyval and the QAPI ObjectOptions visit -----------------------------------

const KEY_RE = /^[A-Za-z][A-Za-z0-9_-]*$/;

/** keyval_parse() with an implied first key; values keep ",," escapes resolved. */
export function keyvalParse(params: string, impliedKey: string | undefined): QDict {
  const dict = new QDict();
  let p = 0;
  let implied = impliedKey;
  while (p < params.length) {
    const rest = params.slice(p);
    const m = /[=,]/.exec(rest);
    const len = m ? m.index : rest.length;
    if (len > 0 && rest[len] !== '=' && implied !== undefined) {
      // The implied key's value cannot contain a comma.
      dict.put(implied, rest.slice(0, len));
      p += len;
      if (params[p] === ',') p++;
      implied = undefined;
      continue;
    }
    implied = undefined;
    const key = rest.slice(0, len);
    if (!key.split('.').every((f) => KEY_RE.test(f))) throw new QemuError(`Invalid parameter '${key}'`);
    if (rest[len] !== '=') throw new QemuError(`Expected '=' after parameter '${key}'`);
    const v = getOptValue(params, p + len + 1);
    dict.put(key, v.value);
    p = v.next;
    if (params[p] === ',') p++;
  }
  return dict;
}

/** QOM types QEMU 10 accepts as qom-type (ObjectType); only memory-backend-ram is modelled. */
const OBJECT_TYPES = new Set([
  'authz-list',
  'authz-listfile',
  'authz-pam',
  'authz-simple',
  'can-bus',
  'colo-compare',
  'cryptodev-backend',
  'cryptodev-backend-builtin',
  'dbus-vmstate',
  'filter-buffer',
  'filter-dump',
  'filter-mirror',
  'filter-redirector',
  'filter-replay',
  'filter-rewriter',
  'input-barrier',
  'input-linux',
  'iommufd',
  'iothread',
  'main-loop',
  'memory-backend-file',
  'memory-backend-memfd',
  'memory-backend-ram',
  'memory-backend-shm',
  'pr-manager-helper',
  'qtest',
  'rng-builtin',
  'rng-egd',
  'rng-random',
  'secret',
  'secret_keyring',
  'thread-context',
  'throttle-group',
  'tls-creds-anon',
  'tls-creds-psk',
  'tls-creds-x509',
  'tls-cipher-suites',
]);

/** user_creatable_add_from_str()'s parse and QAPI visit, for memory-backend-ram. */
export function parseObjectOption(text: string): MemoryBackendOptions {
  const dict = keyvalParse(text, 'qom-type');
  // The visitor tracks unvisited keys in a GHashTable; the first one left over is reported.
  const unvisited = new GHashTable<true>();
  for (const [k] of dict.entries()) unvisited.set(k, true);
  const take = (k: string): string | undefined => {
    const v = dict.get(k);
    if (v !== undefined) unvisited.delete(k);
    return v;
  };
  const missing = (k: string) => new QemuError(`Parameter '${k}' is missing`);
  const qomType = take('qom-type');
  if (qomType === undefined) throw missing('qom-type');
  if (!OBJECT_TYPES.has(qomType))
    throw new QemuError(`Parameter 'qom-type' does not accept value '${qomType}'`);
  if (qomType !== 'memory-backend-ram') {
    throw new QemuError(
      `riscv-hotplug: object type '${qomType}' is not modelled (only memory-backend-ram is)`,
    );
  }
  const id = take('id');
  if (id === undefined) throw missing('id');
  const bool = (k: string): boolean | undefined => {
    const v = take(k);
    return v === undefined ? undefined : parseBool(k, v);
  };
  // MemoryBackendProperties, in schema order.
  const dump = bool('dump');
  const merge = bool('merge');
  const policyText = take('policy');
  if (policyText !== undefined && !HOST_MEM_POLICIES.includes(policyText as HostMemPolicy)) {
    throw new QemuError(`Parameter 'policy' does not accept value '${policyText}'`);
  }
  const prealloc = bool('prealloc');
  const threads = take('prealloc-threads');
  if (threads !== undefined) new KeyvalVisitor(threads).uint32('prealloc-threads');
  take('prealloc-context');
  const share = bool('share');
  const reserve = bool('reserve');
  const sizeText = take('size');
  if (sizeText === undefined) throw missing('size');
  const size = parseKeyvalSize('size', sizeText);
  bool('x-use-canonical-path-for-ramblock-id');
  const [left] = unvisited.entries();
  if (left) throw new QemuError(`Parameter '${left[0]}' is unexpected`);
  const o: { -readonly [K in keyof MemoryBackendOptions]: MemoryBackendOptions[K] } = { id, size };
  if (dump !== undefined) o.dump = dump;
  if (merge !== undefined) o.merge = merge;
  if (policyText !== undefined) o.policy = policyText as HostMemPolicy;
  if (prealloc !== undefined) o.prealloc = prealloc;
  if (share !== undefined) o.share = share;
  if (reserve !== undefined) o.reserve = reserve;
  return o;
}

// ---- The command line ------------------------------------------------------------

export interface QemuCommandLine {
  /** The argument of -m. */
  readonly memory?: string;
  /** The argument of -smp. */
  readonly smp?: string;
  /** Arguments of -object, in order. */
  readonly objects?: readonly string[];
  /** Arguments of -device, in order. */
  readonly devices?: readonly string[];
}

export type ConfigResult =
  | { readonly ok: true; readonly config: MachineConfig; readonly warnings: readonly string[] }
  | { readonly ok: false; readonly error: string };

const MEMORY_OPTS: readonly QemuOptsDesc[] = [
  { name: 'size', type: 'size' },
  { name: 'slots', type: 'number' },
  { name: 'maxmem', type: 'size' },
];

/** -smp's parameters, in QEMU's order. */
const SMP_PARTS = [
  'cpus',
  'drawers',
  'books',
  'sockets',
  'dies',
  'clusters',
  'modules',
  'cores',
  'threads',
  'maxcpus',
] as const;

const SMP_OPTS: readonly QemuOptsDesc[] = SMP_PARTS.map((name) => ({ name, type: 'number' as const }));

/** The RISC-V virt machine's -smp limit (VIRT_CPUS_MAX). */
const VIRT_CPUS_MAX = 512;

function line(location: string | undefined, e: QemuError): string {
  return `${PROG}: ${location === undefined ? '' : `${location}: `}${e.message}\n${e.hint ?? ''}`;
}

/** A QEMU_OPT_NUMBER value (already validated by parseQemuOpts). */
function optNumber(text: string): number {
  const r = qemuStrtou64(text);
  return r.ok ? Number(r.value) : 0;
}

function parseMemory(text: string): { ramSize: bigint; maxRamSize: bigint; ramSlots: number } {
  const { opts } = parseQemuOpts(text, 'size', MEMORY_OPTS);
  const last = (k: string) => opts.filter(([n]) => n === k).at(-1)?.[1];
  const sizeOpt = last('size');
  let size = VIRT_DEFAULT_RAM_SIZE;
  if (sizeOpt !== undefined && parseOptionSize('size', sizeOpt) !== 0n) {
    // Fix up the legacy suffix-less format, then the machine property parses it again.
    const r = qemuStrtosz(legacyRamSizeText(sizeOpt));
    if (!r.ok) throw new QemuError("Parameter 'memory.size' expects size");
    size = r.value;
  }
  size = ((size + 8191n) / 8192n) * 8192n;
  const maxText = last('maxmem');
  const slotsText = last('slots');
  const slots = slotsText === undefined ? undefined : optNumber(slotsText);
  let max = size;
  if (maxText !== undefined) {
    max = parseKeyvalSize('memory.max-size', maxText);
    if (max < size) {
      throw new QemuError(
        `invalid value of maxmem: maximum memory size (0x${hex(max)}) must be at least the initial memory size (0x${hex(size)})`,
      );
    }
    if (slots && max === size) {
      throw new QemuError(
        `invalid value of maxmem: memory slots were specified but maximum memory size (0x${hex(max)}) is equal to the initial memory size (0x${hex(size)})`,
      );
    }
  } else if (slots !== undefined) {
    throw new QemuError('slots specified but no max-size');
  }
  return { ramSize: size, maxRamSize: max, ramSlots: slots ?? 0 };
}

/**
 * machine_parse_smp_config() for the virt board, which knows sockets, cores and
 * threads only. QEMU 7.2 warns about explicit zeros and treats them as omitted;
 * QEMU 9.0 and later refuse them. Missing values: cores over sockets (since 6.2).
 */
function parseSmp(text: string, qemu10: boolean, warnings: string[]): number {
  const { opts } = parseQemuOpts(text, 'cpus', SMP_OPTS);
  const given = (k: string): string | undefined => opts.filter(([n]) => n === k).at(-1)?.[1];
  const get = (k: string): number => {
    const v = given(k);
    return v === undefined ? 0 : optNumber(v);
  };
  if (SMP_PARTS.some((k) => given(k) !== undefined && get(k) === 0)) {
    const why = 'CPU topology parameters must be greater than zero';
    if (qemu10) throw new QemuError(`Invalid CPU topology: ${why}`);
    warnings.push(`${PROG}: warning: Deprecated CPU topology (considered invalid): ${why}`);
  }
  for (const k of ['modules', 'clusters', 'dies', 'books', 'drawers']) {
    if (get(k) > 1)
      throw new QemuError(
        qemu10
          ? `${k} > 1 not supported by this machine's CPU topology`
          : `${k} not supported by this machine's CPU topology`,
      );
  }
  let cpus = get('cpus');
  let maxcpus = get('maxcpus');
  let sockets = get('sockets');
  let cores = get('cores');
  let threads = get('threads');
  if (cpus === 0 && maxcpus === 0) {
    sockets ||= 1;
    cores ||= 1;
    threads ||= 1;
  } else {
    maxcpus ||= cpus;
    sockets ||= 1;
    threads ||= 1;
    cores ||= Math.floor(maxcpus / (sockets * threads));
  }
  const total = sockets * cores * threads;
  maxcpus ||= total;
  cpus ||= maxcpus;
  const topo = `sockets (${sockets}) * cores (${cores}) * threads (${threads})`;
  if (total !== maxcpus)
    throw new QemuError(
      `Invalid CPU topology: product of the hierarchy must match maxcpus: ${topo} != maxcpus (${maxcpus})`,
    );
  if (maxcpus < cpus)
    throw new QemuError(
      `Invalid CPU topology: maxcpus must be equal to or greater than smp: ${topo} == maxcpus (${maxcpus}) < smp_cpus (${cpus})`,
    );
  if (maxcpus > VIRT_CPUS_MAX) {
    throw new QemuError(
      `Invalid SMP CPUs ${maxcpus}. The max CPUs supported by machine 'virt' is ${VIRT_CPUS_MAX}`,
    );
  }
  return cpus;
}

/**
 * Parses -m, -smp, -object and -device into a machine configuration, or
 * returns the message QEMU prints (and exits with status 1 after).
 */
export function parseMachineConfig(cl: QemuCommandLine): ConfigResult {
  let memory = { ramSize: VIRT_DEFAULT_RAM_SIZE, maxRamSize: VIRT_DEFAULT_RAM_SIZE, ramSlots: 0 };
  let smp = 1;
  const objects: ObjectOption[] = [];
  const devices: DeviceOption[] = [];
  // Option syntax is checked while the command line is read, in order...
  for (const [flag, texts] of [
    ['-m', cl.memory === undefined ? [] : [cl.memory]],
    ['-smp', cl.smp === undefined ? [] : [cl.smp]],
    ['-object', cl.objects ?? []],
    ['-device', cl.devices ?? []],
  ] as const) {
    for (const text of texts) {
      try {
        if (flag === '-m') parseQemuOpts(text, 'size', MEMORY_OPTS);
        else if (flag === '-smp') parseQemuOpts(text, 'cpus', SMP_OPTS);
        else if (flag === '-object')
          objects.push({ qomType: 'memory-backend-ram', options: parseObjectOption(text), text });
        else devices.push(parseDeviceOption(text));
      } catch (e) {
        if (e instanceof QemuError) return { ok: false, error: line(`${flag} ${text}`, e) };
        throw e;
      }
    }
  }
  // ...the machine's memory and CPU properties are applied afterwards, with no location.
  const warnings: string[] = [];
  try {
    if (cl.memory !== undefined) memory = parseMemory(cl.memory);
    // Memory devices (or room for them) mean QEMU 10 with the RISC-V hotplug patch, else QEMU 7.2.
    const qemu10 = objects.length > 0 || devices.length > 0 || memory.maxRamSize > memory.ramSize;
    if (cl.smp !== undefined) smp = parseSmp(cl.smp, qemu10, warnings);
  } catch (e) {
    if (e instanceof QemuError) return { ok: false, error: line(undefined, e) };
    throw e;
  }
  return { ok: true, config: { ...memory, smp, numaNodes: 0, objects, devices }, warnings };
}

/** Picks -m, -smp, -object and -device out of a qemu-system argument list (other options are ignored). */
export function parseQemuArgs(argv: readonly string[]): ConfigResult {
  const cl: { memory?: string; smp?: string; objects: string[]; devices: string[] } = {
    objects: [],
    devices: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!.replace(/^--/, '-');
    const val = argv[i + 1];
    if (!['-m', '-smp', '-object', '-device'].includes(a)) continue;
    if (val === undefined) return { ok: false, error: `${PROG}: ${argv[i]}: requires an argument\n` };
    i++;
    if (a === '-m') cl.memory = val;
    else if (a === '-smp') cl.smp = val;
    else if (a === '-object') cl.objects.push(val);
    else cl.devices.push(val);
  }
  return parseMachineConfig(cl);
}

export type StartResult =
  | { readonly ok: true; readonly machine: MachineDevices; readonly config: MachineConfig }
  | { readonly ok: false; readonly error: string };

/**
 * Parses the command line and builds the devices over the board's physical
 * memory (the board has already mapped boot RAM). On failure `error` is what
 * QEMU prints before exiting with status 1.
 */
export function startMachine(
  cl: QemuCommandLine,
  physmem: PhysMem,
  opts: MachineDevicesOptions = {},
): StartResult {
  const parsed = parseMachineConfig(cl);
  if (!parsed.ok) return parsed;
  try {
    return { ok: true, machine: MachineDevices.create(parsed.config, physmem, opts), config: parsed.config };
  } catch (e) {
    if (e instanceof StartupError) return { ok: false, error: e.message };
    throw e;
  }
}
