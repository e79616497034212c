/**
 * The guest shell's `race [--seed N] 'COMMAND' 'COMMAND' ...`: kernel operations (the explorer's
 * scenario commands, docs/concurrency.md) run at once on CPUs 0, 1, ..., interleaved at the
 * kernel's scheduling points in an order drawn from the seed. What breaks while they run (a read of
 * a freed page table, a fault) is printed and left for the checker (`run --check`, `fuzz`); the
 * machine-wide invariants are the checker's as after any command. A fuzz campaign uses it for its
 * concurrent actors, so a shrunk failure replays as one script line.
 */
import type { GuestSystem } from '../kernel/system.js';
import type { CommandFn, CommandOut } from './shell.js';
import { World } from '../check/explore/world.js';
import { buildActors, ScenarioError } from '../check/explore/scenario.js';
import { Runtime } from '../check/explore/runtime.js';
import { checksFor } from '../check/explore/explorer.js';
import { FuzzRng } from '../check/fuzz/rng.js';

const USAGE =
  "usage: race [--seed N] 'COMMAND' 'COMMAND' [...]   (2 to 4 kernel commands, docs/concurrency.md)\n";

export function raceCommand(system: GuestSystem): CommandFn {
  return ({ args }): CommandOut => {
    let seed = 1;
    const ops: string[] = [];
    for (let i = 0; i < args.length; i++) {
      if (args[i] === '--seed') {
        const v = args[++i];
        if (v === undefined || !/^\d{1,15}$/.test(v))
          return { out: '', err: `race: --seed needs a number\n${USAGE}`, status: 2 };
        seed = Number(v);
      } else ops.push(args[i]!);
    }
    if (ops.length < 2 || ops.length > 4) return { out: '', err: USAGE, status: 2 };
    const w = new World(system);
    let actors;
    try {
      actors = buildActors(
        w,
        ops.map((op, i) => ({ name: `cpu${i}`, cpu: i, op })),
      );
    } catch (e) {
      if (e instanceof ScenarioError) return { out: '', err: `race: ${e.message}\n`, status: 2 };
      throw e;
    }
    const rng = new FuzzRng(seed, 0);
    // Mostly let the running actor go on: a switch at every point would nest the operations at
    // their first point every time, and the races are in the middle.
    const choose = (options: readonly string[], current: string | undefined): string =>
      current !== undefined && options.includes(current) && rng.bool(0.97) ? current : rng.pick(options);
    const run = new Runtime(system.kernel, actors, [], checksFor(w, false), choose).run();
    // A random run never nests an operation where it could wait for one below it (Runtime).
    if (run.pruned) throw new Error('race: an operation had to wait for one below it on the stack');
    let out = '';
    for (const e of run.timeline) if (e.text.startsWith('end ')) out += `${e.actor}: ${e.text.slice(4)}\n`;
    out += `race: ${run.timeline.length} steps, ${run.preemptions} preemptions\n`;
    if (!run.violation) return { out, err: '', status: 0 };
    system.kernel.raceFindings.push(run.violation);
    return { out, err: `race: ${run.violation.invariant}: ${run.violation.detail}\n`, status: 0 };
  };
}
