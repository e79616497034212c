/**
 * A failing sequence as a script for `riscv-hotplug run`: comment lines say
 * where it came from, the command that replays it and what that command
 * does; then one line per operation.
 */
import { opLine, type FuzzOp } from './ops.js';
import type { Finding } from './runner.js';

/** The exit status `riscv-hotplug run --check` gives for a finding (the README's table). */
export function replayStatus(f: Finding): number {
  const first = f.invariants[0] ?? '';
  if (first.startsWith('kernel-crash:')) return 3;
  if (first === 'model-error') return 70;
  return 4;
}

/** A shell word for the replay command (the arguments hold spaces, e.g. -append's). */
export function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export interface ScriptSource {
  seed: number;
  index: number;
  strategy: string;
  /** The run options that make the same machine (-m, -smp, -append, -kernel, --strategy). */
  machineArgs: string[];
  /** Operations of the sequence before shrinking. */
  originalLength: number;
}

export function failureScript(
  ops: readonly FuzzOp[],
  finding: Finding,
  src: ScriptSource,
  file = 'THIS_FILE',
): string {
  const replay = ['riscv-hotplug', 'run', '--check', ...src.machineArgs, file].map(shellWord).join(' ');
  const status = replayStatus(finding);
  const lines = [
    `# riscv-hotplug fuzz: seed ${src.seed}, sequence ${src.index}, strategy ${src.strategy}: ` +
      `${finding.invariants.join(', ')} after operation ${finding.step + 1}` +
      (src.originalLength !== ops.length
        ? ` (shrunk from ${src.originalLength} operations to ${ops.length})`
        : ''),
    `# replay: ${replay}`,
    `# expect: exit status ${status}, at the last command`,
    ...finding.details.map((d) => `#   ${d}`),
    ...ops.map(opLine),
  ];
  return lines.join('\n') + '\n';
}
