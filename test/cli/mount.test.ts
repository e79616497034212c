/**
 * `riscv-hotplug mount DIR` with real clients: bash, util-linux's lsmem and chmem, and the
 * kernel's own selftest mem-on-off-test.sh (from Debian's linux-source-6.12, extracted at test
 * time), all against the real built executable over a real FUSE mount.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = join(root, 'bin', 'riscv-hotplug');
const SOURCE_TARBALL = '/usr/src/linux-source-6.12.tar.xz';
const SELFTEST = join(root, 'tmp', 'selftests', 'mem-on-off-test.sh');

/** Why the FUSE tests cannot run here, or undefined when they can. */
function fuseMissing(): string | undefined {
  if (!existsSync('/dev/fuse')) return '/dev/fuse is missing';
  if (spawnSync('fusermount', ['-V']).error) return 'fusermount is missing (apt-get install fuse)';
  // In a child: a native addon loaded into vitest's worker thread could not be unloaded.
  const r = spawnSync(process.execPath, ['-e', "require('fuse-native')"], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0)
    return `fuse-native does not load: ${r.stderr.split('\n').find((l) => /Error/.test(l)) ?? r.stderr}`;
  return undefined;
}

const missing = fuseMissing();
if (missing) console.warn(`mount tests skipped: ${missing}`);

const MACHINE = [
  '-m',
  '4G,slots=4,maxmem=16G',
  '-object',
  'memory-backend-ram,id=vmem0,size=2G',
  '-device',
  'virtio-mem-pci,id=vm0,memdev=vmem0,node=0',
];

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a program to its end without blocking the event loop (the mount answers in this process's children). */
function run(cmd: string, args: string[], timeoutMs = 30_000): Promise<Run> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

const bash = (script: string, timeoutMs?: number): Promise<Run> => run('bash', ['-c', script], timeoutMs);

async function until(what: string, f: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await f())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function mounted(dir: string): boolean {
  return readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[1] === dir);
}

/** Takes the selftest out of Debian's kernel source once (it is not part of this project). */
function extractSelftest(): Promise<void> {
  if (existsSync(SELFTEST) || !existsSync(SOURCE_TARBALL)) return Promise.resolve();
  const tmp = mkdtempSync(join(tmpdir(), 'rh-selftest-'));
  return run(
    'tar',
    [
      '-xJf',
      SOURCE_TARBALL,
      '-C',
      tmp,
      '--wildcards',
      '*/tools/testing/selftests/memory-hotplug/mem-on-off-test.sh',
    ],
    60_000,
  ).then(() => {
    const found = spawnSync('find', [tmp, '-name', 'mem-on-off-test.sh'], { encoding: 'utf8' }).stdout.trim();
    if (found) {
      mkdirSync(dirname(SELFTEST), { recursive: true });
      renameSync(found, SELFTEST);
    }
    rmSync(tmp, { recursive: true, force: true });
  });
}

describe.skipIf(missing !== undefined)('riscv-hotplug mount DIR (real FUSE, real clients)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rh-mount-'));
  const mem = join(dir, 'sys/devices/system/memory');
  let child: ChildProcessWithoutNullStreams;
  let out = '';
  let err = '';
  let exited: Promise<number | null>;
  let selftest: Promise<void>;
  // Runs the tool inside a private mount namespace where the model's memory directory is the
  // host's /sys/devices/system/memory (for tools with no --sysroot).
  const inNamespace = (script: string, timeoutMs?: number): Promise<Run> =>
    run(
      'unshare',
      ['--mount', 'bash', '-c', `mount --bind ${mem} /sys/devices/system/memory && ${script}`],
      timeoutMs,
    );
  const state = (n: number): string => readFileSync(join(mem, `memory${n}`, 'state'), 'utf8').trim();
  const monitor = (line: string): void => void child.stdin.write(line + '\n');

  beforeAll(async () => {
    selftest = extractSelftest();
    child = spawn(process.execPath, [bin, 'mount', dir, ...MACHINE], { cwd: root });
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
    await until(
      'the ready line',
      () => out.includes('riscv-hotplug: mounted') || child.exitCode !== null,
      20_000,
    );
    expect(child.exitCode, err).toBeNull();
  }, 30_000);

  afterAll(async () => {
    // Whatever happened above, no mount is left behind.
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(t);
    }
    if (mounted(dir)) spawnSync('fusermount', ['-uz', dir]);
    rmSync(dir, { recursive: true, force: true });
  }, 20_000);

  test('the guest files read live through cat, ls and bash, with the kernel’s sizes and links', async () => {
    expect(readFileSync(join(mem, 'block_size_bytes'), 'utf8')).toBe('8000000\n');
    const r = await bash(
      `cat ${dir}/proc/meminfo | head -1; read s < ${mem}/memory16/state; echo "$s"; readlink ${mem}/memory16/node0; ` +
        `stat -c '%s %A' ${mem}/memory16/state ${dir}/proc/iomem; ls ${dir}; wc -l < ${dir}/sys/kernel/debug/kernel_page_tables; ` +
        `cat ${dir}/sys/kernel/debug/hotplug_oracle/add`,
    );
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^MemTotal:\s+\d+ kB$/);
    expect(lines.slice(1, 6)).toEqual([
      'online',
      '../../node/node0',
      '4096 -rw-r--r--',
      '0 -r--r--r--',
      'proc',
    ]);
    expect(lines[6]).toBe('sys');
    expect(Number(lines[7])).toBeGreaterThan(10);
    expect(r.stderr).toContain('hotplug_oracle/add: Invalid argument');
  });

  test('a failed write comes back as the kernel’s errno, as bash prints it', async () => {
    // Boot memory with unmovable pages cannot go offline; "bogus" is no state.
    const r = await bash(
      `echo offline > ${mem}/memory16/state; echo $?; echo bogus > ${mem}/memory16/state; echo > ${mem}/x`,
    );
    expect(r.stdout).toBe('1\n');
    expect(r.stderr).toMatch(/echo: write error: Device or resource busy\n/);
    expect(r.stderr).toMatch(/echo: write error: Invalid argument\n/);
    expect(r.stderr).toMatch(/x: Permission denied\n/);
    expect(state(16)).toBe('online');
    // An interactive bash prints it exactly as on a real guest (no "line 1:").
    const i = await run('bash', ['--norc', '-i', '-c', `echo offline > ${mem}/memory16/state`]);
    expect(i.stderr.split('\n')).toContain('bash: echo: write error: Device or resource busy');
  });

  test('(qemu) lines on standard input grow virtio-mem while lsmem --sysroot watches', async () => {
    monitor('(qemu) qom-set vm0 requested-size 1G');
    await until('the new blocks', () => existsSync(join(mem, 'memory55')));
    const r = await run('lsmem', ['--sysroot', dir]);
    expect(r.stdout).toContain('0x0000000080000000-0x000000017fffffff   4G  online       yes 16-47');
    expect(r.stdout).toContain('0x0000000180000000-0x00000001bfffffff   1G offline           48-55');
    monitor('info memory-devices');
    await until('the monitor reply', () => out.includes('  size: 1073741824'));
  });

  test('bash online/offline loops over memory*/state', async () => {
    const on = await bash(
      `for f in ${mem}/memory*/state; do grep -q offline $f && { echo online_movable > $f || exit 1; }; done; cat ${mem}/memory*/state | sort | uniq -c`,
    );
    expect(on.stderr).toBe('');
    expect(on.stdout.trim()).toBe('40 online');
    const off = await bash(
      `for n in 48 49 50 51 52 53 54 55; do echo offline > ${mem}/memory$n/state || exit 1; done`,
    );
    expect(off.status, off.stderr).toBe(0);
    expect([48, 49, 50, 51, 52, 53, 54, 55].map(state)).toEqual(Array(8).fill('offline'));
  });

  test('chmem (no --sysroot) in a private mount namespace onlines and offlines by size', async () => {
    const r = await inNamespace('chmem -v -e 512M && chmem -v -d 256M');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.match(/ enabled$/gm)).toHaveLength(4);
    expect(r.stdout.match(/ disabled$/gm)).toHaveLength(2);
    // The model now has 512M - 256M of the device online, as chmem asked.
    const online = [48, 49, 50, 51, 52, 53, 54, 55].filter((n) => state(n) === 'online');
    expect(online).toHaveLength(2);
    const l = await run('lsmem', ['--sysroot', dir]);
    expect(l.stdout).toContain('Total online memory:     4.3G');
  });

  test('a mount under load: 10,000 writes and reads from two processes lose nothing and do not hang', async () => {
    // Each process owns one block and checks every write by reading it back.
    const loop = (n: number): string =>
      `f=${mem}/memory${n}/state; bad=0; for ((i=0;i<1250;i++)); do ` +
      'echo online > $f || bad=$((bad+1)); read s < $f; [ "$s" = online ] || bad=$((bad+1)); ' +
      'echo offline > $f || bad=$((bad+1)); read s < $f; [ "$s" = offline ] || bad=$((bad+1)); ' +
      'done; echo "bad=$bad"';
    await bash(`echo offline > ${mem}/memory52/state; echo offline > ${mem}/memory53/state`);
    const t0 = Date.now();
    const [a, b] = await Promise.all([bash(loop(52), 50_000), bash(loop(53), 50_000)]);
    const ms = Date.now() - t0;
    console.log(`mount load: 10000 operations (2 processes x 1250 x write+read x 2) in ${ms} ms`);
    expect(a.stdout + b.stdout).toBe('bad=0\nbad=0\n');
    expect(a.stderr + b.stderr).toBe('');
    expect([state(52), state(53)]).toEqual(['offline', 'offline']);
  }, 60_000);

  test.skipIf(!existsSync(SOURCE_TARBALL))(
    'the kernel selftest mem-on-off-test.sh passes its online/offline part',
    async () => {
      await selftest;
      expect(existsSync(SELFTEST), `no mem-on-off-test.sh in ${SOURCE_TARBALL}`).toBe(true);
      const r = await inNamespace(`bash ${SELFTEST}`, 45_000);
      expect(r.stdout).toContain('offline->online memory');
      expect(r.stdout).toMatch(/online->offline memory\d+\n-> Success/);
      expect(r.stdout + r.stderr).not.toMatch(/FAILED|unexpected/);
      // Its error-injection part needs a kernel module the model has not got; it skips that.
      expect(r.stderr).toMatch(/skip extra tests/);
      expect(r.status, r.stdout + r.stderr).toBe(0);
      expect([48, 49, 50, 51, 52, 53, 54, 55].map(state)).toEqual(Array(8).fill('online'));
    },
    60_000,
  );

  test('a block virtio-mem takes away is gone at once; a file still open on it reads ENODEV', async () => {
    const held = spawn('bash', [
      '-c',
      `exec 3< ${mem}/memory55/state && echo open; read -r line; cat <&3; ls ${mem} | grep -c '^memory'`,
    ]);
    let heldOut = '';
    let heldErr = '';
    held.stdout.on('data', (d: Buffer) => (heldOut += d.toString()));
    held.stderr.on('data', (d: Buffer) => (heldErr += d.toString()));
    await until('the client to open the file', () => heldOut === 'open\n');
    monitor('qom-set vm0 requested-size 0');
    await until('the blocks to go', () => !existsSync(join(mem, 'memory55')));
    held.stdin.end('go\n');
    await new Promise((res) => held.on('close', res));
    expect(heldErr).toMatch(/No such device/);
    expect(heldOut).toBe('open\n32\n');
  });

  test('a second mount on the same DIR is one readable line, not a stack trace', async () => {
    const r = await run(process.execPath, [bin, 'mount', dir]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/^riscv-hotplug mount: cannot mount on .*\n$/);
  });

  test('SIGTERM unmounts cleanly, also after a client crashed holding files open', async () => {
    // One client is killed while it has a file open and its working directory inside the mount;
    // another is still sitting in the mount when the signal comes.
    const crashed = spawn('bash', ['-c', `cd ${mem}; exec 3< memory16/state; exec sleep 60`]);
    const sitting = spawn('bash', ['-c', `cd ${mem}; exec sleep 60`]);
    await new Promise((r) => setTimeout(r, 300));
    crashed.kill('SIGKILL');
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(mounted(dir)).toBe(false);
    sitting.kill('SIGKILL');
    expect(err).not.toMatch(/internal error|\bat .*\.js:\d+/);
  });
});

describe.skipIf(missing !== undefined)('riscv-hotplug mount: crashes and --check', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rh-stale-'));
  const start = async (
    args: string[] = [],
  ): Promise<{ p: ChildProcessWithoutNullStreams; exited: Promise<number | null>; stderr: () => string }> => {
    const p = spawn(process.execPath, [bin, 'mount', dir, ...args], { cwd: root });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => p.on('exit', (code) => resolve(code)));
    await until(
      'the ready line',
      () => out.includes('riscv-hotplug: mounted') || p.exitCode !== null,
      20_000,
    );
    return { p, exited, stderr: () => err };
  };
  afterAll(() => {
    if (mounted(dir)) spawnSync('fusermount', ['-uz', dir]);
    rmSync(dir, { recursive: true, force: true });
  });

  test('a mount left dead by SIGKILL (and its fusermount helper killed too) is cleared by the next mount', async () => {
    const first = await start();
    // Killing the auto_unmount helper first leaves the mount dead: "Transport endpoint is not connected".
    const helper = spawnSync('pgrep', ['-P', String(first.p.pid), 'fusermount'], {
      encoding: 'utf8',
    }).stdout.trim();
    if (helper) process.kill(Number(helper), 'SIGKILL');
    first.p.kill('SIGKILL');
    await first.exited;
    const second = await start();
    expect(second.p.exitCode).toBeNull();
    expect(readFileSync(join(dir, 'sys/devices/system/memory/block_size_bytes'), 'utf8')).toBe('8000000\n');
    second.p.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect(mounted(dir)).toBe(false);
  });
  test('--check reports the invariant a write through the mount breaks', async () => {
    // Removing 128 MiB of a range the linear map covers with one 1 GiB leaf clears the whole leaf (F1).
    const m = await start(['--check', '-m', '8G', '-append', 'mem=2G no5lvl']);
    const oracle = join(dir, 'sys/kernel/debug/hotplug_oracle');
    const r = await bash(
      `echo -n 0x100000000 0x40000000 > ${oracle}/add && echo -n 0x108000000 0x8000000 > ${oracle}/remove`,
    );
    expect(r.status, r.stderr).toBe(0);
    await until('the report', () => m.stderr().includes('violated'));
    expect(m.stderr()).toContain('riscv-hotplug mount: --check: ');
    expect(m.stderr()).toContain('invariant linear-map-covers-present-memory violated after "write of ');
    // The monitor's quit unmounts and ends, as SIGTERM does.
    m.p.stdin.write('(qemu) quit\n');
    expect(await m.exited).toBe(0);
    expect(mounted(dir)).toBe(false);
  });
});

describe('riscv-hotplug mount: bad input', () => {
  test('without the FUSE binding, mount says what to install and the rest still runs', async () => {
    // A copy of the built program whose node_modules has everything but fuse-native.
    const copy = mkdtempSync(join(tmpdir(), 'rh-nofuse-'));
    cpSync(join(root, 'bin'), join(copy, 'bin'), { recursive: true });
    cpSync(join(root, 'dist'), join(copy, 'dist'), { recursive: true });
    cpSync(join(root, 'package.json'), join(copy, 'package.json'));
    mkdirSync(join(copy, 'node_modules'));
    for (const name of readdirSync(join(root, 'node_modules')))
      if (name !== 'fuse-native')
        symlinkSync(join(root, 'node_modules', name), join(copy, 'node_modules', name));
    const r = await run(process.execPath, [join(copy, 'bin', 'riscv-hotplug'), 'mount', copy]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /^riscv-hotplug mount: FUSE is not available \(apt-get install libfuse2 fuse\): [^\n]+\n$/,
    );
    const help = await run(process.execPath, [join(copy, 'bin', 'riscv-hotplug'), '--help']);
    expect(help.stdout).toContain('riscv-hotplug mount DIR');
    rmSync(copy, { recursive: true, force: true });
  });

  test('is one readable line and a non-zero exit', async () => {
    for (const args of [
      ['mount'],
      ['mount', '/nonexistent/dir'],
      ['mount', bin],
      ['mount', tmpdir(), '--json'],
    ]) {
      const r = await run(process.execPath, [bin, ...args]);
      expect(r.status, args.join(' ')).not.toBe(0);
      expect(r.stderr).toMatch(/^riscv-hotplug mount: [^\n]+\n$/);
      expect(r.stdout).toBe('');
    }
  });
});
