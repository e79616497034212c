/**
 * A script run as a timeline of steps: boot, then one step per command, each with its snapshot.
 * The live session sits at the last step. Views that need the machine itself at an earlier step
 * (the page-table tree, the hardware walk) get it by replaying from boot, which is a few
 * milliseconds plus the commands; the replayed machine is kept for the next question.
 */
import { Session } from '../../../src/session/session.js';
import { parseRunArgs } from '../../../src/session/options.js';
import type { GuestSystem } from '../../../src/kernel/system.js';
import { takeSnapshot, type Snapshot } from './snapshot.js';
import type { RunSpec } from './spec.js';

export class Timeline {
  readonly steps: Snapshot[] = [];
  /** The script lines that made steps 1.. (comments and blank lines make none). */
  readonly lines: string[] = [];
  readonly notes: string[];
  /** The kernel log of the boot (what dmesg prints before the first command). */
  readonly bootLog: string;
  private readonly live: Session;
  private replay: { session: Session; at: number } | undefined;

  /** Boots the machine; throws UsageError with QEMU's message when the options are refused. */
  constructor(readonly argv: string[]) {
    const t0 = performance.now();
    this.live = new Session(parseRunArgs(argv));
    this.notes = [...this.live.notes];
    this.bootLog = this.live.system.kernel.log.dmesg();
    this.steps.push(takeSnapshot(this.live.system, 0, undefined, false, performance.now() - t0));
  }

  get last(): Snapshot {
    return this.steps[this.steps.length - 1]!;
  }

  get modeName(): string {
    return this.live.system.kernel.mode.name;
  }

  /** Runs one line on the live machine; undefined for blank and comment lines. */
  run(line: string): Snapshot | undefined {
    const t0 = performance.now();
    const r = this.live.execute(line);
    if (!r) return undefined;
    const snap = takeSnapshot(this.live.system, this.steps.length, r, this.live.dead, performance.now() - t0);
    this.lines.push(line);
    this.steps.push(snap);
    return snap;
  }

  /** The machine as it was after step `i`. */
  machineAt(i: number): GuestSystem {
    if (i >= this.steps.length - 1) return this.live.system;
    if (!this.replay || this.replay.at > i) {
      this.replay = { session: new Session(parseRunArgs(this.argv)), at: 0 };
    }
    while (this.replay.at < i) this.replay.session.execute(this.lines[this.replay.at++]!);
    return this.replay.session.system;
  }
}

/**
 * Boots the machine of `spec` and runs its script, one step per command. The step list is what a
 * second column (another strategy, an explorer trace) will be compared against.
 */
export function runScript(spec: RunSpec): Timeline {
  const t = new Timeline(spec.argv);
  for (const line of spec.script) t.run(line);
  return t;
}
