const MAX_DELAY_MS = 300_000;

/**
 * The wait before re-running a job whose `attempt`-th run (1-based) threw: `baseMs` doubling
 * per attempt up to 5 min, with "equal jitter" (half fixed, half random) so that jobs failing
 * together (an upstream outage) do not all come back at the same instant.
 */
export function retryDelayMs(attempt: number, baseMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_DELAY_MS, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
