/**
 * The command line, QEMU-style: the machine options people copy from blog
 * posts and test reports (-m, -smp, -append, -initrd, -object, -device)
 * plus the model's own (--json, --check, --sysroot, --strategy).
 */
import { DEFAULT_STRATEGY, STRATEGIES } from '../kernel/arch/strategies.js';

export class UsageError extends Error {
  /** Exit status: 2 for the model's own usage errors, 1 for QEMU's start-up refusals (as QEMU exits). */
  constructor(
    message: string,
    readonly status = 2,
  ) {
    super(message);
  }
}

export interface MachineOptions {
  /** -m as typed (QEMU's parser gives its errors); ramBytes/slots/maxmem are what it means. */
  memText: string;
  /** -smp as typed. */
  smpText: string;
  /** -m SIZE (bytes). */
  ramBytes: bigint;
  slots: number;
  /** maxmem=, bytes (equal to ramBytes when absent). */
  maxmem: bigint;
  smp: number;
  append: string;
  initrd: string | undefined;
  /** -kernel: a kernel profile's name (linux-6.12.117-virt-zdev) or a profile file; absent: chosen from the machine. */
  kernel?: string;
  objects: string[];
  devices: string[];
  /** --strategy: the architecture code the kernel is built with. */
  strategy: string;
}

/** --fail-alloc N (the N-th run-time page allocation fails) or --fail-alloc-after N (all after the first N). */
export interface FailAlloc {
  n: number;
  fromThenOn: boolean;
}

export interface RunOptions extends MachineOptions {
  /** Fault injection from the command line. */
  failAlloc: FailAlloc | undefined;
  json: boolean;
  check: boolean;
  sysroot: string | undefined;
  script: string | undefined;
}

export const DEFAULT_MACHINE = { m: '4G,slots=4,maxmem=16G', smp: 2 } as const;

const SUFFIX: Record<string, bigint> = {
  '': 1n << 20n,
  b: 1n,
  k: 1n << 10n,
  m: 1n << 20n,
  g: 1n << 30n,
  t: 1n << 40n,
  p: 1n << 50n,
  e: 1n << 60n,
};

/** QEMU's -m size: a plain number means MiB; suffixes K M G T (fractions allowed, e.g. 1.5G). */
export function parseMemSize(text: string, what = '-m'): bigint {
  const m = /^(\d+(?:\.\d+)?)([bkmgtpe]?)$/i.exec(text.trim());
  if (!m) throw new UsageError(`qemu-system-riscv64: ${what}: invalid size '${text}'`);
  const unit = SUFFIX[m[2]!.toLowerCase()]!;
  const [int, frac = ''] = m[1]!.split('.');
  const scale = 10n ** BigInt(frac.length);
  const v = (BigInt(int! + frac) * unit) / scale;
  return v;
}

export function parseMemOption(value: string): { ramBytes: bigint; slots: number; maxmem: bigint } {
  const parts = value.split(',');
  let size: bigint | undefined;
  let slots = 0;
  let maxmem: bigint | undefined;
  for (const p of parts) {
    const eq = p.indexOf('=');
    if (eq < 0 && size === undefined) {
      size = parseMemSize(p);
    } else if (p.startsWith('size=')) {
      size = parseMemSize(p.slice(5));
    } else if (p.startsWith('slots=')) {
      slots = Number(p.slice(6));
      if (!Number.isInteger(slots) || slots < 0)
        throw new UsageError(`qemu-system-riscv64: -m: invalid slots '${p.slice(6)}'`);
    } else if (p.startsWith('maxmem=')) {
      maxmem = parseMemSize(p.slice(7), 'maxmem');
    } else {
      throw new UsageError(`qemu-system-riscv64: -m ${value}: Invalid parameter '${p.split('=')[0]}'`);
    }
  }
  if (size === undefined) throw new UsageError(`qemu-system-riscv64: -m ${value}: missing size`);
  if (size % 4096n !== 0n || size === 0n)
    throw new UsageError(`qemu-system-riscv64: -m ${value}: invalid RAM size`);
  if (maxmem !== undefined && maxmem < size) {
    throw new UsageError(
      `qemu-system-riscv64: invalid value of maxmem: maximum memory size (0x${maxmem.toString(16)}) must be at least the initial memory size (0x${size.toString(16)})`,
    );
  }
  return { ramBytes: size, slots, maxmem: maxmem ?? size };
}

/** Parses `run` arguments. Throws UsageError with a one-line message. */
export function parseRunArgs(argv: string[]): RunOptions {
  const o: RunOptions = {
    memText: DEFAULT_MACHINE.m,
    smpText: String(DEFAULT_MACHINE.smp),
    ...parseMemOption(DEFAULT_MACHINE.m),
    smp: DEFAULT_MACHINE.smp,
    append: '',
    initrd: undefined,
    objects: [],
    devices: [],
    failAlloc: undefined,
    json: false,
    check: false,
    strategy: DEFAULT_STRATEGY,
    sysroot: undefined,
    script: undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const val = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`qemu-system-riscv64: ${a}: requires an argument`);
      return v;
    };
    switch (a) {
      case '-m':
      case '--m': {
        const v = val();
        o.memText = v;
        // QEMU's own parser (at start-up) has the last word on -m; this is for the model's defaults.
        try {
          Object.assign(o, parseMemOption(v));
        } catch {
          /* reported by QEMU's parser */
        }
        break;
      }
      case '-smp':
      case '--smp': {
        const v = val();
        o.smpText = v;
        const n = Number(v.split(',')[0]!.replace(/^cpus=/, ''));
        if (Number.isInteger(n) && n >= 1) o.smp = n;
        break;
      }
      case '-append':
      case '--append':
        o.append = val();
        break;
      case '-initrd':
      case '--initrd':
        o.initrd = val();
        break;
      case '-object':
      case '--object':
        o.objects.push(val());
        break;
      case '-device':
      case '--device':
        o.devices.push(val());
        break;
      case '--json':
        o.json = true;
        break;
      case '--fail-alloc':
      case '--fail-alloc-after': {
        const v = argv[++i];
        const min = a === '--fail-alloc' ? 1 : 0;
        if (v === undefined || !/^\d+$/.test(v) || Number(v) < min || !Number.isSafeInteger(Number(v)))
          throw new UsageError(
            `riscv-hotplug: ${a}: '${v ?? ''}' is not a ${min ? 'positive' : 'non-negative'} allocation number`,
          );
        // --fail-alloc-after N: N allocations succeed, the (N+1)-th and every later one fail.
        o.failAlloc =
          a === '--fail-alloc' ? { n: Number(v), fromThenOn: false } : { n: Number(v) + 1, fromThenOn: true };
        break;
      }
      case '--check':
        o.check = true;
        break;
      case '--strategy': {
        const v = val();
        if (!STRATEGIES.has(v))
          throw new UsageError(
            `riscv-hotplug: unknown strategy '${v}' (one of: ${[...STRATEGIES.keys()].join(', ')})`,
          );
        o.strategy = v;
        break;
      }
      case '--sysroot':
        o.sysroot = val();
        break;
      case '-M':
      case '-machine': {
        const v = val();
        if (!/^virt(,|$)/.test(v))
          throw new UsageError(`qemu-system-riscv64: -M ${v}: only the virt machine is modelled`);
        break;
      }
      case '-nographic':
      case '-no-reboot':
        break;
      case '-bios':
        val();
        break;
      case '-kernel':
        o.kernel = val();
        break;
      default:
        if (a.startsWith('-') && a !== '-')
          throw new UsageError(`riscv-hotplug: unknown option '${a}' (see riscv-hotplug --help)`);
        if (o.script !== undefined)
          throw new UsageError(`riscv-hotplug: only one script may be given (got '${o.script}' and '${a}')`);
        o.script = a;
    }
  }
  return o;
}
