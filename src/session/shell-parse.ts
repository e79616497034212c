/**
 * Parsing the guest shell's command lines. Tokens come from `shell-quote`
 * (see docs/guest-shell.md for why that library); this file adds what bash
 * does and shell-quote does not (a `#` inside a word, an escaped or quoted
 * `*`, `2>` naming a descriptor, variables expanded when a command runs, not
 * when the line is read) and builds the small grammar the shell supports:
 * lists (`;`, `&&`, `||`) of pipelines (`|`) of simple commands or
 * `for NAME in WORDS; do LIST; done`.
 */
import { parse as shellQuoteParse, type ParseEntry } from 'shell-quote';

/** Marker characters: never typed (the input is cleaned of them) and kept intact by shell-quote. */
const FD = '\u0001';
const LIT_STAR = '\u0002';
const LIT_QMARK = '\u0003';
const LIT_HASH = '\u0004';
/** Delimits a variable reference `\u0005NAME\u0005`, expanded when the command runs. */
export const VAR = '\u0005';

/** A word as typed: text with variable references; `wild[i]` says whether text[i] is an unquoted * or ?. */
export interface Word {
  text: string;
  wild: boolean[];
}

export interface Redirect {
  /** The descriptor redirected (1 for a bare `>`, 0 for `<`). */
  fd: number;
  op: '>' | '>>' | '>&' | '<';
  /** The operator as typed, for messages (`2>`, `>>`). */
  typed: string;
  target: Word;
}

export interface SimpleCommand {
  kind: 'simple';
  words: Word[];
  redirects: Redirect[];
}

export interface ForCommand {
  kind: 'for';
  name: string;
  items: Word[];
  body: List;
}

export type Command = SimpleCommand | ForCommand;

export interface Pipeline {
  commands: Command[];
}

/** Pipelines joined by `;` (run), `&&` (run if the last succeeded), `||` (run if it failed). */
export type List = Array<{ join: ';' | '&&' | '||'; pipeline: Pipeline }>;

/** A line bash would refuse: its message (without "bash: ") and exit status 2. */
export class ShellSyntaxError extends Error {}

/** A construct this shell does not run: said in one line, never misread. */
export class ShellUnsupported extends Error {}

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const OPERATOR_CHARS = '|&;<>()';

/**
 * Rewrites the line so that shell-quote reads it as bash would: quoted or
 * escaped wildcards and `#` become marker characters, a `#` starting a word
 * ends the line, digits glued before `>` are marked as a descriptor.
 */
function prepare(raw: string): string {
  // The marker characters cannot be typed into a script line; drop any that arrive anyway.
  const line = [...raw].filter((c) => c < '\u0001' || c > '\u0006').join('');
  let out = '';
  let quote: '"' | "'" | undefined;
  let wordStart = true;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      out += c === '*' ? LIT_STAR : c === '?' ? LIT_QMARK : c;
      continue;
    }
    if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '\\' && i + 1 < line.length) {
        out += c + line[++i]!;
        continue;
      } else if (c === '`' || (c === '$' && line[i + 1] === '(')) {
        throw new ShellUnsupported('command substitution');
      }
      out += c === '*' ? LIT_STAR : c === '?' ? LIT_QMARK : c;
      continue;
    }
    if (c === "'" || c === '"') {
      quote = c;
      out += c;
      wordStart = false;
    } else if (c === '\\' && i + 1 < line.length) {
      const n = line[++i]!;
      out += n === '*' ? LIT_STAR : n === '?' ? LIT_QMARK : n === '#' ? LIT_HASH : '\\' + n;
      wordStart = false;
    } else if (c === '#') {
      if (wordStart) break;
      out += LIT_HASH;
    } else if (c === '`' || (c === '$' && line[i + 1] === '(')) {
      throw new ShellUnsupported('command substitution');
    } else if (c === ' ' || c === '\t') {
      out += c;
      wordStart = true;
    } else if (OPERATOR_CHARS.includes(c)) {
      out += c;
      wordStart = true;
    } else if (wordStart && isDigit(c)) {
      let j = i;
      while (isDigit(line[j])) j++;
      if (line[j] === '>') out += FD;
      out += line.slice(i, j);
      i = j - 1;
      wordStart = false;
    } else {
      out += c;
      wordStart = false;
    }
  }
  if (quote) throw new ShellSyntaxError('unexpected EOF while looking for matching quote');
  return out;
}

const LITERAL: Record<string, string> = { [LIT_STAR]: '*', [LIT_QMARK]: '?', [LIT_HASH]: '#' };
/** Characters toWord changes or marks: most words have none. */
const SPECIAL_IN_WORD = new RegExp(`[${LIT_STAR}${LIT_QMARK}${LIT_HASH}*?]`);

/** A word from shell-quote's text: markers back to literal characters, unquoted wildcards marked. */
function toWord(text: string): Word {
  if (!SPECIAL_IN_WORD.test(text)) return { text, wild: new Array<boolean>([...text].length).fill(false) };
  let t = '';
  const wild: boolean[] = [];
  const literal = LITERAL;
  for (const c of text) {
    t += literal[c] ?? c;
    wild.push(literal[c] === undefined && (c === '*' || c === '?'));
  }
  return { text: t, wild };
}

type Token = { kind: 'word'; word: Word } | { kind: 'op'; op: string } | { kind: 'fd'; fd: number };

/**
 * The tokens of recent lines: a script or a fuzz campaign runs the same lines again and again, and
 * tokens are never changed once made (the parser and the shell only read them).
 */
const tokenCache = new Map<string, readonly Token[]>();
const TOKEN_CACHE_LINES = 4096;

/** shell-quote's entries as this shell's tokens. */
export function tokenize(line: string): readonly Token[] {
  let tokens = tokenCache.get(line);
  if (tokens === undefined) {
    tokens = tokenizeLine(line);
    // The oldest line goes first (a Map keeps insertion order).
    if (tokenCache.size >= TOKEN_CACHE_LINES) tokenCache.delete(tokenCache.keys().next().value!);
    tokenCache.set(line, tokens);
  }
  return tokens;
}

function tokenizeLine(line: string): Token[] {
  const entries: ParseEntry[] = shellQuoteParse(prepare(line), (name: string) =>
    // `$` alone is a literal dollar; names are expanded when the command runs.
    name === '' ? '$' : `${VAR}${name}${VAR}`,
  );
  const tokens: Token[] = [];
  for (const e of entries) {
    if (typeof e === 'string') {
      if (e.startsWith(FD) && /^\d+$/.test(e.slice(1))) tokens.push({ kind: 'fd', fd: Number(e.slice(1)) });
      else tokens.push({ kind: 'word', word: toWord(e) });
    } else if ('comment' in e) {
      break;
    } else if (e.op === 'glob') {
      tokens.push({ kind: 'word', word: toWord(e.pattern) });
    } else {
      tokens.push({ kind: 'op', op: e.op });
    }
  }
  return tokens;
}

/** The words of a command line as bash splits them; a redirection operator is a word of its own. */
export function splitWords(line: string): string[] {
  const out: string[] = [];
  let fd = '';
  for (const t of tokenize(line)) {
    if (t.kind === 'fd') fd = String(t.fd);
    else if (t.kind === 'op') {
      out.push(fd + t.op);
      fd = '';
    } else out.push(t.word.text);
  }
  return out;
}

const UNSUPPORTED_KEYWORDS = new Set([
  'if',
  'then',
  'elif',
  'else',
  'fi',
  'while',
  'until',
  'case',
  'esac',
  'select',
  'function',
  '{',
  '}',
  '[[',
]);

/** Parses a line into a list. Throws ShellSyntaxError or ShellUnsupported. */
export function parseLine(line: string): List {
  const tokens = tokenize(line);
  let i = 0;
  const peek = (): Token | undefined => tokens[i];
  const nearToken = (t: Token | undefined): string =>
    t === undefined ? 'newline' : t.kind === 'op' ? t.op : t.kind === 'fd' ? String(t.fd) : t.word.text;
  const unexpected = (t: Token | undefined): ShellSyntaxError =>
    new ShellSyntaxError(`syntax error near unexpected token \`${nearToken(t)}'`);
  const isWord = (t: Token | undefined, text?: string): boolean =>
    t?.kind === 'word' && (text === undefined || (t.word.text === text && !t.word.wild.some(Boolean)));

  const parseFor = (): ForCommand => {
    i++;
    const nameTok = peek();
    if (!isWord(nameTok) || nameTok?.kind !== 'word' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(nameTok.word.text))
      throw new ShellSyntaxError(`\`${nearToken(nameTok)}': not a valid identifier`);
    i++;
    const items: Word[] = [];
    if (isWord(peek(), 'in')) {
      i++;
      while (peek()?.kind === 'word') {
        const t = peek() as { kind: 'word'; word: Word };
        items.push(t.word);
        i++;
      }
    }
    const sep = peek();
    if (sep?.kind === 'op' && sep.op === ';') i++;
    if (!isWord(peek(), 'do')) throw unexpected(peek());
    i++;
    const body = parseList(new Set(['done']));
    if (!isWord(peek(), 'done')) throw unexpected(peek());
    i++;
    return { kind: 'for', name: nameTok.word.text, items, body };
  };

  const parseSimple = (): SimpleCommand => {
    const cmd: SimpleCommand = { kind: 'simple', words: [], redirects: [] };
    for (;;) {
      const t = peek();
      if (t === undefined) break;
      if (t.kind === 'word') {
        cmd.words.push(t.word);
        i++;
        continue;
      }
      let fd: number | undefined;
      let op = t;
      if (t.kind === 'fd') {
        fd = t.fd;
        const n = tokens[i + 1];
        if (n?.kind !== 'op') throw unexpected(n);
        op = n;
        i++;
      }
      if (op.kind !== 'op') break;
      if (op.op === '>' || op.op === '>>' || op.op === '>&' || op.op === '<') {
        i++;
        const target = peek();
        if (target?.kind !== 'word') throw unexpected(target);
        i++;
        const dflt = op.op === '<' ? 0 : 1;
        cmd.redirects.push({
          fd: fd ?? dflt,
          op: op.op,
          typed: (fd === undefined ? '' : String(fd)) + op.op,
          target: target.word,
        });
        continue;
      }
      if (op.op === '|' || op.op === ';' || op.op === '&&' || op.op === '||') break;
      throw new ShellUnsupported(op.op === '&' ? 'background jobs (&)' : op.op);
    }
    return cmd;
  };

  const parseCommand = (stop: Set<string>): Command | undefined => {
    const t = peek();
    if (t?.kind === 'word' && !t.word.wild.some(Boolean)) {
      if (t.word.text === 'for') return parseFor();
      if (stop.has(t.word.text)) return undefined;
      if (UNSUPPORTED_KEYWORDS.has(t.word.text)) throw new ShellUnsupported(t.word.text);
    }
    const cmd = parseSimple();
    return cmd.words.length || cmd.redirects.length ? cmd : undefined;
  };

  const parsePipeline = (stop: Set<string>): Pipeline | undefined => {
    const first = parseCommand(stop);
    if (!first) return undefined;
    const commands = [first];
    while (peek()?.kind === 'op' && (peek() as { op: string }).op === '|') {
      i++;
      const next = parseCommand(stop);
      if (!next) throw unexpected(peek());
      commands.push(next);
    }
    return { commands };
  };

  function parseList(stop: Set<string>): List {
    const list: List = [];
    let join: ';' | '&&' | '||' = ';';
    for (;;) {
      const p = parsePipeline(stop);
      if (!p) {
        // A list may end after `;` (or be empty); after && or || a command must follow.
        if (join !== ';') throw unexpected(peek());
        const t = peek();
        if (t === undefined || (t.kind === 'word' && stop.has(t.word.text))) return list;
        throw unexpected(t);
      }
      list.push({ join, pipeline: p });
      const t = peek();
      if (t === undefined) return list;
      if (t.kind === 'op' && (t.op === ';' || t.op === '&&' || t.op === '||')) {
        join = t.op;
        i++;
        continue;
      }
      if (t.kind === 'word' && stop.has(t.word.text)) return list;
      throw unexpected(t);
    }
  }

  const list = parseList(new Set());
  if (i < tokens.length) throw unexpected(peek());
  return list;
}
