/**
 * The kernel command line: the options that shape memory, parsed as the
 * kernel parses them (memparse for sizes, unknown words ignored).
 */
import { U64, kstrtobool, kstrtoull, simpleStrtoull } from '../lib/kstrtox.js';

export type OnlineType = 'offline' | 'online' | 'online_kernel' | 'online_movable';
export type OnlinePolicy = 'contig-zones' | 'auto-movable';

/** memmap_mode (mm/memory_hotplug.c): MEMMAP_ON_MEMORY_DISABLE, _ENABLE, _FORCE. */
export type MemmapMode = 'off' | 'on' | 'force';

export interface KernelCmdline {
  readonly raw: string;
  /** mem=: the smallest value given, page-aligned down, in bytes; undefined without mem=. */
  readonly memLimit: bigint | undefined;
  /** Each mem= value in order, page-aligned down (early_mem prints one line per value). */
  readonly memSizes: readonly bigint[];
  readonly no4lvl: boolean;
  readonly no5lvl: boolean;
  readonly memhpDefaultState: OnlineType | undefined;
  readonly memmapMode: MemmapMode;
  readonly onlinePolicy: OnlinePolicy;
  readonly autoMovableRatio: number;
  readonly autoMovableNumaAware: boolean;
  readonly movableNode: boolean;
}

const PAGE_MASK = U64 ^ 0xfffn;

const SUFFIX_SHIFT: Record<string, bigint> = { k: 10n, m: 20n, g: 30n, t: 40n, p: 50n, e: 60n };

/** memparse(): simple_strtoull base 0, then an optional K/M/G/T/P/E suffix; 0 when nothing parses. */
export function memparse(text: string): bigint {
  const { value, end } = simpleStrtoull(text);
  const shift = SUFFIX_SHIFT[text[end]?.toLowerCase() ?? ''];
  return shift === undefined ? value : (value << shift) & U64;
}

/** kstrtouint(s, 0): kstrtoull limited to 32 bits. */
function kstrtouint(v: string): number | undefined {
  const x = kstrtoull(v);
  return x === undefined || x > 0xffffffffn ? undefined : Number(x);
}

/** param_set_bool(): no value means true; a value kstrtobool refuses changes nothing. */
function paramBool(v: string | undefined): boolean | undefined {
  return kstrtobool(v ?? '1');
}

/** set_memmap_mode(): "force"/"FORCE" or a kstrtobool value; a missing value is refused (no NOARG flag). */
function memmapModeFrom(v: string | undefined): MemmapMode | undefined {
  if (v === undefined) return undefined;
  if (v === 'force' || v === 'FORCE') return 'force';
  const b = kstrtobool(v);
  return b === undefined ? undefined : b ? 'on' : 'off';
}

export function parseCmdline(raw: string): KernelCmdline {
  const memSizes: bigint[] = [];
  let memhpDefaultState: OnlineType | undefined;
  let memmapMode: MemmapMode = 'off';
  let onlinePolicy: OnlinePolicy = 'contig-zones';
  let autoMovableRatio = 301;
  let autoMovableNumaAware = true;
  let movableNode = false;
  for (const word of raw.split(/\s+/).filter(Boolean)) {
    const eq = word.indexOf('=');
    // parameq(): dashes and underscores in a parameter name are the same.
    const key = (eq < 0 ? word : word.slice(0, eq)).replace(/-/g, '_');
    const val = eq < 0 ? undefined : word.slice(eq + 1);
    switch (key) {
      case 'mem':
        if (val !== undefined) memSizes.push(memparse(val) & PAGE_MASK);
        break;
      case 'memhp_default_state':
        if (val === 'offline' || val === 'online' || val === 'online_kernel' || val === 'online_movable')
          memhpDefaultState = val;
        break;
      case 'memory_hotplug.memmap_on_memory':
        memmapMode = memmapModeFrom(val) ?? memmapMode;
        break;
      case 'memory_hotplug.online_policy':
        if (val === 'contig-zones' || val === 'auto-movable') onlinePolicy = val;
        break;
      case 'memory_hotplug.auto_movable_ratio': {
        const r = val === undefined ? undefined : kstrtouint(val);
        if (r !== undefined) autoMovableRatio = r;
        break;
      }
      case 'memory_hotplug.auto_movable_numa_aware':
        autoMovableNumaAware = paramBool(val) ?? autoMovableNumaAware;
        break;
      case 'movable_node':
        movableNode = true;
        break;
      default:
        // The kernel passes unknown words to init; they change nothing here.
        break;
    }
  }
  // early_mem() keeps the minimum of every mem=.
  const memLimit = memSizes.length ? memSizes.reduce((a, b) => (b < a ? b : a)) : undefined;
  return {
    raw,
    memLimit,
    memSizes,
    // match_noXlvl() looks for the text anywhere in the line (strstr).
    no4lvl: raw.includes('no4lvl'),
    no5lvl: raw.includes('no5lvl'),
    memhpDefaultState,
    memmapMode,
    onlinePolicy,
    autoMovableRatio,
    autoMovableNumaAware,
    movableNode,
  };
}
