/**
 * A tiny guest shell: the commands the scenario scripts and users type at
 * the guest prompt (echo, cat, ls, grep, dmesg) over the model's files, with
 * quotes, `#` comments, `>` redirection and globs. Output and error texts
 * follow bash and coreutils.
 */
import type { Vfs } from '../kernel/fs/vfs.js';
import { EACCES, EISDIR, KernelError, strerror } from '../kernel/errno.js';

export interface ShellResult {
  stdout: string;
  stderr: string;
  /** errno of the failed system call (0 when everything worked). */
  errno: number;
  /** The command's exit status. */
  status: number;
}

export interface ShellContext {
  vfs: Vfs;
  dmesg(): string;
}

/** Splits a command line into words, honouring quotes and backslashes; `#` starts a comment. */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  let cur = '';
  let has = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < line.length && '"\\$`'.includes(line[i + 1]!)) cur += line[++i];
      else cur += c;
      continue;
    }
    if (c === "'" || c === '"') {
      quote = c;
      has = true;
    } else if (c === '\\' && i + 1 < line.length) {
      cur += line[++i];
      has = true;
    } else if (c === '#' && !has && cur === '') {
      break;
    } else if (c === ' ' || c === '\t') {
      if (has) words.push(cur);
      cur = '';
      has = false;
    } else if (c === '>' && !has) {
      words.push('>');
    } else if (c === '>') {
      words.push(cur, '>');
      cur = '';
      has = false;
    } else {
      cur += c;
      has = true;
    }
  }
  if (quote) throw new Error('unexpected EOF while looking for matching quote');
  if (has) words.push(cur);
  return words;
}

function globToRegExp(glob: string): RegExp {
  let re = '^';
  for (const c of glob) {
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(re + '$');
}

/** Expands shell globs against the model's files (no match: the word stays as it is, as bash does). */
export function expandGlob(vfs: Vfs, word: string): string[] {
  if (!/[*?]/.test(word) || !word.startsWith('/')) return [word];
  let paths = ['/'];
  for (const part of word.split('/').filter(Boolean)) {
    const next: string[] = [];
    for (const base of paths) {
      if (!/[*?]/.test(part)) {
        const p = base === '/' ? `/${part}` : `${base}/${part}`;
        if (vfs.exists(p)) next.push(p);
        continue;
      }
      const re = globToRegExp(part);
      let entries: Array<{ name: string }> = [];
      try {
        entries = vfs.list(base);
      } catch {
        entries = [];
      }
      for (const e of entries) if (re.test(e.name)) next.push(base === '/' ? `/${e.name}` : `${base}/${e.name}`);
    }
    paths = next;
  }
  return paths.length ? paths.sort() : [word];
}

function errText(e: unknown): { errno: number; text: string } {
  if (e instanceof KernelError) return { errno: e.errno, text: strerror(e.errno) };
  throw e;
}

export function runShell(ctx: ShellContext, line: string): ShellResult {
  const res: ShellResult = { stdout: '', stderr: '', errno: 0, status: 0 };
  let words: string[];
  try {
    words = splitWords(line);
  } catch (e) {
    res.stderr = `bash: ${(e as Error).message}\n`;
    res.status = 2;
    return res;
  }
  if (words.length === 0) return res;
  // Redirection: `CMD ... > FILE` (only stdout to a file, as the scripts use it).
  let target: string | undefined;
  const gt = words.indexOf('>');
  if (gt >= 0) {
    target = words[gt + 1];
    words = words.slice(0, gt).concat(words.slice(gt + 2));
    if (!target) {
      res.stderr = "bash: syntax error near unexpected token `newline'\n";
      res.status = 2;
      return res;
    }
  }
  const [cmd, ...rawArgs] = words as [string, ...string[]];
  const args = rawArgs.flatMap((a) => expandGlob(ctx.vfs, a));
  let out = '';
  switch (cmd) {
    case 'echo': {
      let newline = true;
      let i = 0;
      while (i < args.length && /^-[neE]+$/.test(args[i]!)) {
        if (args[i]!.includes('n')) newline = false;
        i++;
      }
      out = args.slice(i).join(' ') + (newline ? '\n' : '');
      break;
    }
    case 'cat':
      for (const p of args) {
        try {
          out += ctx.vfs.read(p);
        } catch (e) {
          const { errno, text } = errText(e);
          res.stderr += `cat: ${p}: ${text}\n`;
          res.errno = errno;
          res.status = 1;
        }
      }
      break;
    case 'ls': {
      const paths = args.filter((a) => !a.startsWith('-'));
      if (paths.length === 0) paths.push('/');
      for (const p of paths) {
        try {
          const node = ctx.vfs.lookup(p);
          if (node.kind !== 'dir') {
            out += p + '\n';
            continue;
          }
          if (paths.length > 1) out += `${p}:\n`;
          // Marked as the recordings' ls marks them (ls -F): directories with /, links with @.
          for (const e of ctx.vfs.list(p)) out += e.name + (e.isLink ? '@' : e.isDir ? '/' : '') + '\n';
        } catch (e) {
          const { errno, text } = errText(e);
          res.stderr += `ls: cannot access '${p}': ${text}\n`;
          res.errno = errno;
          res.status = 2;
        }
      }
      break;
    }
    case 'grep': {
      const opts = args.filter((a) => a.startsWith('-'));
      const rest = args.filter((a) => !a.startsWith('-'));
      const pattern = rest.shift();
      if (pattern === undefined) {
        res.stderr = 'Usage: grep [OPTION]... PATTERNS [FILE]...\n';
        res.status = 2;
        break;
      }
      const withName = opts.includes('-H') || rest.length > 1;
      let re: RegExp;
      try {
        re = new RegExp(pattern.replace(/\\([(){}|+?])/g, '$1'));
      } catch {
        res.stderr = `grep: Invalid regular expression\n`;
        res.status = 2;
        break;
      }
      let matched = false;
      for (const p of rest) {
        try {
          for (const l of ctx.vfs.read(p).split('\n')) {
            if (l === '' || !re.test(l)) continue;
            matched = true;
            out += (withName ? `${p}:` : '') + l + '\n';
          }
        } catch (e) {
          const { errno, text } = errText(e);
          res.stderr += `grep: ${p}: ${text}\n`;
          res.errno = errno;
          res.status = 2;
        }
      }
      if (!matched && res.status === 0) res.status = 1;
      break;
    }
    case 'dmesg':
      out = ctx.dmesg();
      break;
    case 'true':
    case ':':
      break;
    default:
      res.stderr = `bash: ${cmd}: command not found\n`;
      res.status = 127;
      return res;
  }
  if (target !== undefined) {
    // open(O_WRONLY) first: a missing or read-only file fails there, as bash reports it.
    try {
      const node = ctx.vfs.lookup(target);
      if (node.kind === 'dir') throw new KernelError(EISDIR);
      if (node.kind === 'file' && !node.store) throw new KernelError(EACCES);
    } catch (e) {
      const { errno, text } = errText(e);
      res.stderr += `bash: ${target}: ${text}\n`;
      res.errno = errno;
      res.status = 1;
      return res;
    }
    try {
      ctx.vfs.write(target, out);
    } catch (e) {
      const { errno, text } = errText(e);
      res.stderr += cmd === 'echo' ? `bash: echo: write error: ${text}\n` : `${cmd}: write error: ${text}\n`;
      res.errno = errno;
      res.status = 1;
    }
    return res;
  }
  res.stdout = out;
  return res;
}
