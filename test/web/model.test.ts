/**
 * The web view's model side (web/src/model), in Node: the timeline, snapshots, diffs, the
 * page-table tree and the hardware walk, against the session and the kernel's own files.
 */
import { describe, expect, test } from 'vitest';
import { runScript, Timeline } from '../../web/src/model/timeline.js';
import { EXAMPLES, exampleById } from '../../web/src/model/examples.js';
import { formToArgv, argvText } from '../../web/src/model/spec.js';
import { blockChanges, lineDiff, meminfoChanges } from '../../web/src/model/diff.js';
import { tableRuns, vaRegions, levelPages } from '../../web/src/model/pttree.js';
import { hardwareWalk, parseVa } from '../../web/src/model/walk.js';
import { blockSpans } from '../../web/src/model/physmap.js';
import { findBlock, blockLabel } from '../../web/src/model/snapshot.js';
import { size } from '../../web/src/model/format.js';
import { Session } from '../../src/session/session.js';
import { parseRunArgs } from '../../src/session/options.js';
import { compareStrategies } from '../../src/session/compare.js';
import { bytesText, causeNotes, compareOne, joinColumns } from '../../web/src/model/compare.js';

const partial = exampleById('partial-leaf')!;
const spec = (id: string) => {
  const e = exampleById(id)!;
  return { argv: formToArgv(e.machine), script: e.script.split('\n') };
};

describe('timeline', () => {
  test('one step per command, each snapshot equal to what a fresh session shows at that point', () => {
    const t = runScript(spec('virtio-mem'));
    expect(t.steps.length).toBe(7);
    const s = new Session(parseRunArgs(t.argv));
    const lines = exampleById('virtio-mem')!.script.split('\n');
    for (const [i, line] of lines.entries()) {
      const r = s.execute(line)!;
      const snap = t.steps[i + 1]!;
      expect(snap.result).toEqual(r);
      // Read as the view reads them, as an observer the guest allocates nothing for.
      const read = (path: string): string => s.system.vfs.quietly(() => s.system.vfs.read(path));
      expect(snap.ptdump).toBe(read('/sys/kernel/debug/kernel_page_tables'));
      expect(snap.meminfo).toBe(read('/proc/meminfo'));
    }
  });

  test('machineAt replays to any earlier step, also after going forward past it', () => {
    const t = runScript(spec('partial-leaf'));
    expect(t.machineAt(1).kernel.memoryBlocks.get(33)?.state).toBe('offline');
    expect(t.machineAt(2).kernel.memoryBlocks.get(33)?.state).toBe('online');
    expect(t.machineAt(1).kernel.memoryBlocks.get(33)?.state).toBe('offline');
    expect(t.machineAt(0).kernel.memoryBlocks.has(33)).toBe(false);
    expect(t.machineAt(4)).toBe(t.machineAt(99));
  });

  test('violations are kept per step: the partial removal breaks the linear map of memory33..39', () => {
    const t = runScript(spec('partial-leaf'));
    // Step 4's cat allocates its read buffer from ZONE_NORMAL, that is from memory33, whose linear
    // map is gone: the kernel oopses in clear_page, and a dead kernel is checked no more.
    expect(t.steps.map((s) => s.violationCount > 0)).toEqual([false, false, false, true, false]);
    expect(t.steps.map((s) => s.dead)).toEqual([false, false, false, false, true]);
    expect(t.steps[3]!.violations[0]!.address).toBe('0x108000000');
  });

  test('a refused machine throws QEMU message', () => {
    expect(() => new Timeline(['-m', '4G,maxmem=1G'])).toThrow(/maxmem/);
  });

  test('the boot log is what dmesg prints before the first command', () => {
    const t = runScript({ argv: ['-m', '2G'], script: ['dmesg'] });
    expect(t.bootLog).not.toBe('');
    expect(t.steps[1]!.result!.stdout.startsWith(t.bootLog)).toBe(true);
  });

  test('comments and blank lines make no step', () => {
    const t = runScript({ argv: ['-m', '2G'], script: ['# hello', '', 'grep MemTotal /proc/meminfo'] });
    expect(t.steps.length).toBe(2);
    expect(t.lines).toEqual(['grep MemTotal /proc/meminfo']);
  });
});

describe('diffs', () => {
  test('block changes come as runs', () => {
    const t = runScript(spec('partial-leaf'));
    expect(blockChanges(t.steps[0]!.blocks, t.steps[1]!.blocks)).toEqual([
      { first: 32, last: 39, from: 'absent', to: 'offline' },
    ]);
    expect(blockChanges(t.steps[1]!.blocks, t.steps[2]!.blocks)).toEqual([
      { first: 33, last: 33, from: 'offline', to: 'online Normal' },
    ]);
    expect(blockChanges(t.steps[2]!.blocks, t.steps[3]!.blocks)).toEqual([
      { first: 32, last: 32, from: 'offline', to: 'absent' },
    ]);
  });

  test('the partial removal drops the 1 GiB PUD line of kernel_page_tables', () => {
    const t = runScript(spec('partial-leaf'));
    const d = lineDiff(t.steps[2]!.ptdump, t.steps[3]!.ptdump);
    // Boot RAM's last 1 GiB (mem=2G) and the added 1 GiB are one line: 2G before the removal, 1G after.
    expect(d.some((l) => l.startsWith('- ') && / 2G PUD /.test(l))).toBe(true);
    expect(d.some((l) => l.startsWith('+ ') && / 1G PUD /.test(l))).toBe(true);
    expect(meminfoChanges(t.steps[1]!.meminfo, t.steps[2]!.meminfo).map((c) => c[0])).toContain('MemTotal');
  });
});

describe('page-table tree', () => {
  test('runs of every table cover its 512 entries, and leaves match the 1 GiB mapping', () => {
    const t = runScript(spec('partial-leaf'));
    const k = t.machineAt(2).kernel;
    const root = tableRuns(k, k.pt.rootPfn, k.pt.rootLevel, 0);
    expect(root.reduce((a, r) => a + r.count, 0)).toBe(512);
    // __va(0x100000000) in Sv48: PGD 351 -> PUD table; entry 1 maps boot RAM's 0xc0000000 (mem=2G),
    // entry 2 the added 1 GiB at 0x100000000: one run of two contiguous 1 GiB leaves.
    const linear = root.find((r) => r.kind === 'table' && r.firstIndex === 351)!;
    const pud = tableRuns(k, linear.pfn, linear.level - 1, linear.vpn);
    const leaf = pud.find((r) => r.kind === 'leaf' && r.firstIndex === 1)!;
    expect(leaf.count).toBe(2);
    expect(leaf.pfn + levelPages(leaf.level)).toBe(0x100000);
    expect(levelPages(leaf.level)).toBe(512 * 512);
    expect(vaRegions(k).map((r) => r.name)).toContain('Linear mapping');
  });
});

describe('hardware walk', () => {
  test('memory33 translates before the removal and faults after it, with every PTE read listed', () => {
    const t = runScript(spec('partial-leaf'));
    const va = parseVa(partial.walkVa)!;
    const before = hardwareWalk(t.machineAt(2), va);
    expect(before.ok && before.pa).toBe(0x108000000n);
    expect(before.reads.map((r) => [r.levelName, r.kind])).toEqual([
      ['PGD', 'pointer'],
      ['PUD', 'leaf'],
    ]);
    const after = hardwareWalk(t.machineAt(3), va);
    expect(after.ok).toBe(false);
    expect(after.reads.at(-1)?.kind).toBe('invalid');
  });

  test('addresses parse as hex or decimal; a non-canonical one faults without a read', () => {
    expect(parseVa('0xffff_af80_8800_0000')).toBe(0xffffaf8088000000n);
    expect(parseVa('4096')).toBe(4096n);
    expect(parseVa('ffffaf8088000000')).toBe(0xffffaf8088000000n);
    expect(parseVa('0XFFFF')).toBe(0xffffn);
    expect(parseVa('zz')).toBeUndefined();
    expect(parseVa('')).toBeUndefined();
    expect(parseVa('0o17')).toBeUndefined();
    const t = runScript(spec('partial-leaf'));
    const w = hardwareWalk(t.machineAt(0), 0x0000900000000000n);
    expect(w.ok).toBe(false);
    expect(w.reads).toEqual([]);
  });
});

describe('physical map and formatting', () => {
  test('block spans follow boot RAM and hot-added ranges; labels name each block', () => {
    const t = runScript(spec('hotadd-1t'));
    const s = t.steps[1]!;
    expect(blockSpans(s.regions).map((x) => [x.first, x.last])).toEqual([
      [16, 527],
      [8192, 16383],
    ]);
    expect(blockLabel(s.blocks, findBlock(s.blocks, 8192))).toBe('memory8192: online Movable');
    expect(findBlock(s.blocks, 600)).toBe(-1);
  });

  test('sizes, argv text and examples', () => {
    expect(size(1n << 30n)).toBe('1 GiB');
    expect(size(3n << 29n)).toBe('1.5 GiB');
    expect(argvText(['-append', 'no5lvl movable_node'])).toBe("-append 'no5lvl movable_node'");
    for (const e of EXAMPLES) expect(() => new Timeline(formToArgv(e.machine))).not.toThrow();
  });
});

describe('strategy comparison', () => {
  test('columns run one strategy at a time join into what compareStrategies gives for all at once', () => {
    const e = exampleById('partial-leaf')!;
    const argv = formToArgv(e.machine);
    const names = ['riscv-6.12', 'riscv-split', 'x86-6.12', 'riscv-reject'];
    const joined = joinColumns(names.map((n) => compareOne(argv, n, e.script)));
    expect(joined).toEqual(compareStrategies(parseRunArgs(argv), names, e.script));
    expect(joined.rows[2]!.cells.map((c) => c.result)).toEqual(['ok', 'ok', 'oops', 'EBUSY']);
    expect(bytesText(joined.rows[2]!.cells[0]!.presentUnmapped)).toBe('896 MiB');
    // The riscv-6.12 cause once, at the removal, though the broken state persists after line 4.
    expect(causeNotes(joined).map((n) => [n.strategy, n.line, n.cause.invariant])).toEqual([
      ['riscv-6.12', 3, 'linear-map-covers-present-memory'],
    ]);
  });

  test('the form passes --strategy on to the model, and leaves the default out of the command line', () => {
    expect(formToArgv({ ...partial.machine, strategy: 'riscv-6.12' })).toEqual(formToArgv(partial.machine));
    const argv = formToArgv({ ...partial.machine, strategy: 'arm64-7.1' });
    expect(argvText(argv)).toBe("-m 8G -smp 2 -append 'mem=2G no5lvl' --strategy arm64-7.1");
    expect(parseRunArgs(argv).strategy).toBe('arm64-7.1');
  });
});
