/**
 * Golden tests: every real-kernel recording in test/fixtures/oracle runs
 * through the model with the recorded machine options, and every output
 * compare.py compares must be identical (kernel_page_tables sections and
 * markers, memory-block files, /proc/iomem, directory listings, the errno of
 * every write, MemTotal and its change between steps).
 *
 * Exempt, because software the model does not run decides them: the ptdump lines of the Fixmap, PCI I/O,
 * vmalloc() and Modules/BPF sections (see ptdumpSections), and in /proc/meminfo everything but MemTotal
 * (MemFree and MemAvailable count pages of the recording's init program; Cached, Slab, KernelStack and
 * the other run-time counters come from the kernel profile's meminfoRuntimeKb).
 */
import { describe, expect, test } from 'vitest';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import {
  buildScript,
  initrdSize,
  machineArgs,
  memTotal,
  parseRecording,
  ptdumpSections,
  type Check,
} from './recording.js';
import { parseRunArgs } from '../../src/session/options.js';
import { Session, type LineResult } from '../../src/session/session.js';
import { GOLDEN_RECORDINGS } from './recordings.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'oracle');

function compare(
  check: Check,
  got: LineResult | undefined,
  state: { mem?: [number | undefined, number | undefined] },
): [boolean, unknown, unknown] {
  const out = (got?.stdout ?? '').split('\n');
  if (out[out.length - 1] === '') out.pop();
  switch (check.kind) {
    case 'ptdump': {
      const e = ptdumpSections(check.expected);
      const g = ptdumpSections(out);
      return [JSON.stringify(e) === JSON.stringify(g), e.kept, g.kept];
    }
    case 'exact': {
      if (check.what.startsWith('grep Mem /proc/meminfo')) {
        // MemFree and MemAvailable count pages held by the recording's own init program and page
        // cache, which the model does not run; they are exempt. The labels and MemTotal must match.
        const mask = (xs: string[]): string[] =>
          xs.map((l) => (l.startsWith('MemTotal:') ? l : l.split(':')[0]!));
        return [JSON.stringify(mask(check.expected)) === JSON.stringify(mask(out)), check.expected, out];
      }
      return [JSON.stringify(check.expected) === JSON.stringify(out), check.expected, out];
    }
    case 'set': {
      const norm = (xs: string[]): string[] =>
        xs
          .filter((x) => x.trim())
          .map((x) => x.replace(/\/$/, ''))
          .sort();
      return [
        JSON.stringify(norm(check.expected)) === JSON.stringify(norm(out)),
        norm(check.expected),
        norm(out),
      ];
    }
    case 'blockset': {
      const e = check.expected.map((l) => l.split(' ')[0]!).sort();
      const g = out
        .filter((x) => /^memory\d+\/?$/.test(x))
        .map((x) => x.replace(/\/$/, ''))
        .sort();
      return [JSON.stringify(e) === JSON.stringify(g), e, g];
    }
    case 'meminfo': {
      const et = memTotal(check.expected);
      const gt = memTotal(out);
      let ok = et === gt;
      if (state.mem) ok = ok && (et ?? 0) - (state.mem[0] ?? 0) === (gt ?? 0) - (state.mem[1] ?? 0);
      state.mem = [et, gt];
      return [ok, et, gt];
    }
    case 'errno':
      return [check.expected === (got?.errno ?? 0), check.expected, got?.errno];
  }
}

describe('real-kernel recordings', () => {
  const files = readdirSync(dir).filter((f) => f.endsWith('.log'));
  test('every recording is listed', () => {
    expect(files.sort()).toEqual([...GOLDEN_RECORDINGS].sort());
  });
  for (const file of GOLDEN_RECORDINGS) {
    test(file, () => {
      const rec = parseRecording(join(dir, file));
      const script = buildScript(rec);
      const opts = parseRunArgs(machineArgs(rec));
      const session = new Session(opts, initrdSize(rec) ?? 0);
      const results = script.lines.map((l) => session.execute(l));
      const state = {};
      const bad: string[] = [];
      for (const { line, check } of script.checks) {
        const [ok, e, g] = compare(check, results[line], state);
        if (!ok)
          bad.push(`${check.what}\n  expected: ${JSON.stringify(e)}\n  got:      ${JSON.stringify(g)}`);
      }
      expect(bad.slice(0, 5).join('\n')).toBe('');
      expect(script.checks.length).toBeGreaterThan(5);
    });
  }
});
