/**
 * What a run is: the machine's QEMU options and the script. The form edits a MachineForm; the model
 * boots from the argv it gives, through the same parser as the command line.
 */

export interface MachineForm {
  /** -m, e.g. "4G,slots=4,maxmem=16G". */
  m: string;
  smp: string;
  /** -append: the kernel command line. */
  append: string;
  /** -object lines, one per entry. */
  objects: string[];
  /** -device lines, one per entry. */
  devices: string[];
}

/**
 * One run of a script. A later strategy option (`--strategy`) belongs here: the timeline view lays
 * runs out as columns, so comparing strategies is more than one RunSpec on the same script.
 */
export interface RunSpec {
  argv: string[];
  script: string[];
}

export function formToArgv(f: MachineForm): string[] {
  const argv = ['-m', f.m.trim(), '-smp', f.smp.trim() || '1'];
  if (f.append.trim()) argv.push('-append', f.append.trim());
  for (const o of f.objects) if (o.trim()) argv.push('-object', o.trim());
  for (const d of f.devices) if (d.trim()) argv.push('-device', d.trim());
  return argv;
}

/** The options as one would type them after `riscv-hotplug run` (quoted where a shell needs it). */
export function argvText(argv: string[]): string {
  return argv.map((a) => (/^[\w.,=:/@+-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}
