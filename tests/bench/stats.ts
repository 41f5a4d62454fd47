/** Percentile by nearest rank on a copy of `samples`. */
export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) {
    return Number.NaN;
  }
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export interface BenchRow {
  bench: string;
  case: string;
  metric: string;
  value: number;
  unit: string;
  target?: string;
  note?: string;
}

/** Rows of one bench and case, told apart by metric: `row('TTFT p50', 812, 'ms')`. */
export function rowsOf(
  base: Pick<BenchRow, 'bench' | 'case' | 'note'>
): (metric: string, value: number, unit: string) => BenchRow {
  return (metric, value, unit) => ({ ...base, metric, value, unit });
}

export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
