/** Type an address and watch hart 0's MMU translate it, one page-table read at a time. */
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { GuestSystem } from '../../../src/kernel/system.js';
import { hardwareWalk, parseVa } from '../model/walk.js';
import { hex, pteFlags } from '../model/format.js';

/** PPN (bits 10..53) of a PTE as a physical address. */
const targetPa = (pte: bigint): bigint => ((pte >> 10n) & ((1n << 44n) - 1n)) << 12n;

interface Props {
  system: GuestSystem;
  step: number;
  va: string;
  onVa(va: string): void;
}

export function HardwareWalk({ system, step, va, onVa }: Props) {
  const [shown, setShown] = useState(1);
  const addr = parseVa(va);
  const view = useMemo(
    () => (addr === undefined ? undefined : hardwareWalk(system, addr)),
    [system, step, addr],
  );
  useEffect(() => setShown(1), [va, step]);
  const reads = view?.reads ?? [];
  const done = shown > reads.length;
  return (
    <section aria-labelledby="walk-h" class="walk" data-testid="walk">
      <h2 id="walk-h">Hardware walk (hart 0's MMU, src/hw)</h2>
      <form onSubmit={(e) => e.preventDefault()}>
        <label>
          <span>Address</span>
          <input
            type="text"
            value={va}
            data-testid="walk-va"
            aria-label="Virtual address to translate"
            onInput={(e) => onVa(e.currentTarget.value)}
          />
        </label>
      </form>
      {addr === undefined && <p class="error">Not an address: type hex (0xffff…) or decimal.</p>}
      {view && (
        <>
          <div class="nav">
            <button
              onClick={() => setShown((s) => Math.min(s + 1, reads.length + 1))}
              disabled={done}
              data-testid="walk-next"
            >
              Next read
            </button>
            <button onClick={() => setShown(reads.length + 1)} disabled={done}>
              All reads
            </button>
            <button onClick={() => setShown(1)}>Restart</button>
            <span class="note">a load in S-mode, satp of hart 0</span>
          </div>
          <ol aria-live="polite" data-testid="walk-reads">
            {reads.slice(0, shown).map((r, i) => (
              <li key={i} class={i === shown - 1 && !done ? 'current' : ''}>
                {r.levelName}: entry {r.index} of the table at {hex(r.tablePa)}, read at {hex(r.pteAddr)} ={' '}
                {hex(r.pte, 16)} ({pteFlags(r.lo)}) →{' '}
                {r.kind === 'pointer'
                  ? `next table at ${hex(targetPa(r.pte))}`
                  : r.kind === 'leaf'
                    ? `leaf mapping ${hex(targetPa(r.pte))}`
                    : 'invalid (V=0)'}
              </li>
            ))}
          </ol>
          {(done || reads.length === 0) && (
            <p class={view.ok ? 'ok' : 'error'} data-testid="walk-result">
              {view.ok
                ? `${hex(view.va)} → PA ${hex(view.pa)} (${view.leafLevel} leaf)`
                : `${hex(view.va)}: ${view.why}`}
            </p>
          )}
        </>
      )}
    </section>
  );
}
