/**
 * When to try again. Exponential backoff with jitter keeps many clients that failed together — a
 * classroom of tablets coming back online, jobs hit by one upstream outage — from retrying in
 * lockstep; a server's `Retry-After` overrides it.
 */

export interface BackoffOptions {
  /** Ceiling of the first retry's wait. */
  baseMs: number;
  /** No wait is longer, whatever the attempt. */
  maxMs: number;
  /**
   * `full` (default): anywhere between 0 and the ceiling, the widest spread. `equal`: at least half
   * the ceiling, for work that must not come straight back (a job that just failed).
   */
  jitter?: 'full' | 'equal';
}

/** Statuses that say "not now" rather than "no": overloaded, rate limited, or a gateway that gave up. */
const TRANSIENT_STATUSES = new Set([429, 502, 503, 504]);

export function isTransientStatus(status: number): boolean {
  return TRANSIENT_STATUSES.has(status);
}

/** The wait before retry number `attempt` (0 for the first retry); `random` is in [0, 1). */
export function backoffDelay(attempt: number, options: BackoffOptions, random: number = Math.random()): number {
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** Math.max(0, attempt));
  return Math.round(options.jitter === 'equal' ? ceiling / 2 + (random * ceiling) / 2 : random * ceiling);
}

/**
 * A `Retry-After` header in ms: delay-seconds or an HTTP date (relative to `now`). Null when it
 * is absent or unreadable, so the caller falls back to its own backoff.
 */
export function parseRetryAfter(header: string | null, now: number = Date.now()): number | null {
  const value = header?.trim();
  if (!value) {
    return null;
  }
  if (/^\d+$/.test(value)) {
    return Number(value) * 1000;
  }
  // An HTTP date names its day and month; Date.parse alone would also take "-3" as a year.
  const date = /[a-z]{3}/i.test(value) ? Date.parse(value) : NaN;
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

/** The server's wait when it named one (never less, never capped: it knows its load), else jittered backoff. */
export function retryDelay(
  attempt: number,
  retryAfterMs: number | null,
  options: BackoffOptions,
  random: number = Math.random()
): number {
  return retryAfterMs ?? backoffDelay(attempt, options, random);
}
