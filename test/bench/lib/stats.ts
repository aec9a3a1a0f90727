/** Small statistics for paired A/B runs on a noisy machine. */

export function median(values: number[]): number {
  if (!values.length) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Nearest-rank percentile of unsorted samples. */
export function percentile(values: number[], p: number): number {
  if (!values.length) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export interface RatioSummary {
  median: number;
  min: number;
  max: number;
  ratios: number[];
}

/** Median of per-pair ratios (each pair ran back to back, so drift in machine load cancels out). */
export function pairedRatios(pairs: Array<{ a: number; b: number }>): RatioSummary {
  const ratios = pairs.map(({ a, b }) => round(a / b, 3));
  return { median: round(median(ratios), 2), min: round(Math.min(...ratios), 2), max: round(Math.max(...ratios), 2), ratios };
}

export function round(value: number, digits = 1): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** "a-b" range text of numbers, for tables. */
export function span(values: number[], digits = 0): string {
  if (!values.length) return 'n/a';
  const low = round(Math.min(...values), digits);
  const high = round(Math.max(...values), digits);
  return low === high ? String(low) : `${low}-${high}`;
}
