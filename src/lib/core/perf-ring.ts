/** The status monitor's arithmetic: a fixed-size window of recent figures and their percentiles. */

/** Keeps the last `capacity` items pushed, oldest first; an older one gives way to a new one. */
export class PerfRing<T> {
  #items: T[] = [];

  constructor(readonly capacity: number) {}

  push(...items: T[]): void {
    this.#items.push(...items);
    if (this.#items.length > this.capacity) {
      this.#items.splice(0, this.#items.length - this.capacity);
    }
  }

  /** Oldest first. */
  values(): T[] {
    return [...this.#items];
  }

  get size(): number {
    return this.#items.length;
  }
}

/**
 * The `q` quantile (0–1) by linear interpolation between the closest ranks, so the p50 of two
 * figures is their mean; null for no figures (nothing is made up).
 */
export function quantile(values: readonly number[], q: number): number | null {
  if (values.length === 0) {
    return null;
  }
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (sorted.length - 1) * Math.min(1, Math.max(0, q));
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (rank - low);
}

export interface PerfSummary {
  count: number;
  p50: number;
  p95: number;
  last: number;
}

/** What the monitor shows for one metric; null when it has no figures yet. */
export function summarize(values: readonly number[]): PerfSummary | null {
  if (values.length === 0) {
    return null;
  }
  return { count: values.length, p50: quantile(values, 0.5)!, p95: quantile(values, 0.95)!, last: values.at(-1)! };
}
