/**
 * The kernel log (printk ring buffer): what dmesg prints. Time is the
 * model's own monotonic clock, advanced by the operations that would take
 * time on a real machine, so logs are reproducible run to run.
 */
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

export class Printk {
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
