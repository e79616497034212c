/** The timeline: boot and one entry per command, violations marked; ← → also step. */
import { useEffect, useRef } from 'preact/hooks';
import type { Snapshot } from '../model/snapshot.js';

interface Props {
  steps: readonly Snapshot[];
  cur: number;
  onSelect(i: number): void;
}

export function StepList({ steps, cur, onSelect }: Props) {
  const list = useRef<HTMLOListElement>(null);
  useEffect(() => {
    // Scroll the list only (scrollIntoView would scroll the page too).
    const ol = list.current;
    const li = ol?.querySelector<HTMLElement>(`[data-step="${cur}"]`);
    if (!ol || !li) return;
    const top = li.offsetTop - ol.offsetTop;
    if (top < ol.scrollTop) ol.scrollTop = top;
    else if (top + li.offsetHeight > ol.scrollTop + ol.clientHeight)
      ol.scrollTop = top + li.offsetHeight - ol.clientHeight;
  }, [cur]);
  return (
    <section aria-labelledby="timeline-h">
      <h2 id="timeline-h">Timeline</h2>
      <ol class="steps" role="listbox" aria-label="Steps" ref={list} data-testid="steps">
        {steps.map((s) => {
          const bad = s.violationCount > 0 || s.dead;
          const label = `step ${s.index}: ${s.cmd}${bad ? ` (${s.dead ? 'kernel crashed' : `${s.violationCount} violations`})` : ''}`;
          return (
            <li
              key={s.index}
              role="option"
              aria-selected={s.index === cur}
              class={bad ? 'bad' : ''}
              data-step={s.index}
            >
              <button
                onClick={() => onSelect(s.index)}
                aria-label={label}
                title={label}
                tabIndex={s.index === cur ? 0 : -1}
              >
                {s.index}. {s.cmd}
                {bad ? ' ⚠' : ''}
              </button>
            </li>
          );
        })}
      </ol>
      <p class="note">
        One column for now: the same script under several strategies side by side arrives with the strategies
        feature (<code>--strategy</code>), and explorer traces with the interleaving explorer.
      </p>
    </section>
  );
}
