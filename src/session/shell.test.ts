/**
 * The guest shell: word splitting as bash does it, glob expansion against
 * the model's files, echo, and the error texts bash and coreutils print.
 */
import { describe, expect, test } from 'vitest';
import { EBUSY, EINVAL, EIO } from '../kernel/errno.js';
import { Vfs, dynamicDir, file, link, staticDir, type VNode } from '../kernel/fs/vfs.js';
import { expandGlob, runShell, splitWords, type ShellContext } from './shell.js';

function setup(): { ctx: ShellContext; writes: string[] } {
  const writes: string[] = [];
  const block = (n: number): VNode =>
    staticDir({
      online: file(() => '1\n'),
      state: file(
        () => 'online\n',
        (d) => {
          if (d === 'busy\n') return -EBUSY;
          if (!['online\n', 'offline\n', 'online_movable', 'offline'].includes(d)) return -EINVAL;
          writes.push(`memory${n}/state=${JSON.stringify(d)}`);
          return 0;
        },
      ),
      valid_zones: file(() => (n === 9 ? 'Normal Movable\n' : 'DMA32\n')),
    });
  const memory = dynamicDir(() => [
    ['auto_online_blocks', file(() => 'offline\n')],
    ['block_size_bytes', file(() => '8000000\n')],
    ['memory10', block(10)],
    ['memory16', block(16)],
    ['memory9', block(9)],
    ['probe', file(undefined, (d) => writes.push(`probe=${JSON.stringify(d)}`))],
  ]);
  const root = staticDir({
    proc: staticDir({ meminfo: file(() => 'MemTotal:        2034072 kB\nMemFree:         2025080 kB\n') }),
    sys: staticDir({
      devices: staticDir({ system: staticDir({ memory }) }),
      link9: link('devices/system/memory/memory9', () => vfs.lookup('/sys/devices/system/memory/memory9')),
    }),
  });
  const vfs = new Vfs(root);
  return { ctx: { vfs, dmesg: () => '[    0.000000] Linux version 6.12\n' }, writes };
}

const M = '/sys/devices/system/memory';

describe('splitWords', () => {
  test('blanks separate words; runs of blanks count once', () => {
    expect(splitWords('echo  a\tb   c ')).toEqual(['echo', 'a', 'b', 'c']);
    expect(splitWords('')).toEqual([]);
    expect(splitWords('   ')).toEqual([]);
  });

  test('single quotes keep everything literally, backslashes and # included', () => {
    expect(splitWords(`echo 'a  b\\n # c'`)).toEqual(['echo', 'a  b\\n # c']);
  });

  test('double quotes keep blanks; a backslash escapes only " \\ $ and `', () => {
    expect(splitWords('echo "a  b" "x\\"y" "p\\q" "\\\\"')).toEqual(['echo', 'a  b', 'x"y', 'p\\q', '\\']);
  });

  test('quotes join with the text around them into one word; empty quotes make an empty word', () => {
    expect(splitWords(`echo on"line"'_movable' "" ''`)).toEqual(['echo', 'online_movable', '', '']);
  });

  test('a backslash outside quotes makes the next character literal', () => {
    expect(splitWords('echo a\\ b \\> \\#x')).toEqual(['echo', 'a b', '>', '#x']);
  });

  test('# starts a comment only at the start of a word', () => {
    expect(splitWords('# a whole-line comment')).toEqual([]);
    expect(splitWords('echo a #b c')).toEqual(['echo', 'a']);
    expect(splitWords('echo a#b "#c"')).toEqual(['echo', 'a#b', '#c']);
  });

  test('> is a word of its own, with or without blanks around it; a quoted > is text', () => {
    expect(splitWords('echo online >state')).toEqual(['echo', 'online', '>', 'state']);
    expect(splitWords('echo online>state')).toEqual(['echo', 'online', '>', 'state']);
    expect(splitWords('echo online > state')).toEqual(['echo', 'online', '>', 'state']);
    expect(splitWords(`echo 'a>b' "c>d"`)).toEqual(['echo', 'a>b', 'c>d']);
  });

  test('an unterminated quote is an error', () => {
    expect(() => splitWords(`echo 'abc`)).toThrow(/unexpected EOF/);
    expect(() => splitWords('echo "abc')).toThrow(/unexpected EOF/);
  });
});

describe('glob expansion', () => {
  test('* matches within one path component; matches are sorted', () => {
    const { ctx } = setup();
    expect(expandGlob(ctx.vfs, `${M}/memory*`)).toEqual([`${M}/memory10`, `${M}/memory16`, `${M}/memory9`]);
    expect(expandGlob(ctx.vfs, `${M}/memory*/state`)).toEqual([
      `${M}/memory10/state`,
      `${M}/memory16/state`,
      `${M}/memory9/state`,
    ]);
    expect(expandGlob(ctx.vfs, '/sys/*/system')).toEqual(['/sys/devices/system']);
  });

  test('? matches exactly one character', () => {
    const { ctx } = setup();
    expect(expandGlob(ctx.vfs, `${M}/memory?`)).toEqual([`${M}/memory9`]);
    expect(expandGlob(ctx.vfs, `${M}/memory1?`)).toEqual([`${M}/memory10`, `${M}/memory16`]);
  });

  test('a pattern that matches nothing stays as it is', () => {
    const { ctx } = setup();
    expect(expandGlob(ctx.vfs, `${M}/node*`)).toEqual([`${M}/node*`]);
    expect(expandGlob(ctx.vfs, '/nope/*')).toEqual(['/nope/*']);
  });

  test('dots and other regex characters in a pattern are literal', () => {
    const { ctx } = setup();
    expect(expandGlob(ctx.vfs, `${M}/memory.*`)).toEqual([`${M}/memory.*`]);
  });

  test('a word without wildcards is left alone', () => {
    const { ctx } = setup();
    expect(expandGlob(ctx.vfs, `${M}/nothing`)).toEqual([`${M}/nothing`]);
  });

  test('the shell expands globs in arguments', () => {
    const { ctx } = setup();
    expect(runShell(ctx, `cat ${M}/memory*/valid_zones`).stdout).toBe('DMA32\nDMA32\nNormal Movable\n');
  });

  // bash: quoting a pattern character suppresses pathname expansion.
  test('a quoted pattern is not expanded', () => {
    const { ctx } = setup();
    expect(runShell(ctx, `echo '${M}/memory*'`).stdout).toBe(`${M}/memory*\n`);
    expect(runShell(ctx, `echo "${M}/memory?"`).stdout).toBe(`${M}/memory?\n`);
    expect(runShell(ctx, `echo ${M}/memory\\*`).stdout).toBe(`${M}/memory*\n`);
  });

  test('in a partly quoted word only the unquoted wildcards expand', () => {
    const { ctx } = setup();
    expect(runShell(ctx, `echo "${M}/mem"ory1?`).stdout).toBe(`${M}/memory10 ${M}/memory16\n`);
    // The quoted * matches only a literal *, which no file name has.
    expect(runShell(ctx, `echo ${M}/memory1'*'`).stdout).toBe(`${M}/memory1*\n`);
  });
});

describe('echo', () => {
  test('prints its arguments separated by one blank, with a newline', () => {
    const { ctx } = setup();
    expect(runShell(ctx, 'echo  a   b')).toEqual({ stdout: 'a b\n', stderr: '', errno: 0, status: 0 });
    expect(runShell(ctx, 'echo').stdout).toBe('\n');
  });

  test('-n drops the newline; -e and -E are accepted; options only at the front', () => {
    const { ctx } = setup();
    expect(runShell(ctx, 'echo -n online').stdout).toBe('online');
    expect(runShell(ctx, 'echo -n').stdout).toBe('');
    expect(runShell(ctx, 'echo -ne x').stdout).toBe('x');
    expect(runShell(ctx, 'echo -e -E x').stdout).toBe('x\n');
    expect(runShell(ctx, 'echo x -n').stdout).toBe('x -n\n');
    expect(runShell(ctx, 'echo -- x').stdout).toBe('-- x\n');
    expect(runShell(ctx, 'echo -x y').stdout).toBe('-x y\n');
  });

  test('> writes the output to a file: with a newline, or without after -n', () => {
    const { ctx, writes } = setup();
    expect(runShell(ctx, `echo online > ${M}/memory9/state`)).toEqual({
      stdout: '',
      stderr: '',
      errno: 0,
      status: 0,
    });
    expect(runShell(ctx, `echo -n online_movable >${M}/memory10/state`).status).toBe(0);
    expect(writes).toEqual(['memory9/state="online\\n"', 'memory10/state="online_movable"']);
  });

  test('a failed write prints bash\'s "echo: write error" with strerror, and sets the errno', () => {
    const { ctx } = setup();
    expect(runShell(ctx, `echo foo > ${M}/memory9/state`)).toEqual({
      stdout: '',
      stderr: 'bash: echo: write error: Invalid argument\n',
      errno: EINVAL,
      status: 1,
    });
    expect(runShell(ctx, `echo busy > ${M}/memory9/state`)).toEqual({
      stdout: '',
      stderr: 'bash: echo: write error: Device or resource busy\n',
      errno: EBUSY,
      status: 1,
    });
  });

  test('another command whose output cannot be written reports its own write error', () => {
    const { ctx } = setup();
    const r = runShell(ctx, `cat ${M}/block_size_bytes > ${M}/memory9/state`);
    expect(r.stderr).toBe('cat: write error: Invalid argument\n');
    expect(r.status).toBe(1);
  });

  test('a redirection to a file that cannot be opened fails before the command, as bash reports it', () => {
    const { ctx, writes } = setup();
    expect(runShell(ctx, `echo online > ${M}/memory99/state`)).toEqual({
      stdout: '',
      stderr: `bash: ${M}/memory99/state: No such file or directory\n`,
      errno: 2,
      status: 1,
    });
    expect(runShell(ctx, `echo 1 > ${M}/block_size_bytes`).stderr).toBe(
      `bash: ${M}/block_size_bytes: Permission denied\n`,
    );
    expect(runShell(ctx, `echo 1 > ${M}`).stderr).toBe(`bash: ${M}: Is a directory\n`);
    expect(writes).toEqual([]);
  });

  test('each filesystem fails in its own place: sysfs at open, procfs and debugfs at the write or read', () => {
    const root = staticDir({
      proc: staticDir({ meminfo: file(() => 'MemTotal: 1 kB\n', undefined, 'procfs') }),
      debug: staticDir({
        add: file(undefined, () => 0, 'debugfs'),
        info: file(() => 'x\n', undefined, 'debugfs'),
      }),
    });
    const ctx: ShellContext = { vfs: new Vfs(root), dmesg: () => '' };
    expect(runShell(ctx, 'echo 1 > /proc/meminfo')).toEqual({
      stdout: '',
      stderr: 'bash: echo: write error: Input/output error\n',
      errno: EIO,
      status: 1,
    });
    expect(runShell(ctx, 'echo 1 > /debug/info').stderr).toBe('bash: echo: write error: Invalid argument\n');
    expect(runShell(ctx, 'cat /debug/add')).toMatchObject({
      stderr: 'cat: /debug/add: Invalid argument\n',
      errno: EINVAL,
    });
  });

  test('> without a file name is a syntax error', () => {
    const { ctx } = setup();
    expect(runShell(ctx, 'echo a >')).toEqual({
      stdout: '',
      stderr: "bash: syntax error near unexpected token `newline'\n",
      errno: 0,
      status: 2,
    });
  });

  // bash: a word of digits directly before > is the file descriptor to redirect ("1>file" is
  // ">file" for stdout), so `echo 1>FILE` writes just a newline.
  test('digits glued to > name the file descriptor, they are not an argument', () => {
    const { ctx, writes } = setup();
    expect(runShell(ctx, `echo 1>${M}/probe`).stdout).toBe('');
    expect(writes).toEqual(['probe="\\n"']);
    expect(splitWords('echo 1>f 12>g a1>h')).toEqual(['echo', '1>', 'f', '12>', 'g', 'a1', '>', 'h']);
  });

  test('digits with a blank before > or with quotes are an argument', () => {
    const { ctx, writes } = setup();
    runShell(ctx, `echo online 1 >${M}/probe`);
    runShell(ctx, `echo -n '0'>${M}/probe`);
    expect(writes).toEqual(['probe="online 1\\n"', 'probe="0"']);
  });

  test('another descriptor is opened but the output stays on stdout (echo 0>FILE)', () => {
    const { ctx, writes } = setup();
    expect(runShell(ctx, `echo x 0>${M}/probe`).stdout).toBe('x\n');
    expect(writes).toEqual([]);
    expect(runShell(ctx, `echo x 3>${M}/nope`).stderr).toBe(`bash: ${M}/nope: No such file or directory\n`);
  });

  test('2> sends the error messages to a file; >> writes like >', () => {
    const { ctx, writes } = setup();
    const root = staticDir({
      dev: staticDir({
        null: file(
          () => '',
          () => 0,
        ),
      }),
      sys: ctx.vfs.root,
    });
    const vfs = new Vfs(root);
    expect(runShell({ ...ctx, vfs }, 'cat /nope 2>/dev/null')).toMatchObject({
      stdout: '',
      stderr: '',
      status: 1,
    });
    expect(runShell(ctx, `cat /nope 2>${M}/probe`).stderr).toBe('');
    expect(runShell(ctx, `echo online >>${M}/memory9/state`).status).toBe(0);
    expect(writes).toEqual(['probe="cat: /nope: No such file or directory\\n"', 'memory9/state="online\\n"']);
  });

  test('a redirection is opened before the command runs and even without a command', () => {
    const { ctx, writes } = setup();
    expect(runShell(ctx, `>${M}/memory99`).stderr).toBe(`bash: ${M}/memory99: No such file or directory\n`);
    expect(runShell(ctx, `>${M}/probe`)).toEqual({ stdout: '', stderr: '', errno: 0, status: 0 });
    expect(writes).toEqual([]);
  });

  test('nothing to print means no write: echo -n > FILE leaves the store alone', () => {
    const { ctx, writes } = setup();
    expect(runShell(ctx, `echo -n >${M}/memory9/state`).status).toBe(0);
    expect(writes).toEqual([]);
  });

  test('a redirection whose pattern matches several files is ambiguous', () => {
    const { ctx, writes } = setup();
    expect(runShell(ctx, `echo online >${M}/memory1*/state`)).toMatchObject({
      stderr: `bash: ${M}/memory1*/state: ambiguous redirect\n`,
      status: 1,
    });
    expect(runShell(ctx, `echo online >${M}/memory?/state`).status).toBe(0);
    expect(writes).toEqual(['memory9/state="online\\n"']);
  });

  test('> followed by another operator is a syntax error naming it', () => {
    const { ctx } = setup();
    expect(runShell(ctx, 'echo a > > b').stderr).toBe("bash: syntax error near unexpected token `>'\n");
  });
});

describe('cat', () => {
  test('prints files one after the other', () => {
    const { ctx } = setup();
    expect(runShell(ctx, `cat ${M}/block_size_bytes ${M}/auto_online_blocks`).stdout).toBe(
      '8000000\noffline\n',
    );
  });

  test('a missing file: "cat: PATH: No such file or directory", status 1, the other files still printed', () => {
    const { ctx } = setup();
    expect(runShell(ctx, `cat /nope ${M}/block_size_bytes`)).toEqual({
      stdout: '8000000\n',
      stderr: 'cat: /nope: No such file or directory\n',
      errno: 2,
      status: 1,
    });
  });

  test('a directory: "cat: PATH: Is a directory"; a path through a file: "Not a directory"', () => {
    const { ctx } = setup();
    expect(runShell(ctx, `cat ${M}`).stderr).toBe(`cat: ${M}: Is a directory\n`);
    expect(runShell(ctx, `cat ${M}/block_size_bytes/x`).stderr).toBe(
      `cat: ${M}/block_size_bytes/x: Not a directory\n`,
    );
  });

  test('a write-only sysfs file: "Permission denied"', () => {
    const { ctx } = setup();
    expect(runShell(ctx, `cat ${M}/probe`)).toMatchObject({
      stderr: `cat: ${M}/probe: Permission denied\n`,
      errno: 13,
      status: 1,
    });
  });
});

describe('ls', () => {
  test('lists a directory version-sorted, directories with / and links with @', () => {
    const { ctx } = setup();
    expect(runShell(ctx, `ls ${M}`).stdout).toBe(
      'auto_online_blocks\nblock_size_bytes\nmemory9/\nmemory10/\nmemory16/\nprobe\n',
    );
    expect(runShell(ctx, 'ls /sys').stdout).toBe('devices/\nlink9@\n');
  });

  test('a file argument is printed as given', () => {
    const { ctx } = setup();
    expect(runShell(ctx, `ls ${M}/probe`).stdout).toBe(`${M}/probe\n`);
  });

  test('several directories each get a "DIR:" header', () => {
    const { ctx } = setup();
    expect(runShell(ctx, `ls ${M}/memory9 ${M}/memory10`).stdout).toBe(
      `${M}/memory9:\nonline\nstate\nvalid_zones\n${M}/memory10:\nonline\nstate\nvalid_zones\n`,
    );
  });

  test('a missing path: "ls: cannot access \'PATH\': No such file or directory", status 2', () => {
    const { ctx } = setup();
    expect(runShell(ctx, `ls ${M}/memory99`)).toEqual({
      stdout: '',
      stderr: `ls: cannot access '${M}/memory99': No such file or directory\n`,
      errno: 2,
      status: 2,
    });
  });
});

describe('grep', () => {
  test('prints matching lines; status 0 on a match, 1 without', () => {
    const { ctx } = setup();
    expect(runShell(ctx, 'grep MemTotal /proc/meminfo')).toEqual({
      stdout: 'MemTotal:        2034072 kB\n',
      stderr: '',
      errno: 0,
      status: 0,
    });
    expect(runShell(ctx, 'grep Mem /proc/meminfo').stdout).toBe(
      'MemTotal:        2034072 kB\nMemFree:         2025080 kB\n',
    );
    expect(runShell(ctx, 'grep Swap /proc/meminfo')).toEqual({ stdout: '', stderr: '', errno: 0, status: 1 });
  });

  test('with several files (or -H) each line is prefixed with its file name', () => {
    const { ctx } = setup();
    expect(runShell(ctx, `grep -H Normal ${M}/memory9/valid_zones`).stdout).toBe(
      `${M}/memory9/valid_zones:Normal Movable\n`,
    );
    expect(runShell(ctx, `grep DMA ${M}/memory*/valid_zones`).stdout).toBe(
      `${M}/memory10/valid_zones:DMA32\n${M}/memory16/valid_zones:DMA32\n`,
    );
  });

  test('basic regular expressions: \\| is alternation', () => {
    const { ctx } = setup();
    expect(runShell(ctx, 'grep "MemTotal\\|MemFree" /proc/meminfo').stdout.split('\n')).toHaveLength(3);
  });

  test('a missing file: "grep: PATH: No such file or directory", status 2; a directory: "Is a directory"', () => {
    const { ctx } = setup();
    expect(runShell(ctx, 'grep x /nope')).toEqual({
      stdout: '',
      stderr: 'grep: /nope: No such file or directory\n',
      errno: 2,
      status: 2,
    });
    expect(runShell(ctx, `grep x ${M}`).stderr).toBe(`grep: ${M}: Is a directory\n`);
  });

  test('no pattern: the usage line, status 2', () => {
    const { ctx } = setup();
    expect(runShell(ctx, 'grep')).toMatchObject({
      stderr: 'Usage: grep [OPTION]... PATTERNS [FILE]...\n',
      status: 2,
    });
  });
});

describe('other commands', () => {
  test('dmesg prints the kernel log; true and : do nothing', () => {
    const { ctx } = setup();
    expect(runShell(ctx, 'dmesg').stdout).toBe('[    0.000000] Linux version 6.12\n');
    expect(runShell(ctx, 'true')).toEqual({ stdout: '', stderr: '', errno: 0, status: 0 });
    expect(runShell(ctx, ':').status).toBe(0);
  });

  test('an unknown command: "bash: CMD: command not found", status 127', () => {
    const { ctx } = setup();
    expect(runShell(ctx, 'lsmem')).toEqual({
      stdout: '',
      stderr: 'bash: lsmem: command not found\n',
      errno: 0,
      status: 127,
    });
  });

  test('an empty line or a comment does nothing', () => {
    const { ctx } = setup();
    expect(runShell(ctx, '   # nothing')).toEqual({ stdout: '', stderr: '', errno: 0, status: 0 });
  });

  test('an unterminated quote is reported by bash, status 2', () => {
    const { ctx } = setup();
    const r = runShell(ctx, "echo 'x");
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^bash: unexpected EOF while looking for matching/);
  });
});
