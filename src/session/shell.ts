/**
 * A tiny guest shell: the commands the scenario scripts and users type at
 * the guest prompt (echo, cat, ls, grep, dmesg) over the model's files, with
 * quotes, `#` comments, `>` redirection and globs. Output and error texts
 * follow bash and coreutils.
 */
import type { FileNode, Vfs } from '../kernel/fs/vfs.js';
import { KernelError, strerror } from '../kernel/errno.js';

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

/**
 * A word of the command line, quotes removed. `wild[i]` says whether
 * text[i] is an unquoted * or ?: only those are pattern characters.
 */
interface WordToken {
  kind: 'word';
  text: string;
  wild: boolean[];
}

/** `>` or `>>`, with the file descriptor a run of digits glued before it names (1 without). */
interface RedirectToken {
  kind: 'redirect';
  fd: number;
  /** The operator as typed, for error messages. */
  op: string;
}

type Token = WordToken | RedirectToken;

/** Splits a command line into words and redirections, honouring quotes and backslashes; `#` starts a comment. */
function lex(line: string): Token[] {
  const tokens: Token[] = [];
  let cur = '';
  let wild: boolean[] = [];
  let has = false;
  let quotedAny = false;
  let quote: '"' | "'" | undefined;
  const literal = (c: string): void => {
    cur += c;
    wild.push(false);
  };
  const endWord = (): void => {
    if (has) tokens.push({ kind: 'word', text: cur, wild });
    cur = '';
    wild = [];
    has = false;
    quotedAny = false;
  };
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < line.length && '"\\$`'.includes(line[i + 1]!))
        literal(line[++i]!);
      else literal(c);
      continue;
    }
    if (c === "'" || c === '"') {
      quote = c;
      has = true;
      quotedAny = true;
    } else if (c === '\\' && i + 1 < line.length) {
      literal(line[++i]!);
      has = true;
      quotedAny = true;
    } else if (c === '#' && !has) {
      break;
    } else if (c === ' ' || c === '\t') {
      endWord();
    } else if (c === '>') {
      // bash: an unquoted run of digits right before > is the descriptor to redirect.
      let fd = 1;
      let op = '>';
      if (has && !quotedAny && /^\d+$/.test(cur)) {
        fd = Number(cur);
        op = cur + op;
        cur = '';
        wild = [];
        has = false;
      }
      endWord();
      if (line[i + 1] === '>') {
        op += '>';
        i++;
      }
      tokens.push({ kind: 'redirect', fd, op });
    } else {
      cur += c;
      wild.push(c === '*' || c === '?');
      has = true;
    }
  }
  if (quote) throw new Error('unexpected EOF while looking for matching quote');
  endWord();
  return tokens;
}

/** The words of a command line as bash splits them; a redirection operator is a word of its own. */
export function splitWords(line: string): string[] {
  return lex(line).map((t) => (t.kind === 'word' ? t.text : t.op));
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

function errText(e: unknown): { errno: number; text: string } {
  if (e instanceof KernelError) return { errno: e.errno, text: strerror(e.errno) };
  throw e;
}

/** A redirection bash has performed: the file it opened for the descriptor. */
interface OpenRedirect {
  fd: number;
  path: string;
  node: FileNode;
}

export function runShell(ctx: ShellContext, line: string): ShellResult {
  const res: ShellResult = { stdout: '', stderr: '', errno: 0, status: 0 };
  let tokens: Token[];
  try {
    tokens = lex(line);
  } catch (e) {
    res.stderr = `bash: ${(e as Error).message}\n`;
    res.status = 2;
    return res;
  }
  if (tokens.length === 0) return res;
  // Redirections are opened left to right before the command runs; a failed open stops it.
  const words: WordToken[] = [];
  const pending: Array<{ fd: number; target: WordToken }> = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind === 'word') {
      words.push(t);
      continue;
    }
    const target = tokens[i + 1];
    if (!target || target.kind !== 'word') {
      res.stderr = `bash: syntax error near unexpected token \`${target ? target.op : 'newline'}'\n`;
      res.status = 2;
      return res;
    }
    pending.push({ fd: t.fd, target });
    i++;
  }
  const redirects: OpenRedirect[] = [];
  for (const { fd, target } of pending) {
    const paths = expandGlob(ctx.vfs, target.text, target.wild);
    if (paths.length > 1) {
      res.stderr += `bash: ${target.text}: ambiguous redirect\n`;
      res.status = 1;
      return res;
    }
    const path = paths[0]!;
    try {
      redirects.push({ fd, path, node: ctx.vfs.open(path, 'w') });
    } catch (e) {
      const { errno, text } = errText(e);
      res.stderr += `bash: ${path}: ${text}\n`;
      res.errno = errno;
      res.status = 1;
      return res;
    }
  }
  if (words.length === 0) return res;
  const cmd = words[0]!.text;
  const args = words.slice(1).flatMap((w) => expandGlob(ctx.vfs, w.text, w.wild));
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
  // The last redirection of a descriptor is where it points.
  const stdoutTo = redirects.filter((r) => r.fd === 1).pop();
  const stderrTo = redirects.filter((r) => r.fd === 2).pop();
  if (stdoutTo) {
    // Nothing to print means no write(2) at all.
    if (out !== '') {
      try {
        ctx.vfs.writeOpen(stdoutTo.node, out);
      } catch (e) {
        const { errno, text } = errText(e);
        res.stderr +=
          cmd === 'echo' ? `bash: echo: write error: ${text}\n` : `${cmd}: write error: ${text}\n`;
        res.errno = errno;
        res.status = 1;
      }
    }
  } else {
    res.stdout = out;
  }
  if (stderrTo) {
    const err = res.stderr;
    res.stderr = '';
    if (err !== '') {
      try {
        ctx.vfs.writeOpen(stderrTo.node, err);
      } catch {
        // Error messages that cannot be written are lost, as they are in bash.
      }
    }
  }
  return res;
}
