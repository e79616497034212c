/**
 * The guest shell: what users and the scenario scripts type at the guest
 * prompt, over the model's files. Lists (`;`, `&&`, `||`), pipelines, `for`
 * loops, redirections, globs and variables as bash runs them; the commands
 * (echo, cat, ls, grep, head, tail, wc, sort, cd, pwd, dmesg, ...) print
 * what coreutils print. Anything else is said in one line, never misread.
 */
import type { FileNode, Vfs } from '../kernel/fs/vfs.js';
import {
  ShellSyntaxError,
  ShellUnsupported,
  VAR,
  parseLine,
  type Command,
  type List,
  type Pipeline,
  type SimpleCommand,
  type Word,
} from './shell-parse.js';
import { coreCommands, errText } from './shell-commands.js';

export { splitWords } from './shell-parse.js';

export interface ShellResult {
  stdout: string;
  stderr: string;
  /** errno of the failed system call (0 when everything worked). */
  errno: number;
  /** The command's exit status. */
  status: number;
}

/** What a command gets: its arguments (expanded), standard input, and the shell. */
export interface CommandIo {
  args: string[];
  /** Standard input: a pipe's text, or undefined when nothing is piped in. */
  stdin: string | undefined;
  shell: ShellApi;
}

export interface CommandOut {
  out: string;
  err: string;
  status: number;
  errno?: number;
}

export type CommandFn = (io: CommandIo) => CommandOut;

/** The shell as commands see it. */
export interface ShellApi {
  readonly vfs: Vfs;
  readonly ctx: ShellContext;
  /** An absolute, normalised path for `path` relative to the working directory. */
  resolve(path: string): string;
  state: ShellState;
}

/** What lasts from one line to the next: the working directory, variables, the last status. */
export interface ShellState {
  cwd: string;
  vars: Map<string, string>;
  lastStatus: number;
}

export interface ShellContext {
  vfs: Vfs;
  dmesg(): string;
  /** Shell state kept across lines (a fresh one per line when absent). */
  state?: ShellState;
  /** More commands (the model's workload commands), looked up before the core ones. */
  commands?: Readonly<Record<string, CommandFn>>;
}

export function newShellState(): ShellState {
  return { cwd: '/', vars: new Map(), lastStatus: 0 };
}

function globToRegExp(glob: string, wild: boolean[]): RegExp {
  let re = '^';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && wild[i]) re += '[^/]*';
    else if (c === '?' && wild[i]) re += '[^/]';
    else re += c.replace(/[.*?+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(re + '$');
}

/**
 * Expands shell globs against the model's files (no match: the word stays as
 * it is, as bash does). `wild` marks which * and ? are pattern characters
 * (all of them when absent); quoted ones match themselves.
 */
export function expandGlob(vfs: Vfs, word: string, wild?: boolean[]): string[] {
  const isWild = wild ?? Array.from({ length: word.length }, (_, i) => word[i] === '*' || word[i] === '?');
  if (!isWild.some(Boolean) || !word.startsWith('/')) return [word];
  let paths = ['/'];
  let at = 0;
  for (const part of word.split('/')) {
    const partWild = isWild.slice(at, at + part.length);
    at += part.length + 1;
    if (part === '') continue;
    const next: string[] = [];
    for (const base of paths) {
      if (!partWild.some(Boolean)) {
        const p = base === '/' ? `/${part}` : `${base}/${part}`;
        if (vfs.exists(p)) next.push(p);
        continue;
      }
      const re = globToRegExp(part, partWild);
      let entries: Array<{ name: string }> = [];
      try {
        entries = vfs.list(base);
      } catch {
        entries = [];
      }
      for (const e of entries)
        if (re.test(e.name)) next.push(base === '/' ? `/${e.name}` : `${base}/${e.name}`);
    }
    paths = next;
  }
  return paths.length ? paths.sort() : [word];
}

/** Joins a path to a directory and removes `.`, `..` and repeated slashes (as the shell's cd does). */
export function resolvePath(cwd: string, path: string): string {
  const parts = (path.startsWith('/') ? path : `${cwd}/${path}`).split('/');
  const out: string[] = [];
  for (const p of parts) {
    if (p === '' || p === '.') continue;
    if (p === '..') out.pop();
    else out.push(p);
  }
  return '/' + out.join('/');
}

class Shell implements ShellApi {
  readonly vfs: Vfs;
  state: ShellState;

  constructor(readonly ctx: ShellContext) {
    this.vfs = ctx.vfs;
    this.state = ctx.state ?? newShellState();
  }

  resolve(path: string): string {
    return resolvePath(this.state.cwd, path);
  }

  /** Variable references replaced by their values ($? is the last status); wildcard marks follow. */
  private substitute(w: Word): Word {
    if (!w.text.includes(VAR)) return w;
    let text = '';
    const wild: boolean[] = [];
    const parts = w.text.split(VAR);
    let at = 0;
    parts.forEach((part, k) => {
      if (k % 2 === 1) {
        const v = part === '?' ? String(this.state.lastStatus) : (this.state.vars.get(part) ?? '');
        text += v;
        for (let j = 0; j < v.length; j++) wild.push(false);
      } else {
        text += part;
        wild.push(...w.wild.slice(at, at + part.length));
      }
      at += part.length + 1;
    });
    return { text, wild };
  }

  /** A word as the command sees it: variables, then globs (a relative pattern stays relative). */
  private expand(w: Word): string[] {
    const s = this.substitute(w);
    if (!s.wild.some(Boolean)) return [s.text];
    if (s.text.startsWith('/')) return expandGlob(this.vfs, s.text, s.wild);
    const base = this.state.cwd === '/' ? '' : this.state.cwd;
    const abs = expandGlob(this.vfs, `${base}/${s.text}`, [
      ...Array<boolean>(base.length + 1).fill(false),
      ...s.wild,
    ]);
    if (abs.length === 1 && abs[0] === `${base}/${s.text}`) return [s.text];
    return abs.map((p) => p.slice(base.length + 1));
  }

  runList(list: List): ShellResult {
    const res: ShellResult = { stdout: '', stderr: '', errno: 0, status: 0 };
    let first = true;
    for (const { join, pipeline } of list) {
      if (!first && join === '&&' && res.status !== 0) continue;
      if (!first && join === '||' && res.status === 0) continue;
      first = false;
      const r = this.runPipeline(pipeline);
      res.stdout += r.stdout;
      res.stderr += r.stderr;
      if (r.errno) res.errno = r.errno;
      res.status = r.status;
      this.state.lastStatus = r.status;
    }
    return res;
  }

  private runPipeline(p: Pipeline): ShellResult {
    let stdin: string | undefined;
    const res: ShellResult = { stdout: '', stderr: '', errno: 0, status: 0 };
    p.commands.forEach((c, k) => {
      const r = this.runCommand(c, stdin);
      res.stderr += r.stderr;
      if (r.errno) res.errno = r.errno;
      res.status = r.status;
      if (k === p.commands.length - 1) res.stdout = r.stdout;
      else stdin = r.stdout;
    });
    return res;
  }

  private runCommand(c: Command, stdin: string | undefined): ShellResult {
    if (c.kind === 'simple') return this.runSimple(c, stdin);
    const res: ShellResult = { stdout: '', stderr: '', errno: 0, status: 0 };
    const items = c.items.flatMap((w) => this.expand(w));
    for (const item of items) {
      this.state.vars.set(c.name, item);
      const r = this.runList(c.body);
      res.stdout += r.stdout;
      res.stderr += r.stderr;
      if (r.errno) res.errno = r.errno;
      res.status = r.status;
    }
    return res;
  }

  private runSimple(c: SimpleCommand, stdin: string | undefined): ShellResult {
    const res: ShellResult = { stdout: '', stderr: '', errno: 0, status: 0 };
    // Redirections are opened left to right before the command runs; a failed open stops it.
    const outputs: Array<{ fd: number; node: FileNode | undefined; dupTo?: number }> = [];
    for (const r of c.redirects) {
      if (r.op === '>&') {
        const to = this.substitute(r.target).text;
        if (!/^\d+$/.test(to)) {
          res.stderr = `sh: ${r.typed}${to}: not supported\n`;
          res.status = 2;
          return res;
        }
        outputs.push({ fd: r.fd, node: undefined, dupTo: Number(to) });
        continue;
      }
      const paths = this.expand(r.target);
      const target = this.substitute(r.target).text;
      if (paths.length > 1) {
        res.stderr += `bash: ${target}: ambiguous redirect\n`;
        res.status = 1;
        return res;
      }
      const path = paths[0]!;
      try {
        if (r.op === '<') {
          stdin = this.vfs.read(this.resolve(path));
          continue;
        }
        outputs.push({ fd: r.fd, node: this.vfs.open(this.resolve(path), 'w') });
      } catch (e) {
        const { errno, text } = errText(e);
        res.stderr += `bash: ${path}: ${text}\n`;
        res.errno = errno;
        res.status = 1;
        return res;
      }
    }
    if (c.words.length === 0) return res;
    const words = c.words.flatMap((w) => this.expand(w));
    const cmd = words[0]!;
    const fn = this.ctx.commands?.[cmd] ?? coreCommands[cmd];
    if (!fn) {
      res.stderr = `bash: ${cmd}: command not found\n`;
      res.status = 127;
      return res;
    }
    const r = fn({ args: words.slice(1), stdin, shell: this });
    let out = r.out;
    let err = r.err;
    res.status = r.status;
    res.errno = r.errno ?? 0;
    // 2>&1 and >&2: one stream joins the other (after the command, as the order of output does not matter here).
    for (const o of outputs) {
      if (o.dupTo === 1 && o.fd === 2) {
        out += err;
        err = '';
      } else if (o.dupTo === 2 && o.fd === 1) {
        err += out;
        out = '';
      }
    }
    // The last redirection of a descriptor is where it points.
    const stdoutTo = outputs.filter((o) => o.fd === 1 && o.node).pop();
    const stderrTo = outputs.filter((o) => o.fd === 2 && o.node).pop();
    if (stdoutTo?.node) {
      // Nothing to print means no write(2) at all.
      if (out !== '') {
        try {
          this.vfs.writeOpen(stdoutTo.node, out);
        } catch (e) {
          const { errno, text } = errText(e);
          err += cmd === 'echo' ? `bash: echo: write error: ${text}\n` : `${cmd}: write error: ${text}\n`;
          res.errno = errno;
          res.status = 1;
        }
      }
    } else {
      res.stdout = out;
    }
    if (stderrTo?.node) {
      if (err !== '') {
        try {
          this.vfs.writeOpen(stderrTo.node, err);
        } catch {
          // Error messages that cannot be written are lost, as they are in bash.
        }
      }
    } else {
      res.stderr += err;
    }
    return res;
  }
}

export function runShell(ctx: ShellContext, line: string): ShellResult {
  let list: List;
  try {
    list = parseLine(line);
  } catch (e) {
    if (e instanceof ShellSyntaxError)
      return { stdout: '', stderr: `bash: ${e.message}\n`, errno: 0, status: 2 };
    if (e instanceof ShellUnsupported)
      return { stdout: '', stderr: `sh: ${e.message}: not supported\n`, errno: 0, status: 2 };
    throw e;
  }
  return new Shell(ctx).runList(list);
}
