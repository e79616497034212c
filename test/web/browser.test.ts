/**
 * The browser view in a real browser (Debian's chromium through playwright-core): served by
 * `riscv-hotplug web`, an example loaded and stepped through with the keyboard, and what the page
 * shows compared with `riscv-hotplug run --json` for the same machine and script. Screenshots go to
 * test/web/screenshots/ (not committed).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { exampleById } from '../../web/src/model/examples.js';
import { formToArgv } from '../../web/src/model/spec.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = join(root, 'bin', 'riscv-hotplug');
const shots = join(root, 'test', 'web', 'screenshots');
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

interface CliLine {
  cmd: string;
  stdout: string;
  stderr: string;
  errno: number;
  kmsg: string[];
}

let server: ChildProcess | undefined;
let base = '';
let browser: Browser | undefined;

beforeAll(async () => {
  if (!existsSync(join(root, 'web', 'dist', 'index.html')))
    throw new Error('web/dist is not built: run npm run web:build (npm test does)');
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`);
  mkdirSync(shots, { recursive: true });
  const s = spawn(process.execPath, [bin, 'web', '--port', '0'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server = s;
  base = await new Promise<string>((resolve, reject) => {
    let out = '';
    s.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /http:\/\/127\.0\.0\.1:\d+\//.exec(out);
      if (m) resolve(m[0]);
    });
    s.stderr.on('data', (d: Buffer) => reject(new Error(d.toString())));
    s.on('exit', (code) => reject(new Error(`riscv-hotplug web exited with ${code}`)));
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  server?.kill();
});

/** The CLI's answer for a machine and script, one object per command. */
function cli(argv: string[], lines: string[], extra: string[] = []): CliLine[] {
  const r = spawnSync(process.execPath, [bin, 'run', '--json', ...extra, ...argv, '-'], {
    input: lines.join('\n') + '\n',
    encoding: 'utf8',
    cwd: root,
    maxBuffer: 256 << 20,
  });
  return r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as CliLine);
}

async function open(query: string, colorScheme: 'light' | 'dark' = 'light'): Promise<Page> {
  const page = await browser!.newPage({ viewport: { width: 1400, height: 1000 }, colorScheme });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(base + query);
  await page.waitForFunction(
    () => document.querySelector('[data-testid=status]')?.textContent?.includes('done'),
    null,
    {
      timeout: 60_000,
    },
  );
  expect(errors).toEqual([]);
  return page;
}

const text = async (page: Page, testid: string): Promise<string> =>
  (await page.getByTestId(testid).first().textContent()) ?? '';

async function stepTo(page: Page, i: number, key = 'ArrowRight'): Promise<void> {
  await page.keyboard.press(key);
  await expect.poll(() => text(page, 'position')).toMatch(new RegExp(`^step ${i} of`));
}

/** Memory block states as the page lists them: id -> state word. */
async function pageBlockStates(page: Page): Promise<Map<number, string>> {
  await page.getByRole('tab', { name: 'Physical memory' }).click();
  const details = page.locator('details', { hasText: 'memory blocks as text' });
  if (!(await details.evaluate((d) => (d as HTMLDetailsElement).open)))
    await details.locator('summary').click();
  await page.getByTestId('block-list').waitFor();
  const items = await page.getByTestId('block-list').locator('li').allTextContents();
  return new Map(items.map((t) => [Number(/^memory(\d+)/.exec(t)![1]), /: (\S+)/.exec(t)![1]!]));
}

/** CLI block states from `grep -H . .../memory*\/state` output. */
function cliBlockStates(out: string): Map<number, string> {
  const m = new Map<number, string>();
  for (const l of out.trim().split('\n')) {
    const r = /memory(\d+)\/state:(\S+)/.exec(l);
    if (r) m.set(Number(r[1]), r[2]!);
  }
  return m;
}

const PROBES = [
  'grep MemTotal /proc/meminfo',
  'cat /sys/kernel/debug/kernel_page_tables',
  'grep -H . /sys/devices/system/memory/memory*/state',
];

describe('web view in chromium', () => {
  test('virtio-mem example: every step shows what the CLI prints, forward and back', async () => {
    const ex = exampleById('virtio-mem')!;
    const argv = formToArgv(ex.machine);
    const lines = ex.script.split('\n');
    const runs = cli(argv, lines);
    // The same script with read-only probes after each command: the numbers the page should show.
    const probed = cli(
      argv,
      lines.flatMap((l) => [l, ...PROBES]),
    );
    const page = await open('?example=virtio-mem');
    expect(await text(page, 'position')).toBe(`step 0 of ${lines.length}`);
    expect(await text(page, 'boot-log')).toBe(cli(argv, ['dmesg'])[0]!.stdout);
    for (let i = 1; i <= lines.length; i++) {
      await stepTo(page, i);
      const r = runs[i - 1]!;
      expect(await text(page, 'step-cmd')).toBe(r.cmd);
      if (r.stdout) expect(await text(page, 'stdout')).toBe(r.stdout);
      if (r.kmsg.length) expect(await text(page, 'kmsg')).toBe(r.kmsg.join('\n'));
      const [mem, pt, states] = probed.slice(i * 4 - 3, i * 4);
      expect(await text(page, 'memtotal')).toBe(/MemTotal:\s+(\d+ kB)/.exec(mem!.stdout)![1]);
      expect(await text(page, 'ptdump-lines')).toBe(`${pt!.stdout.split('\n').length - 1} lines`);
      await page.getByRole('tab', { name: 'Files' }).click();
      expect(await text(page, 'file-ptdump')).toBe(pt!.stdout);
      expect(await pageBlockStates(page)).toEqual(cliBlockStates(states!.stdout));
    }
    await page.screenshot({ path: join(shots, 'virtio-mem-last.png') });
    // Back to step 1: the grown machine again, with its page-table diff.
    for (let i = lines.length - 1; i >= 1; i--) await stepTo(page, i, 'ArrowLeft');
    expect(await text(page, 'memtotal')).toBe(/MemTotal:\s+(\d+ kB)/.exec(probed[1]!.stdout)![1]);
    expect(await text(page, 'pt-diff')).toMatch(/\+ 0xff60000100000000-0xff60000140000000 .* 1G PMD/);
    // The MMU walk in the page lands where QEMU's gva2gpa (the same hart 0 walk, via the monitor) says.
    const gpa = cli(argv, [lines[0]!, `(qemu) gva2gpa ${ex.walkVa}`])[1]!.stdout.trim();
    await page.getByRole('tab', { name: 'Hardware walk' }).click();
    await page.getByRole('button', { name: 'All reads' }).click();
    expect(await text(page, 'walk-result')).toBe(`${ex.walkVa} → PA ${gpa.replace('gpa: ', '')} (PMD leaf)`);
    expect(await page.getByTestId('walk-reads').locator('li').count()).toBe(4);
    await page.screenshot({ path: join(shots, 'virtio-mem-walk.png') });
    await page.close();
  });

  test('partial-leaf example: the checker report equals --check, the walk faults after the removal', async () => {
    const ex = exampleById('partial-leaf')!;
    const argv = formToArgv(ex.machine);
    const lines = ex.script.split('\n');
    const r = spawnSync(process.execPath, [bin, 'run', '--check', ...argv, '-'], {
      input: lines.join('\n') + '\n',
      encoding: 'utf8',
      cwd: root,
    });
    const m = /--check: (\d+) invariant violation\(s\) after line (\d+)/.exec(r.stderr)!;
    const page = await open('?example=partial-leaf');
    await page
      .getByRole('option', { name: /^step 3:/ })
      .locator('button')
      .click();
    expect(await page.getByRole('option', { name: /^step 3:/ }).getAttribute('class')).toBe('bad');
    expect(await page.getByRole('option', { name: /^step 2:/ }).getAttribute('class')).toBe('');
    expect(m[2]).toBe('3');
    expect(await text(page, 'violations')).toContain(`${m[1]} invariant violations after this step`);
    expect(await text(page, 'violations')).toContain('linear-map-covers-present-memory');
    await page.getByRole('tab', { name: 'Hardware walk' }).click();
    await page.getByRole('button', { name: 'All reads' }).click();
    expect(await text(page, 'walk-result')).toBe(`${ex.walkVa}: load-page-fault at the PUD level`);
    await stepTo(page, 2, 'ArrowLeft');
    await page.getByRole('button', { name: 'All reads' }).click();
    expect(await text(page, 'walk-result')).toBe(`${ex.walkVa} → PA 0x108000000 (PUD leaf)`);
    // The tree, level by level: PGD entry 351 opens to the PUD table holding the 1 GiB leaf.
    await page.getByRole('tab', { name: 'Page tables' }).click();
    await page.getByRole('button', { name: /^Open PGD 0xffffaf8000000000–/ }).click();
    await expect
      .poll(() => page.getByTestId('pt-tree').textContent())
      .toMatch(/\[2\] 1 × 1 GiB PUD leaf 0xffffaf8080000000–0xffffaf80bfffffff → PA 0x100000000–0x13fffffff/);
    await page.screenshot({ path: join(shots, 'partial-leaf-tree.png'), fullPage: true });
    await page.close();
  });

  test('the command box runs a line after the last step, as the CLI would', async () => {
    const ex = exampleById('virtio-mem')!;
    const argv = formToArgv(ex.machine);
    const extra = ['(qemu) qom-set vm0 requested-size 512M', 'grep MemTotal /proc/meminfo'];
    const runs = cli(argv, [...ex.script.split('\n'), ...extra]);
    const page = await open('?example=virtio-mem');
    const n = ex.script.split('\n').length;
    for (const [j, line] of extra.entries()) {
      await page.getByTestId('command').fill(line);
      await page.getByTestId('command').press('Enter');
      await expect.poll(() => text(page, 'position')).toBe(`step ${n + j + 1} of ${n + j + 1}`);
      const r = runs[n + j]!;
      if (r.kmsg.length) expect(await text(page, 'kmsg')).toBe(r.kmsg.join('\n'));
      if (r.stdout) expect(await text(page, 'stdout')).toBe(r.stdout);
    }
    expect(await page.getByTestId('script').inputValue()).toContain(extra.join('\n'));
    await page.close();
  });

  test('1 TiB hot-add: first paint under 1 s, stepping stays interactive, 8,192 blocks labelled', async () => {
    const ex = exampleById('hotadd-1t')!;
    const t0 = Date.now();
    const page = await open('?example=hotadd-1t');
    const ready = Date.now() - t0;
    const fcp = await page.evaluate(
      () => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? Infinity,
    );
    // Step forward and back between the boot machine and 8,704 blocks, timing until the next frame.
    const times: number[] = [];
    for (const [i, key] of [
      [1, 'ArrowRight'],
      [0, 'ArrowLeft'],
      [1, 'ArrowRight'],
      [2, 'ArrowRight'],
      [3, 'ArrowRight'],
    ] as const) {
      const ms = await page.evaluate(
        ([want, k]) =>
          new Promise<number>((resolve) => {
            const t = performance.now();
            window.dispatchEvent(new KeyboardEvent('keydown', { key: k }));
            const poll = (): void => {
              if (
                document.querySelector('[data-testid=position]')?.textContent?.startsWith(`step ${want} of`)
              )
                requestAnimationFrame(() => resolve(performance.now() - t));
              else requestAnimationFrame(poll);
            };
            poll();
          }),
        [i, key] as const,
      );
      times.push(ms);
    }
    console.log(
      `web 1 TiB hot-add: first-contentful-paint ${fcp.toFixed(0)} ms, script done ${ready} ms after goto, ` +
        `step times ${times.map((t) => t.toFixed(0)).join(' ')} ms`,
    );
    expect(fcp).toBeLessThan(1000);
    // Typically 20–100 ms; the bound leaves room for a CI machine shared with the rest of the suite.
    expect(Math.max(...times)).toBeLessThan(1000);
    await stepTo(page, 2, 'ArrowLeft');
    const argv = formToArgv(ex.machine);
    const probe = cli(argv, [
      ex.script.split('\n')[0]!,
      'grep -H . /sys/devices/system/memory/memory*/state',
    ]);
    const cliStates = cliBlockStates(probe[1]!.stdout);
    expect(cliStates.size).toBe(8704);
    expect(await pageBlockStates(page)).toEqual(cliStates);
    expect(await page.getByTestId('blockmap-8192').getAttribute('aria-label')).toMatch(
      /^System RAM \(hot-added\): memory8192–memory16383, 8192 online Movable/,
    );
    await page.screenshot({ path: join(shots, 'hotadd-1t.png') });
    await page.close();
  });

  test('light and dark schemes, keyboard focus on the block map announces blocks', async () => {
    for (const scheme of ['light', 'dark'] as const) {
      const page = await open('?example=virtio-mem&step=1', scheme);
      const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      expect(bg).toBe(scheme === 'dark' ? 'rgb(13, 17, 23)' : 'rgb(255, 255, 255)');
      await page.getByTestId('blockmap-16').focus();
      await page.keyboard.press('ArrowRight');
      await page.keyboard.press('ArrowRight');
      await expect
        .poll(() => page.locator('.hover').first().textContent())
        .toMatch(/^memory17: online (DMA32|Normal)/);
      // The arrows moved the cursor in the map, not the timeline.
      expect(await text(page, 'position')).toBe('step 1 of 6');
      if (scheme === 'light') {
        // The vmemmap backing the page counts is what kernel_page_tables maps between the vmemmap markers.
        const ex = exampleById('virtio-mem')!;
        const pt = cli(formToArgv(ex.machine), [
          ex.script.split('\n')[0]!,
          'cat /sys/kernel/debug/kernel_page_tables',
        ])[1]!;
        const section = pt.stdout.split('---[ vmemmap start ]---')[1]!.split('---[ vmemmap end ]---')[0]!;
        const mib = [...section.matchAll(/\s(\d+)M PMD/g)].reduce((a, x) => a + Number(x[1]), 0);
        expect(await text(page, 'placement-summary')).toContain(` ${mib} MiB of vmemmap backing`);
        await page.getByTestId('placement').locator('summary').click();
        expect(await text(page, 'placement')).toMatch(
          /memory\d+: online \w+, 0x[0-9a-f]+–0x[0-9a-f]+;( \d+ page-table pages?;)? vmemmap backing \d+ MiB/,
        );
      }
      await page.screenshot({ path: join(shots, `virtio-mem-${scheme}.png`) });
      await page.close();
    }
  });
});
