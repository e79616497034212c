/**
 * `ptwalk linear|vmemmap|va START END`: the test driver's page-table walk
 * (/sys/kernel/debug/hotplug_oracle/ptwalk) made readable. The debugfs file
 * prints what the real driver prints (its `%#lx` ends wrap to 0x0 at the top
 * of the address space, its flags are raw bits); this command shows ranges
 * with their last address and names the PTE bits.
 */
import type { CommandFn } from './shell.js';
import { errText } from './shell-commands.js';

const FILE = '/sys/kernel/debug/hotplug_oracle/ptwalk';
const MASK64 = (1n << 64n) - 1n;

/** The RISC-V PTE bits (privileged spec): V R W X U G A D, RSW, PBMT, N. */
export function decodePteFlags(flags: bigint): string {
  const names: Array<[number, string]> = [
    [0, 'V'],
    [1, 'R'],
    [2, 'W'],
    [3, 'X'],
    [4, 'U'],
    [5, 'G'],
    [6, 'A'],
    [7, 'D'],
  ];
  const out = names.filter(([b]) => (flags >> BigInt(b)) & 1n).map(([, n]) => n);
  const rsw = Number((flags >> 8n) & 3n);
  if (rsw) out.push(`RSW=${rsw}`);
  const pbmt = Number((flags >> 61n) & 3n);
  if (pbmt) out.push(['', 'NC', 'IO', 'PBMT=3'][pbmt]!);
  if ((flags >> 63n) & 1n) out.push('N');
  return out.join(' ');
}

/** `A-B` (B exclusive, 0x0 meaning 2^64) as `A..LAST`. */
function inclusive(a: string, b: string): string {
  const last = (BigInt(b) - 1n) & MASK64;
  return `${a}..0x${last.toString(16)}`;
}

export function formatPtwalk(text: string): string {
  return text
    .split('\n')
    .map((l) =>
      l
        .replace(
          /(va|pa)=(0x[0-9a-f]+)-(0x[0-9a-f]+)/g,
          (_m, k: string, a: string, b: string) => `${k}=${inclusive(a, b)}`,
        )
        .replace(/flags=(0x[0-9a-f]+)/, (_m, f: string) => `flags=${f} (${decodePteFlags(BigInt(f))})`),
    )
    .join('\n');
}

export const ptwalkCommand: CommandFn = ({ args, shell }) => {
  if (args.length !== 3 || !['linear', 'vmemmap', 'va'].includes(args[0]!))
    return { out: '', err: 'usage: ptwalk linear|vmemmap|va START END\n', status: 2 };
  try {
    shell.vfs.write(FILE, args.join(' '));
    return { out: formatPtwalk(shell.vfs.read(FILE)), err: '', status: 0 };
  } catch (e) {
    const { errno, text } = errText(e);
    return { out: '', err: `ptwalk: ${text}\n`, status: 1, errno };
  }
};
