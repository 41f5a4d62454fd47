/** Plain words for numbers the UI shows; pure, so pages and components need no service for them. */

/** "512 B", "3.4 MB", "1.2 GB": binary units, one decimal below 10. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) {
    return `${bytes} B`;
  }
  const units = ['KB', 'MB', 'GB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/**
 * "42%" for a fraction of a whole (progress, confidence). Rounded down, so a download or a job
 * never reads 100% before it has finished.
 */
export function formatPercent(done: number, total = 1): string {
  const fraction = total > 0 ? Math.min(1, Math.max(0, done / total)) : 0;
  return `${Math.floor(fraction * 100)}%`;
}
