/**
 * The kernel log (printk ring buffer): what dmesg prints. Time is the
 * model's own monotonic clock, advanced by the operations that would take
 * time on a real machine, so logs are reproducible run to run.
 */
import { RESTORE_STATE, SAVE_STATE, type SavesOwnState } from '../../hw/snapshot.js';

export const KERN_ERR = 3;
export const KERN_WARNING = 4;
export const KERN_NOTICE = 5;
export const KERN_INFO = 6;
export const KERN_DEBUG = 7;

export interface LogRecord {
  level: number;
  timeNs: number;
  text: string;
}

/** What a snapshot of the log keeps: the log only grows, so its length is enough. */
export interface PrintkState {
  readonly records: number;
  /** The last record then: still in place means the records up to it are the snapshot's. */
  readonly last: LogRecord | undefined;
  readonly clockNs: number;
  readonly mark: number;
  readonly fired: number;
}

export class Printk implements SavesOwnState<PrintkState> {
  readonly records: LogRecord[] = [];
  clockNs = 0;
  /** Index of the first record not yet reported to a caller (for per-command KMSG output). */
  private mark = 0;

  log(level: number, text: string): void {
    for (const line of text.split('\n')) this.records.push({ level, timeNs: this.clockNs, text: line });
  }

  info(text: string): void {
    this.log(KERN_INFO, text);
  }

  warn(text: string): void {
    this.log(KERN_WARNING, text);
  }

  err(text: string): void {
    this.log(KERN_ERR, text);
  }

  /** Sites that already fired (WARN_ONCE, WARN_ON_ONCE, pr_warn_once): true the first time only. */
  private readonly fired = new Set<string>();

  once(site: string): boolean {
    if (this.fired.has(site)) return false;
    this.fired.add(site);
    return true;
  }

  [SAVE_STATE](): PrintkState {
    const n = this.records.length;
    return {
      records: n,
      last: this.records[n - 1],
      clockNs: this.clockNs,
      mark: this.mark,
      fired: this.fired.size,
    };
  }

  [RESTORE_STATE](s: PrintkState): void {
    if (this.records.length < s.records || this.records[s.records - 1] !== s.last)
      throw new Error(
        'kernel log snapshot can no longer be restored: an older snapshot was restored after it was taken (snapshots restore last-in-first-out)',
      );
    this.records.length = s.records;
    this.clockNs = s.clockNs;
    this.mark = s.mark;
    // The set only grows too: drop what was added after the snapshot, oldest kept first.
    if (this.fired.size !== s.fired) {
      const keep = [...this.fired].slice(0, s.fired);
      this.fired.clear();
      for (const site of keep) this.fired.add(site);
    }
  }

  /** Advance the clock (a modelled duration). */
  tick(ns: number): void {
    this.clockNs += ns;
  }

  /** Records logged since the last call. */
  takeNew(): LogRecord[] {
    const out = this.records.slice(this.mark);
    this.mark = this.records.length;
    return out;
  }

  static format(r: LogRecord): string {
    const s = Math.floor(r.timeNs / 1e9);
    const us = Math.floor((r.timeNs % 1e9) / 1e3);
    return `[${String(s).padStart(5)}.${String(us).padStart(6, '0')}] ${r.text}`;
  }

  /** dmesg's output: every record with its time stamp. */
  dmesg(): string {
    return this.records.map((r) => Printk.format(r) + '\n').join('');
  }
}
