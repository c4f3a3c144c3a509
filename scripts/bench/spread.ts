/**
 * The spread of a measurement repeated on fresh mounts: every run's value, their median,
 * min and max. Pure. Ratios between tools use the medians.
 */

/** Repeated measurements of one phase. */
export interface Spread {
  /** Each run's value, in the order measured. */
  readonly runs: readonly number[];
  /** The middle value (mean of the two middle ones for an even count). */
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

/** The spread of `values`, or null when there are none. */
export function spreadOf(values: readonly number[]): Spread | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { runs: [...values], median, min: sorted[0]!, max: sorted[sorted.length - 1]! };
}

/** `values` plus one more run (a new spread; the runs keep their order). */
export function withRun(spread: Spread | undefined, value: number): Spread {
  return spreadOf([...(spread?.runs ?? []), value])!;
}

/**
 * A spread as a table cell: `1.23 (1.10–1.50)` (median, then min–max), the median alone
 * for a single run, a dash for none.
 */
export function formatSpread(spread: Spread | null | undefined, digits: number): string {
  if (spread === null || spread === undefined) return "–";
  const median = spread.median.toFixed(digits);
  if (spread.runs.length < 2) return median;
  return `${median} (${spread.min.toFixed(digits)}–${spread.max.toFixed(digits)})`;
}
