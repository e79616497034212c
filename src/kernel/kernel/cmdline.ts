/**
 * The kernel command line: the options that shape memory, parsed as the
 * kernel parses them (memparse for sizes, unknown words ignored).
 */
export type OnlineType = 'offline' | 'online' | 'online_kernel' | 'online_movable';
export type OnlinePolicy = 'contig-zones' | 'auto-movable';

export interface KernelCmdline {
  readonly raw: string;
  /** mem=: bytes, or undefined. */
  readonly memLimit: bigint | undefined;
  readonly no4lvl: boolean;
  readonly no5lvl: boolean;
  readonly memhpDefaultState: OnlineType | undefined;
  readonly memmapOnMemory: boolean;
  readonly onlinePolicy: OnlinePolicy;
  readonly autoMovableRatio: number;
  readonly autoMovableNumaAware: boolean;
  readonly movableNode: boolean;
}

/** memparse(): a number (0x.., 0.., decimal) with an optional K/M/G/T/P/E suffix. */
export function memparse(text: string): bigint | undefined {
  const m = /^(0x[0-9a-f]+|0[0-7]*|[1-9][0-9]*)([kmgtpe]?)/i.exec(text);
  if (!m) return undefined;
  let v = BigInt(m[1]!.startsWith('0') && !m[1]!.startsWith('0x') && m[1]!.length > 1 ? '0o' + m[1]!.slice(1) : m[1]!);
  const shifts: Record<string, bigint> = { k: 10n, m: 20n, g: 30n, t: 40n, p: 50n, e: 60n };
  const suffix = m[2]!.toLowerCase();
  if (suffix) v <<= shifts[suffix]!;
  return v;
}

function parseBool(v: string | undefined): boolean | undefined {
  if (v === undefined || v === '') return true;
  if (/^(1|y|Y|on)/.test(v)) return true;
  if (/^(0|n|N|of)/.test(v)) return false;
  return undefined;
}

export function parseCmdline(raw: string): KernelCmdline {
  let memLimit: bigint | undefined;
  let no4lvl = false;
  let no5lvl = false;
  let memhpDefaultState: OnlineType | undefined;
  let memmapOnMemory = false;
  let onlinePolicy: OnlinePolicy = 'contig-zones';
  let autoMovableRatio = 301;
  let autoMovableNumaAware = true;
  let movableNode = false;
  for (const word of raw.split(/\s+/).filter(Boolean)) {
    const eq = word.indexOf('=');
    const key = eq < 0 ? word : word.slice(0, eq);
    const val = eq < 0 ? undefined : word.slice(eq + 1);
    switch (key) {
      case 'mem':
        if (val !== undefined) memLimit = memparse(val);
        break;
      case 'no4lvl':
        no4lvl = true;
        break;
      case 'no5lvl':
        no5lvl = true;
        break;
      case 'memhp_default_state':
        if (val === 'offline' || val === 'online' || val === 'online_kernel' || val === 'online_movable')
          memhpDefaultState = val;
        break;
      case 'memory_hotplug.memmap_on_memory': {
        const b = val === 'force' ? true : parseBool(val);
        if (b !== undefined) memmapOnMemory = b;
        break;
      }
      case 'memory_hotplug.online_policy':
        if (val === 'contig-zones' || val === 'auto-movable') onlinePolicy = val;
        break;
      case 'memory_hotplug.auto_movable_ratio':
        if (val !== undefined && /^\d+$/.test(val)) autoMovableRatio = Number(val);
        break;
      case 'memory_hotplug.auto_movable_numa_aware': {
        const b = parseBool(val);
        if (b !== undefined) autoMovableNumaAware = b;
        break;
      }
      case 'movable_node':
        movableNode = true;
        break;
      default:
        // The kernel passes unknown words to init; they change nothing here.
        break;
    }
  }
  return {
    raw,
    memLimit,
    no4lvl,
    no5lvl,
    memhpDefaultState,
    memmapOnMemory,
    onlinePolicy,
    autoMovableRatio,
    autoMovableNumaAware,
    movableNode,
  };
}
