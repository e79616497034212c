/**
 * The guest shell's commands, with the options and messages of coreutils,
 * grep and bash's builtins. Each reads its files through the model's VFS or
 * its standard input, and returns what it prints and its exit status.
 */
import type { CommandFn, CommandIo, CommandOut } from './shell.js';
import { KernelError, strerror } from '../kernel/errno.js';

/** errno and strerror of a kernel error; anything else is a bug and propagates. */
export function errText(e: unknown): { errno: number; text: string } {
  if (e instanceof KernelError) return { errno: e.errno, text: strerror(e.errno) };
  throw e;
}

const ok = (out: string): CommandOut => ({ out, err: '', status: 0 });

/** Inputs of a filter: the named files, or standard input when none (or `-`) is named. */
function inputs(
  io: CommandIo,
  files: string[],
  prog: string,
): { texts: Array<{ name: string; text: string }>; res: CommandOut } {
  const res: CommandOut = { out: '', err: '', status: 0 };
  const texts: Array<{ name: string; text: string }> = [];
  if (files.length === 0) files = ['-'];
  for (const f of files) {
    if (f === '-') {
      texts.push({ name: '(standard input)', text: io.stdin ?? '' });
      continue;
    }
    try {
      texts.push({ name: f, text: io.shell.vfs.read(io.shell.resolve(f)) });
    } catch (e) {
      const { errno, text } = errText(e);
      res.err += `${prog}: ${f}: ${text}\n`;
      res.errno = errno;
      res.status = prog === 'grep' ? 2 : 1;
    }
  }
  return { texts, res };
}

const lines = (text: string): string[] => {
  const l = text.split('\n');
  if (l[l.length - 1] === '') l.pop();
  return l;
};

/** A count option as head and tail take it: -n N, -nN, -N (tail: +N starts at line N). */
function countOption(
  args: string[],
  prog: string,
): { n: number; fromStart: boolean; files: string[] } | string {
  let n = 10;
  let fromStart = false;
  const files: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    let v: string | undefined;
    if (a === '-n') v = args[++i];
    else if (a.startsWith('-n')) v = a.slice(2);
    else if (/^-\d+$/.test(a)) v = a.slice(1);
    else if (a.startsWith('-') && a !== '-') return `${prog}: invalid option -- '${a.slice(1, 2)}'`;
    else {
      files.push(a);
      continue;
    }
    if (v === undefined) return `${prog}: option requires an argument -- 'n'`;
    if (prog === 'tail' && v.startsWith('+')) {
      fromStart = true;
      v = v.slice(1);
    }
    if (!/^\d+$/.test(v)) return `${prog}: invalid number of lines: '${v}'`;
    n = Number(v);
  }
  return { n, fromStart, files };
}

function headTail(prog: 'head' | 'tail'): CommandFn {
  return (io) => {
    const opt = countOption(io.args, prog);
    if (typeof opt === 'string') return { out: '', err: `${opt}\n`, status: 1 };
    const { texts, res } = inputs(io, opt.files, prog);
    texts.forEach((t, k) => {
      if (texts.length > 1) res.out += `${k ? '\n' : ''}==> ${t.name} <==\n`;
      const l = lines(t.text);
      const pick =
        prog === 'head'
          ? l.slice(0, opt.n)
          : opt.fromStart
            ? l.slice(Math.max(0, opt.n - 1))
            : opt.n
              ? l.slice(-opt.n)
              : [];
      res.out += pick.map((x) => x + '\n').join('');
    });
    return res;
  };
}

/** grep's basic regular expressions: \( \) \{ \} \| \+ \? are operators, the bare characters literal. */
function breToJs(p: string): string {
  let out = '';
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '\\' && i + 1 < p.length) {
      const n = p[++i]!;
      out += '(){}|+?'.includes(n) ? n : '\\' + n;
    } else if ('(){}|+?'.includes(c)) out += '\\' + c;
    else out += c;
  }
  return out;
}

const grep: CommandFn = (io) => {
  const patterns: string[] = [];
  const files: string[] = [];
  const flags = new Set<string>();
  const usage = 'Usage: grep [OPTION]... PATTERNS [FILE]...\n';
  for (let i = 0; i < io.args.length; i++) {
    const a = io.args[i]!;
    if (a === '--') {
      files.push(...io.args.slice(i + 1));
      break;
    }
    if (a.startsWith('-') && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const f = a[j]!;
        if (f === 'e') {
          const v = j + 1 < a.length ? a.slice(j + 1) : io.args[++i];
          if (v === undefined)
            return { out: '', err: `grep: option requires an argument -- 'e'\n${usage}`, status: 2 };
          patterns.push(v);
          break;
        }
        if (!'iqcvHhnEFlw'.includes(f))
          return { out: '', err: `grep: invalid option -- '${f}'\n${usage}`, status: 2 };
        flags.add(f);
      }
      continue;
    }
    files.push(a);
  }
  if (patterns.length === 0) {
    const p = files.shift();
    if (p === undefined) return { out: '', err: usage, status: 2 };
    patterns.push(...p.split('\n'));
  }
  let re: RegExp;
  try {
    const parts = patterns.map((p) =>
      flags.has('F') ? p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') : flags.has('E') ? p : breToJs(p),
    );
    const body = parts.map((p) => (flags.has('w') ? `(?<![\\w])(?:${p})(?![\\w])` : `(?:${p})`)).join('|');
    re = new RegExp(body, flags.has('i') ? 'i' : '');
  } catch {
    return { out: '', err: 'grep: Invalid regular expression\n', status: 2 };
  }
  const { texts, res } = inputs(io, files, 'grep');
  const withName = !flags.has('h') && (flags.has('H') || texts.length + (res.status ? 1 : 0) > 1);
  let matched = false;
  for (const t of texts) {
    let count = 0;
    lines(t.text).forEach((l, k) => {
      if (re.test(l) === flags.has('v')) return;
      count++;
      matched = true;
      if (flags.has('q') || flags.has('c') || flags.has('l')) return;
      res.out += (withName ? `${t.name}:` : '') + (flags.has('n') ? `${k + 1}:` : '') + l + '\n';
    });
    if (flags.has('q')) continue;
    if (flags.has('c')) res.out += (withName ? `${t.name}:` : '') + `${count}\n`;
    else if (flags.has('l') && count) res.out += `${t.name}\n`;
  }
  if (flags.has('q')) return { out: '', err: matched ? '' : res.err, status: matched ? 0 : res.status || 1 };
  if (!matched && res.status === 0) res.status = 1;
  return res;
};

/** Single-letter options (`-lw`, `-n -r`) from `allowed`, and the file operands; coreutils' refusal for another. */
function shortFlags(
  args: string[],
  allowed: string,
  prog: string,
  status: number,
): { flags: Set<string>; files: string[] } | { out: string; err: string; status: number } {
  const flags = new Set<string>();
  const files: string[] = [];
  for (const a of args) {
    if (a.startsWith('-') && a.length > 1) {
      for (const f of a.slice(1)) {
        if (!allowed.includes(f)) return { out: '', err: `${prog}: invalid option -- '${f}'\n`, status };
        flags.add(f);
      }
    } else files.push(a);
  }
  return { flags, files };
}

const wc: CommandFn = (io) => {
  const parsed = shortFlags(io.args, 'lwc', 'wc', 1);
  if ('err' in parsed) return parsed;
  const { flags: want, files } = parsed;
  if (want.size === 0) ['l', 'w', 'c'].forEach((f) => want.add(f));
  const { texts, res } = inputs(io, files, 'wc');
  const rows = texts.map((t) => ({
    name: files.length ? t.name : '',
    l: lines(t.text).length,
    w: t.text.split(/\s+/).filter(Boolean).length,
    c: new TextEncoder().encode(t.text).length,
  }));
  if (rows.length > 1)
    rows.push({
      name: 'total',
      ...['l', 'w', 'c'].reduce((a, k) => ({ ...a, [k]: rows.reduce((s, r) => s + (r[k as 'l'] ?? 0), 0) }), {
        l: 0,
        w: 0,
        c: 0,
      }),
    });
  // coreutils: one number alone needs no padding; standard input pads to 7.
  const width =
    want.size === 1 && rows.length === 1
      ? 1
      : files.length
        ? Math.max(1, ...rows.map((r) => String(r.c).length))
        : 7;
  for (const r of rows) {
    const nums = ['l', 'w', 'c'].filter((k) => want.has(k)).map((k) => String(r[k as 'l']).padStart(width));
    res.out += nums.join(' ') + (r.name ? ` ${r.name}` : '') + '\n';
  }
  return res;
};

const sort: CommandFn = (io) => {
  const parsed = shortFlags(io.args, 'nru', 'sort', 2);
  if ('err' in parsed) return parsed;
  const { flags, files } = parsed;
  const { texts, res } = inputs(io, files, 'sort');
  let all = texts.flatMap((t) => lines(t.text));
  const num = (s: string): number => {
    const m = /^\s*(-?\d+(?:\.\d+)?)/.exec(s);
    return m ? Number(m[1]) : 0;
  };
  all.sort((a, b) =>
    flags.has('n') ? num(a) - num(b) || (a < b ? -1 : a > b ? 1 : 0) : a < b ? -1 : a > b ? 1 : 0,
  );
  if (flags.has('r')) all.reverse();
  if (flags.has('u'))
    all = all.filter((l, k) => k === 0 || (flags.has('n') ? num(l) !== num(all[k - 1]!) : l !== all[k - 1]));
  res.out = all.map((l) => l + '\n').join('');
  if (res.err) res.status = 2;
  return res;
};

export const coreCommands: Readonly<Record<string, CommandFn>> = {
  echo: ({ args }) => {
    let newline = true;
    let i = 0;
    while (i < args.length && /^-[neE]+$/.test(args[i]!)) {
      if (args[i]!.includes('n')) newline = false;
      i++;
    }
    return ok(args.slice(i).join(' ') + (newline ? '\n' : ''));
  },
  cat: (io) => {
    const { texts, res } = inputs(io, io.args, 'cat');
    res.out = texts.map((t) => t.text).join('');
    return res;
  },
  ls: ({ args, shell }) => {
    const res: CommandOut = { out: '', err: '', status: 0 };
    const paths = args.filter((a) => !a.startsWith('-'));
    if (paths.length === 0) paths.push('.');
    for (const p of paths) {
      try {
        const abs = shell.resolve(p);
        const node = shell.vfs.lookup(abs);
        if (node.kind !== 'dir') {
          res.out += p + '\n';
          continue;
        }
        if (paths.length > 1) res.out += `${p}:\n`;
        // Marked as the recordings' ls marks them (ls -F): directories with /, links with @.
        for (const e of shell.vfs.list(abs, true))
          res.out += e.name + (e.isLink ? '@' : e.isDir ? '/' : '') + '\n';
      } catch (e) {
        const { errno, text } = errText(e);
        res.err += `ls: cannot access '${p}': ${text}\n`;
        res.errno = errno;
        res.status = 2;
      }
    }
    return res;
  },
  grep,
  head: headTail('head'),
  tail: headTail('tail'),
  wc,
  sort,
  dmesg: ({ shell }) => ok(shell.ctx.dmesg()),
  cd: ({ args, shell }) => {
    const to = args[0] ?? '/';
    const abs = shell.resolve(to);
    try {
      const node = shell.vfs.lookup(abs);
      if (node.kind !== 'dir') return { out: '', err: `bash: cd: ${to}: Not a directory\n`, status: 1 };
    } catch (e) {
      const { errno, text } = errText(e);
      return { out: '', err: `bash: cd: ${to}: ${text}\n`, status: 1, errno };
    }
    shell.state.cwd = abs;
    return ok('');
  },
  pwd: ({ shell }) => ok(shell.state.cwd + '\n'),
  true: () => ok(''),
  ':': () => ok(''),
  false: () => ({ out: '', err: '', status: 1 }),
};
