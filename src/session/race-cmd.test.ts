/** The guest shell's `race`: operations at once, in an order drawn from a seed. */
import { describe, expect, test } from 'vitest';
import { Session } from './session.js';
import { parseRunArgs } from './options.js';
import { checkInvariants } from '../check/invariants.js';

function machine(): Session {
  const s = new Session(parseRunArgs(['-m', '8G', '-append', 'mem=2G no5lvl', 'x']));
  s.execute('echo 0x100000000 0x8000000 > /sys/kernel/debug/hotplug_oracle/add');
  return s;
}

const RACE = "'ptdump_nolock' 'remove_memory 0x100000000 128M'";

describe('race', () => {
  test('a seed whose order lets the remove free a table ptdump is about to read: reported and checked', () => {
    const s = machine();
    const r = s.execute(`race --seed 26 ${RACE}`)!;
    expect(r.stderr).toMatch(/^race: walk-only-live-tables: cpu0 reads pfn 0x[0-9a-f]+ as a page table, but it was freed$/m);
    expect(r.stdout).toMatch(/^race: \d+ steps, 1 preemptions$/m);
    expect(checkInvariants(s.system, 'race').map((v) => v.invariant)).toContain('walk-only-live-tables');
    // The finding belongs to that command: the next one starts clean.
    s.execute('cat /proc/meminfo');
    expect(checkInvariants(s.system, 'cat').map((v) => v.invariant)).not.toContain('walk-only-live-tables');
  });

  test('the same seed gives the same interleaving; another seed may not race at all', () => {
    const a = machine().execute(`race --seed 26 ${RACE}`)!;
    const b = machine().execute(`race --seed 26 ${RACE}`)!;
    expect(b.stdout + b.stderr).toBe(a.stdout + a.stderr);
    const c = machine().execute(`race --seed 1 ${RACE}`)!;
    expect(c.stderr).toBe('');
    expect(c.stdout).toContain('cpu1: remove_memory 0x100000000 128M\n');
  });

  test('every actor finishes and every lock is released, whatever the seed (lock holders are never nested into)', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const s = machine();
      const r = s.execute(`race --seed ${seed} 'ptdump' 'remove_memory 0x100000000 128M' 'online 0x100000000 128M'`)!;
      // ptdump holds get_online_mems() for its whole walk; remove and online want mem_hotplug_lock.
      expect(r.stdout.match(/^cpu\d: /gm), `seed ${seed}: ${r.stdout}`).toHaveLength(3);
      for (const lock of s.system.kernel.locks.all()) {
        expect(lock.writer, `seed ${seed}: ${lock.name}`).toBeUndefined();
        expect(lock.readers.size, `seed ${seed}: ${lock.name}`).toBe(0);
      }
      expect(r.stderr).not.toMatch(/no-deadlock/);
    }
  });

  test.each([
    ["race 'ptdump'", /^usage: race/],
    ["race --seed x 'ptdump' 'ptdump'", /--seed needs a number/],
    ["race 'frobnicate' 'ptdump'", /^race: command 'frobnicate': unknown command/],
    ["race 'vmalloc a 0' 'ptdump'", /vmalloc NAME PAGES/],
  ])('%s: a usage error, nothing run', (line, msg) => {
    const s = machine();
    const r = s.execute(line)!;
    expect(r.stderr).toMatch(msg);
    expect(r.stdout).toBe('');
  });
});
