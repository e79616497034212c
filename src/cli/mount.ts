/**
 * `riscv-hotplug mount DIR [OPTIONS]`: the booted guest's /sys and /proc served live under DIR
 * through FUSE, so real tools (bash, lsmem, chmem, the kernel's selftests, guest agents) drive
 * the model. A read shows the state at that moment; a write runs the kernel's store handler and
 * its errno is what write(2) returns. Standard input takes `(qemu)` monitor lines. The FUSE
 * binding (fuse-native, an optional dependency) is loaded only here. docs/mount.md has the why.
 */
import { existsSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import * as readline from 'node:readline';
import { parseRunArgs, UsageError } from '../session/options.js';
import { GuestFiles, type GuestEntry, type OpenGuestFile } from '../session/guest-files.js';
import { checkInvariants, formatViolation } from '../check/invariants.js';
import { openSession } from './files.js';

/** The part of fuse-native's API used here (the package ships no types). */
interface FuseStat {
  mode: number;
  size: number;
  nlink: number;
  uid: number;
  gid: number;
  mtime: Date;
  atime: Date;
  ctime: Date;
}
type Done = (errOrResult: number) => void;
interface FuseOps {
  getattr(path: string, cb: (err: number, stat?: FuseStat) => void): void;
  fgetattr(path: string, fd: number, cb: (err: number, stat?: FuseStat) => void): void;
  readdir(path: string, cb: (err: number, names?: string[]) => void): void;
  readlink(path: string, cb: (err: number, target?: string) => void): void;
  open(path: string, flags: number, cb: (err: number, fd?: number) => void): void;
  release(path: string, fd: number, cb: Done): void;
  read(path: string, fd: number, buf: Buffer, len: number, pos: number, cb: Done): void;
  write(path: string, fd: number, buf: Buffer, len: number, pos: number, cb: Done): void;
  truncate(path: string, size: number, cb: Done): void;
  ftruncate(path: string, fd: number, size: number, cb: Done): void;
  create(path: string, mode: number, cb: (err: number, fd?: number) => void): void;
  mknod(path: string, mode: number, dev: number, cb: Done): void;
  mkdir(path: string, mode: number, cb: Done): void;
  unlink(path: string, cb: Done): void;
  rmdir(path: string, cb: Done): void;
  rename(src: string, dest: string, cb: Done): void;
  symlink(target: string, path: string, cb: Done): void;
  link(target: string, path: string, cb: Done): void;
  chmod(path: string, mode: number, cb: Done): void;
  chown(path: string, uid: number, gid: number, cb: Done): void;
  utimens(path: string, atime: number, mtime: number, cb: Done): void;
}
interface FuseMount {
  mount(cb: (err: Error | null) => void): void;
  unmount(cb: (err: Error | null) => void): void;
}
interface FuseClass {
  new (mnt: string, ops: FuseOps, opts: Record<string, unknown>): FuseMount;
}

const INSTALL_HINT = 'apt-get install libfuse2 fuse';

/** The model's /dev/null serves its script shell's redirections; the host has its own. */
const HIDDEN = /^\/dev(\/|$)/;

/** errno values FUSE gets back for operations sysfs and procfs refuse. */
const EPERM = 1;
const ENOENT = 2;
const EIO = 5;
const EACCES = 13;

/** Loads the binding; anything wrong (not installed, libfuse.so.2 missing) is one line. */
async function loadFuse(): Promise<FuseClass> {
  if (!existsSync('/dev/fuse'))
    throw new UsageError(
      `riscv-hotplug mount: FUSE is not available (${INSTALL_HINT}): /dev/fuse is missing`,
      1,
    );
  // A name in a variable: TypeScript does not look for types, and builds without the package installed.
  const name = 'fuse-native';
  try {
    const mod = (await import(name)) as { default: FuseClass };
    return mod.default;
  } catch (e) {
    const why = (e instanceof Error ? e.message : String(e)).split('\n')[0];
    throw new UsageError(`riscv-hotplug mount: FUSE is not available (${INSTALL_HINT}): ${why}`, 1);
  }
}

/**
 * Mode bits and sizes as the real kernel shows them: sysfs files 0644/0444/0200 by their methods
 * and 4096 bytes long, procfs and debugfs files 0 bytes long (readers read until end of file).
 */
function statOf(e: GuestEntry, time: Date): FuseStat {
  const base = { nlink: 1, uid: 0, gid: 0, mtime: time, atime: time, ctime: time };
  if (e.kind === 'dir') return { ...base, mode: 0o40755, size: 0, nlink: 2 };
  if (e.kind === 'link') return { ...base, mode: 0o120777, size: Buffer.byteLength(e.target) };
  const perm = (e.readable ? 0o444 : 0) | (e.writable ? 0o200 : 0);
  return { ...base, mode: 0o100000 | perm, size: e.fs === 'sysfs' ? 4096 : 0 };
}

interface MountArgs {
  dir: string;
  check: boolean;
}

function parseMountArgs(argv: string[]): { mount: MountArgs; machine: ReturnType<typeof parseRunArgs> } {
  const opts = parseRunArgs(argv);
  if (opts.script === undefined)
    throw new UsageError('riscv-hotplug mount: missing DIR (usage: riscv-hotplug mount DIR [OPTIONS])');
  if (opts.json || opts.sysroot !== undefined)
    throw new UsageError(
      'riscv-hotplug mount: --json and --sysroot do not apply to mount (the files are live)',
    );
  const dir = resolve(opts.script);
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // A mount left by a killed run: fuse-native's `force` clears it before mounting.
    if (code === 'ENOTCONN') isDir = true;
    else
      throw new UsageError(
        `riscv-hotplug mount: ${opts.script}: ${code === 'ENOENT' ? 'No such file or directory' : (code ?? 'cannot stat')}`,
      );
  }
  if (!isDir) throw new UsageError(`riscv-hotplug mount: ${opts.script}: Not a directory`);
  return { mount: { dir, check: opts.check }, machine: opts };
}

/** The FUSE operations over the guest's files. */
function fuseOps(
  files: GuestFiles,
  report: (text: string) => void,
  afterWrite: (label: string) => void,
): FuseOps {
  const started = new Date();
  const handles = new Map<number, OpenGuestFile>();
  let nextFh = 1;
  // A handler that throws would kill the process and leave the mount hanging: the model's own
  // bugs become EIO and a line on standard error instead.
  // A bug in the model answers the one request with EIO and a line on stderr; the mount goes on.
  const guard = (op: string, path: string, cb: (err: number) => void, fn: () => void): void => {
    try {
      fn();
    } catch (e) {
      report(
        `riscv-hotplug mount: internal error in ${op} ${path}: ${e instanceof Error ? e.message : String(e)}\n`,
      );
      cb(-EIO);
    }
  };
  const getattr = (path: string, cb: (err: number, stat?: FuseStat) => void): void =>
    guard('getattr', path, cb, () => {
      const r = HIDDEN.test(path) ? { errno: ENOENT } : files.lstat(path);
      // fstat(2) of an open file whose block has gone still answers (the kernel keeps the inode
      // while it is open; FUSE asks by path).
      const h = r.errno === ENOENT ? [...handles.values()].find((o) => o.path === path) : undefined;
      if (h)
        return cb(0, statOf({ kind: 'file', fs: 'sysfs', readable: h.read, writable: h.write }, started));
      if (r.errno !== 0 || !('value' in r)) cb(-r.errno);
      else cb(0, statOf(r.value, started));
    });
  const refuse =
    (errno: number) =>
    (...args: unknown[]): void => {
      const cb = args[args.length - 1] as Done;
      cb(-errno);
    };
  const accept = (...args: unknown[]): void => {
    const cb = args[args.length - 1] as Done;
    cb(0);
  };
  return {
    getattr,
    fgetattr: (path, _fd, cb) => getattr(path, cb),
    readdir: (path, cb) =>
      guard('readdir', path, cb, () => {
        const r = files.readdir(path);
        if (r.errno !== 0 || !('value' in r)) cb(-r.errno);
        else cb(0, ['.', '..', ...r.value.filter((n) => !HIDDEN.test(`${path === '/' ? '' : path}/${n}`))]);
      }),
    readlink: (path, cb) =>
      guard('readlink', path, cb, () => {
        const r = files.readlink(path);
        if (r.errno !== 0 || !('value' in r)) cb(-r.errno);
        else cb(0, r.value);
      }),
    open: (path, flags, cb) =>
      guard('open', path, cb, () => {
        const acc = flags & 3; // O_ACCMODE: O_RDONLY 0, O_WRONLY 1, O_RDWR 2
        const r = files.open(path, acc !== 1, acc !== 0);
        if (r.errno !== 0 || !('value' in r)) return cb(-r.errno);
        const fh = nextFh++;
        handles.set(fh, r.value);
        cb(0, fh);
      }),
    release: (_path, fd, cb) => {
      handles.delete(fd);
      cb(0);
    },
    read: (path, fd, buf, len, pos, cb) =>
      guard('read', path, cb, () => {
        const h = handles.get(fd);
        if (!h) return cb(-EIO);
        const r = files.read(h, pos);
        if (r.errno !== 0 || !('value' in r)) return cb(-r.errno);
        const bytes = Buffer.from(r.value);
        cb(pos >= bytes.length ? 0 : bytes.copy(buf, 0, pos, Math.min(bytes.length, pos + len)));
      }),
    write: (path, fd, buf, len, _pos, cb) =>
      guard('write', path, cb, () => {
        const h = handles.get(fd);
        if (!h) return cb(-EIO);
        const data = buf.toString('utf8', 0, len);
        const r = files.write(h, data);
        if (r.effects.kmsg.length) report(r.effects.kmsg.join('\n') + '\n');
        if (r.effects.console) report(r.effects.console);
        afterWrite(`write of ${JSON.stringify(data)} to ${path}`);
        cb(r.errno ? -r.errno : len);
      }),
    // `echo x > FILE` opens with O_TRUNC; kernfs and procfs accept the truncation and ignore it.
    truncate: accept,
    ftruncate: accept,
    chmod: accept,
    chown: accept,
    utimens: accept,
    // No file or directory can be made or removed by hand in sysfs, procfs or debugfs.
    create: refuse(EACCES),
    mknod: refuse(EACCES),
    mkdir: refuse(EPERM),
    unlink: refuse(EPERM),
    rmdir: refuse(EPERM),
    rename: refuse(EPERM),
    symlink: refuse(EPERM),
    link: refuse(EPERM),
  };
}

/** Last resort when the process is going down without its normal unmount. */
function lazyUnmount(dir: string): void {
  try {
    execFileSync('fusermount', ['-uz', dir], { stdio: 'ignore' });
  } catch {
    // Already gone, or fusermount missing: nothing more to do.
  }
}

export async function mountCommand(argv: string[]): Promise<number> {
  const { mount, machine } = parseMountArgs(argv);
  const Fuse = await loadFuse();
  const session = openSession(machine);
  for (const n of session.notes) process.stderr.write(n + '\n');
  const files = new GuestFiles(session);
  const report = (text: string): void => void process.stderr.write(text);
  let violations = false;
  const afterChange = (label: string): void => {
    if (!mount.check || session.dead || violations) return;
    const v = checkInvariants(session.system, label);
    if (!v.length) return;
    violations = true;
    report(`riscv-hotplug mount: --check: ${v.length} invariant violation(s) after ${label}:\n`);
    for (const x of v.slice(0, 20)) report('  ' + formatViolation(x) + '\n');
  };

  const fuse = new Fuse(mount.dir, fuseOps(files, report, afterChange), {
    // A mount left by a killed earlier run ("Transport endpoint is not connected") is cleared first.
    force: true,
    // fusermount unmounts by itself if this process dies without unmounting (SIGKILL, a crash).
    autoUnmount: true,
    // Handlers answer at once; fuse-native's 15 s timer per request would only cost time.
    timeout: false,
    // fuse-native has no option for direct_io; libfuse splits options at commas, so it rides on
    // fsname. direct_io makes every read(2) reach the model: no page cache, and file sizes
    // (4096 for sysfs, 0 for procfs, as the kernel reports them) do not cut reads short.
    fsname: 'riscv-hotplug,direct_io',
    // No cached names: a block virtio-mem removes is gone at once, as in sysfs. (Strings, as
    // fuse-native drops a falsy 0.)
    entryTimeout: '0',
    attrTimeout: '0',
  });
  await new Promise<void>((ok, fail) =>
    fuse.mount((err) => {
      if (err)
        fail(
          new UsageError(
            `riscv-hotplug mount: cannot mount on ${mount.dir}: ${err.message} (is it in use? fusermount -u ${mount.dir})`,
            1,
          ),
        );
      else ok();
    }),
  );

  let closing = false;
  let quit = (): void => undefined;
  const finish = new Promise<number>((done) => {
    const unmount = (status: number): void => {
      if (closing) return;
      closing = true;
      fuse.unmount((err) => {
        // Busy (a shell inside DIR) or already gone: detach it lazily instead.
        if (err) lazyUnmount(mount.dir);
        done(status);
      });
    };
    process.on('SIGINT', () => unmount(0));
    process.on('SIGTERM', () => unmount(0));
    process.on('SIGHUP', () => unmount(0));
    quit = () => unmount(0);
    process.on('uncaughtException', (e) => {
      report(`riscv-hotplug mount: internal error: ${e.message}\n`);
      lazyUnmount(mount.dir);
      process.exit(70);
    });
  });

  const k = session.system.kernel;
  process.stdout.write(
    `riscv-hotplug: mounted ${mount.dir} (Linux ${k.profile.release}, ${machine.ramBytes >> 20n} MiB, ${machine.smp} harts, ${k.mode.name}): ` +
      `sys/ and proc/ are live; "(qemu) CMD" lines on standard input go to the monitor; Ctrl-C or "quit" unmounts\n`,
  );

  // Monitor lines: "(qemu) CMD", or just CMD, since the guest's shell is the host's shell now.
  const tty = process.stdin.isTTY === true;
  const rl = readline.createInterface({
    input: process.stdin,
    output: tty ? process.stdout : undefined,
    terminal: tty,
    prompt: '(qemu) ',
  });
  // On a terminal readline takes Ctrl-C for itself; it still means unmount and quit.
  rl.on('SIGINT', () => process.emit('SIGINT'));
  rl.on('line', (line) => {
    const text = line.trim();
    if (text !== '' && !text.startsWith('#')) {
      const cmd = text.startsWith('(qemu)') ? text : `(qemu) ${text}`;
      // QEMU's quit ends the machine: here it unmounts and exits.
      if (/^\(qemu\)\s*(quit|q)$/.test(cmd)) return quit();
      try {
        const r = session.execute(cmd);
        if (r) {
          for (const l of r.kmsg) report(l + '\n');
          process.stdout.write(r.stdout);
          report(r.stderr);
          afterChange(r.cmd);
        }
      } catch (e) {
        // The model's own bug: say so and keep serving, as the files may still be of use.
        report(
          `riscv-hotplug mount: internal error in "${cmd}": ${e instanceof Error ? e.message : String(e)}\n`,
        );
      }
    }
    if (tty) rl.prompt();
  });
  if (tty) rl.prompt();

  const status = await finish;
  rl.close();
  // Standard input would keep the process alive after the unmount.
  process.stdin.destroy();
  return status;
}
