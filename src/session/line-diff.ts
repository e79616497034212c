/** Which lines two texts do not share: how the demo and the web view show what a step changed. */

/** Lines of `b` not in `a` prefixed "+ ", lines of `a` not in `b` prefixed "- " (order kept). */
export function lineDiff(a: string, b: string): string[] {
  const x = a.split('\n');
  const y = b.split('\n');
  const inX = new Set(x);
  const inY = new Set(y);
  const out: string[] = [];
  for (const l of x) if (l && !inY.has(l)) out.push('- ' + l);
  for (const l of y) if (l && !inX.has(l)) out.push('+ ' + l);
  return out;
}
