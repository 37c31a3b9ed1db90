/**
 * "Did you mean …?" for a mistyped operation or input name: the closest known name, when it is
 * close enough to be a likely slip (a letter or two off, an extra plural 's', swapped words).
 */

/** Edit distance (insertions, deletions, substitutions), bounded inputs only (names, < 100 chars). */
export function editDistance(a: string, b: string): number {
  if (a.length > 100 || b.length > 100) return Math.max(a.length, b.length);
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}

/** The known name closest to `value`, or undefined when none is a plausible slip. */
export function closest(value: string, known: readonly string[]): string | undefined {
  const v = value.toLowerCase().replace(/[_\s]/g, "-");
  let best: string | undefined;
  let bestScore = Infinity;
  for (const k of known) {
    const sameWords = v.split("-").sort().join("-") === k.split("-").sort().join("-");
    const d = sameWords ? 1 : editDistance(v, k);
    if (d < bestScore) {
      best = k;
      bestScore = d;
    }
  }
  if (best === undefined) return undefined;
  return bestScore <= Math.max(2, Math.floor(best.length / 4)) ? best : undefined;
}

/** " Did you mean 'x'?" or "". */
export function didYouMean(value: string, known: readonly string[]): string {
  const c = closest(value, known);
  return c === undefined || c === value ? "" : ` Did you mean '${c}'?`;
}
