/**
 * The interactive session: a guest shell prompt over the model, and QEMU's
 * monitor behind `(qemu) ` lines or Ctrl-A C (as with -nographic), with
 * history and tab completion of guest paths and monitor commands.
 */
import * as readline from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { type Session, type LineResult } from '../session/session.js';
import { openSession } from './files.js';
import type { MachineOptions, RunOptions } from '../session/options.js';

const GUEST_COMMANDS = [
  'cat',
  'cd',
  'dmesg',
  'echo',
  'exit',
  'for',
  'grep',
  'head',
  'help',
  'ls',
  'memhog',
  'ptwalk',
  'pwd',
  'sort',
  'tail',
  'wc',
  'workload',
];
const MONITOR_COMMANDS = [
  'device_add',
  'device_del',
  'gva2gpa',
  'help',
  'info memdev',
  'info mem',
  'info memory-devices',
  'info memory_size_summary',
  'info mtree',
  'object_add',
  'object_del',
  'qom-get',
  'qom-set',
  'quit',
];

const GUEST_PROMPT = '~ # ';
const MUX_HELP = [
  'C-a h    print this help',
  'C-a x    exit emulator',
  'C-a s    save disk data back to file (if -snapshot)',
  'C-a t    toggle console timestamps',
  'C-a b    send break (magic sysrq)',
  'C-a c    switch between console and monitor',
  'C-a C-a  sends C-a',
]
  .map((l) => l + '\n')
  .join('');
const MONITOR_PROMPT = '(qemu) ';

export interface InteractiveIo {
  input: Readable;
  output: Writable;
  terminal: boolean;
}

/** Completion of guest paths against the model's files, and of monitor commands. */
export function complete(session: Session, line: string, monitor: boolean): [string[], string] {
  if (monitor || line.startsWith('(qemu) ')) {
    const text = line.startsWith('(qemu) ') ? line.slice(7) : line;
    const hits = MONITOR_COMMANDS.filter((c) => c.startsWith(text));
    return [hits.length ? hits : MONITOR_COMMANDS, text];
  }
  const word = line.split(/\s+/).pop() ?? '';
  if (!word.startsWith('/')) {
    const hits = GUEST_COMMANDS.filter((c) => c.startsWith(word));
    return [hits, word];
  }
  const slash = word.lastIndexOf('/');
  const dir = word.slice(0, slash) || '/';
  const base = word.slice(slash + 1);
  try {
    const entries = session.system.vfs.list(dir).filter((e) => e.name.startsWith(base));
    return [entries.map((e) => `${dir === '/' ? '' : dir}/${e.name}${e.isDir ? '/' : ''}`), word];
  } catch {
    return [[], word];
  }
}

function show(io: InteractiveIo, r: LineResult): void {
  for (const l of r.kmsg) io.output.write(l + '\n');
  io.output.write(r.stdout);
  io.output.write(r.stderr);
}

/** Runs until the input ends, `exit`, or Ctrl-A X. Resolves to the exit status. */
export function interactive(
  machine: MachineOptions,
  io: InteractiveIo,
  onAfterCommand?: (s: Session) => void,
): Promise<number> {
  const session = openSession(machine);
  const failAlloc = (machine as Partial<RunOptions>).failAlloc;
  if (failAlloc) session.failAllocations(failAlloc);
  let monitor = false;
  const rl = readline.createInterface({
    input: io.input,
    output: io.output,
    terminal: io.terminal,
    historySize: 1000,
    completer: (line: string) => complete(session, line, monitor),
  });
  const m = session.system.kernel;
  io.output.write(
    `riscv-hotplug: Linux ${session.system.kernel.profile.release} on QEMU virt, ${session.machine.ramBytes >> 20n} MiB, ${session.machine.smp} harts, ${m.mode.name}\n` +
      'Guest shell: cat, ls, echo [-n] TEXT > FILE, grep, head, tail, wc, sort, cd, dmesg, pipes and loops (help lists them).\n' +
      '"(qemu) CMD" or Ctrl-A C for the monitor, Ctrl-A H for help, Ctrl-A X, exit or quit to end.\n' +
      (session.system.devices?.virtioMemDevices().length
        ? ''
        : 'No memory device yet: start with -object memory-backend-ram,id=m0,size=2G -device virtio-mem-pci,id=vm0,memdev=m0 (or a\n' +
          '-device pcie-root-port,id=rp1,bus=pcie.0,chassis=1 to device_add one later), or use /sys/kernel/debug/hotplug_oracle/add.\n'),
  );
  for (const n of session.notes) io.output.write(n + '\n');
  let ctrlA = false;
  if (io.terminal) {
    io.input.on('keypress', (_s: string, key: { ctrl?: boolean; name?: string } | undefined) => {
      if (key?.ctrl && key.name === 'a') {
        ctrlA = true;
        return;
      }
      if (ctrlA && key?.name === 'h') {
        // QEMU's mux help (chardev/char-mux.c), with the escape character C-a.
        rl.write(null, { ctrl: true, name: 'u' });
        io.output.write('\n' + MUX_HELP);
        rl.prompt(true);
      } else if (ctrlA && key?.name === 'c') {
        monitor = !monitor;
        // Drop the "c" that readline just inserted.
        rl.write(null, { ctrl: true, name: 'u' });
        io.output.write('\n');
        rl.setPrompt(monitor ? MONITOR_PROMPT : GUEST_PROMPT);
        rl.prompt();
      } else if (ctrlA && key?.name === 'x') {
        io.output.write('\nQEMU: Terminated\n');
        rl.close();
      }
      ctrlA = false;
    });
  }
  return new Promise((resolve) => {
    rl.setPrompt(GUEST_PROMPT);
    rl.prompt();
    // Ctrl-C cancels the line being typed, as a terminal does; it does not end the session.
    rl.on('SIGINT', () => {
      ctrlA = false;
      rl.write(null, { ctrl: true, name: 'e' });
      rl.write(null, { ctrl: true, name: 'u' });
      io.output.write('^C\n');
      rl.prompt();
    });
    rl.on('line', (line) => {
      const text = line.trim();
      // exit at the guest prompt; QEMU's quit (or q) wherever the monitor is reached.
      if (text === 'exit' || (monitor && /^(quit|q)$/.test(text)) || /^\(qemu\)\s*(quit|q)$/.test(text)) {
        rl.close();
        return;
      }
      if (!monitor && text === 'help') {
        io.output.write(
          'guest: cat, ls, echo [-n] TEXT [> FILE], grep [-icqv] [-e PAT], head, tail, wc, sort, cd, pwd, dmesg;\n' +
            '  pipes |, lists ; && ||, for X in ...; do ...; done, $VAR, globs.  "(qemu) CMD" for the monitor\n' +
            '  the model: memhog SIZE, workload alloc movable|pinned|unmovable SIZE [zone=Z], workload free ID|all,\n' +
            '  workload list, ptwalk linear|vmemmap|va START END\n',
        );
      } else {
        const r = session.execute(monitor && !text.startsWith('(qemu)') ? `(qemu) ${text}` : line);
        if (r) show(io, r);
        onAfterCommand?.(session);
      }
      rl.setPrompt(monitor ? MONITOR_PROMPT : GUEST_PROMPT);
      rl.prompt();
    });
    rl.on('close', () => resolve(session.dead ? 3 : 0));
  });
}
