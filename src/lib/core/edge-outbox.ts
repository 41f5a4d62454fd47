import { retryDelay, type BackoffOptions } from './backoff.ts';
import { isFinalJobState, type JobState, type JobView } from './edge-wire.ts';
import { JOB_KINDS, type JobKindName } from './job-kinds.ts';

/** A job's artifact as the device keeps it, readable after the server has forgotten the job. */
export interface KeptArtifact {
  name: string;
  contentType: string;
  content: string | Blob;
}

/** What the outbox knows about a job (the stored record, without what it does not need). */
export interface OutboxEntry {
  kind: JobKindName;
  serverId: string | null;
  job: JobView | null;
  problem: { message: string; code: string; final: boolean } | null;
  artifacts: KeptArtifact[];
  retryAt: number;
}

/** What decides a job's phase: the server's word and the last failure. */
type PhaseInputs = Pick<OutboxEntry, 'job' | 'problem'>;

/**
 * Where a job stands for the user: not sent yet, the server's state, or over without the server:
 * refused (it answered no), cancelled before it left, or lost (the server no longer knows it).
 */
export type EdgeJobPhase = 'unsent' | JobState | 'refused' | 'lost';

export const CANCELLED_UNSENT = 'cancelled_unsent';
export const JOB_LOST = 'job_lost';

export function phaseOf(entry: PhaseInputs): EdgeJobPhase {
  const state = entry.job?.state;
  // The server's final word stands, whatever went wrong afterwards (e.g. fetching the report).
  if (state && isFinalJobState(state)) {
    return state;
  }
  if (entry.problem?.final) {
    if (entry.problem.code === CANCELLED_UNSENT) {
      return 'cancelled';
    }
    return entry.problem.code === JOB_LOST ? 'lost' : 'refused';
  }
  return state ?? 'unsent';
}

export const isFinalPhase = (phase: EdgeJobPhase): boolean =>
  phase === 'completed' || phase === 'failed' || phase === 'cancelled' || phase === 'refused' || phase === 'lost';

export type OutboxWork = 'send' | 'follow' | 'report' | null;

/** What is left to do for a job: send it, follow it to its end, or keep its report for offline reading. */
export function workOf(entry: OutboxEntry): OutboxWork {
  const phase = phaseOf(entry);
  if (phase === 'unsent') {
    return 'send';
  }
  if (!isFinalPhase(phase)) {
    return 'follow';
  }
  const report = JOB_KINDS[entry.kind].report;
  const offered = phase === 'completed' && entry.job?.artifacts.some((a) => a.name === report);
  return offered && !keptReport(entry) && !entry.problem?.final ? 'report' : null;
}

/** The report this device keeps of a job, once it has been fetched. */
export const keptReport = (entry: Pick<OutboxEntry, 'kind' | 'artifacts'>): KeptArtifact | undefined =>
  entry.artifacts.find((artifact) => artifact.name === JOB_KINDS[entry.kind].report);

/**
 * `entry` as it is to be stored: with `outbox: 1` exactly while it is to be sent, so an index on
 * `outbox` (IndexedDB leaves out records without the key) holds the outbox and nothing else.
 */
export function withOutboxMark<T extends PhaseInputs & { outbox?: 1 }>(entry: T): T {
  const { outbox: _, ...unmarked } = entry;
  // What `workOf` calls 'send', read from the phase alone: rows from before job kinds and artifacts have it too.
  return (phaseOf(entry) === 'unsent' ? { ...unmarked, outbox: 1 } : unmarked) as T;
}

/**
 * How many removed jobs a device remembers as hidden. The server forgets a job when its retention
 * ends, so an id older than this hides nothing any more; the cap keeps the list from growing.
 */
export const HIDDEN_JOBS_KEPT = 500;

/** `hidden` with `ids` added as the newest (an id hidden again moves to the end), keeping the newest `kept`. */
export function hideJobIds(hidden: readonly string[], ids: Iterable<string>, kept = HIDDEN_JOBS_KEPT): string[] {
  const added = new Set(ids);
  const next = [...hidden.filter((id) => !added.has(id)), ...added];
  return next.slice(Math.max(0, next.length - kept));
}

/** `hidden` without `ids`, in the same order. */
export function unhideJobIds(hidden: readonly string[], ids: Iterable<string>): string[] {
  const shown = new Set(ids);
  return hidden.filter((id) => !shown.has(id));
}

/** Retries of the outbox itself, between app visits' worth of waiting: from seconds up to five minutes. */
export const OUTBOX_BACKOFF: BackoffOptions = { baseMs: 2_000, maxMs: 300_000 };

/** When to try again after the `attempts`-th failure (1 for the first), honouring the server's Retry-After. */
export function nextRetryAt(
  attempts: number,
  retryAfterMs: number | null,
  now: number,
  random: number = Math.random()
): number {
  // Never sooner than a second: a zero jitter would otherwise retry in a busy loop.
  return now + Math.max(1_000, retryDelay(attempts - 1, retryAfterMs, OUTBOX_BACKOFF, random));
}
