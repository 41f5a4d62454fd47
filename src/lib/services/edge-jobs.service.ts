import { isFinalJobState, type JobView, type MedgemmaAnalyzeRequest } from '#lib/core/edge-wire.ts';
import {
  CANCELLED_UNSENT,
  hideJobIds,
  isFinalPhase,
  JOB_LOST,
  nextRetryAt,
  phaseOf,
  unhideJobIds,
  withOutboxMark,
  workOf,
  type KeptArtifact
} from '#lib/core/edge-outbox.ts';
import { abortError, EdgeAuthError, EdgeRequestError, EdgeUnavailableError, isAbortError } from '#lib/core/errors.ts';
import { JOB_KINDS, type KnownJobRequest } from '#lib/core/job-kinds.ts';
import { db, type EdgeJob, type EdgeJobSubject, type Observation } from '#lib/db/index.ts';
import { EdgeClient, type EdgeClientOptions } from './edge-client.ts';
import { dataUrlOf } from './observations.service.ts';
import { loadSetting, updateSetting, type Settings } from './settings.service.ts';

/** Told every change to a stored job, as stored. */
export type OnEdgeJob = (job: EdgeJob) => void;

/** The edge API the settings name: the app's own origin unless the user set another server. */
export function edgeClientFor(
  settings: Pick<Settings, 'edgeUrl' | 'edgeCredential'>,
  options?: EdgeClientOptions
): EdgeClient {
  return new EdgeClient({ baseUrl: settings.edgeUrl ?? location.origin, credential: settings.edgeCredential }, options);
}

/** The outbox and every job sent from this device, newest first. */
export function listEdgeJobs(): Promise<EdgeJob[]> {
  return db.edgeJobs.orderBy('createdAt').reverse().toArray();
}

/**
 * MedGemma's look at what an observation was about: its frame (the thumbnail) and its question, on
 * `model` when given (else the server's default for the kind).
 */
export async function analysisOf(observation: Observation, model?: string): Promise<MedgemmaAnalyzeRequest> {
  return {
    type: 'medgemma.analyze',
    input: {
      images: [{ url: await dataUrlOf(observation.thumbnail) }],
      prompt: observation.prompt,
      ...(model !== undefined && { model })
    }
  };
}

/**
 * Puts a job in the outbox. Its Idempotency-Key is made here, once: every later send of this job
 * (after a reload, a lost answer, another tab) carries the same key, so the server makes it once.
 */
export async function queueEdgeJob(
  request: KnownJobRequest,
  about: { subject: EdgeJobSubject | null; label: string },
  now = Date.now()
): Promise<EdgeJob> {
  const job = withOutboxMark<EdgeJob>({
    id: crypto.randomUUID(),
    idempotencyKey: `vh-${crypto.randomUUID()}`,
    kind: request.type,
    request,
    ...about,
    server: null,
    serverId: null,
    job: null,
    artifacts: [],
    problem: null,
    attempts: 0,
    retryAt: now,
    createdAt: now,
    updatedAt: now
  });
  await db.edgeJobs.add(job);
  return job;
}

/**
 * Sends the outbox's jobs that are due (all of them with `force`, e.g. when the network has just
 * come back), oldest first. The first failure that is not about the job itself (unreachable,
 * busy, refused credentials) stops the round: the next jobs would only fail the same way.
 */
export async function sendDue(
  client: EdgeClient,
  onChange: OnEdgeJob,
  options: { force?: boolean } = {}
): Promise<void> {
  const now = Date.now();
  const outbox = await db.edgeJobs.where('outbox').equals(1).sortBy('createdAt');
  const due = outbox.filter((job) => options.force || job.retryAt <= now);
  for (const job of due) {
    try {
      const { job: view } = await client.submitJob(job.request, job.idempotencyKey);
      const stored = await db.edgeJobs.get(job.id);
      // Cancelled and removed here while the request was on its way: the server has it, so cancel it there.
      if (!stored) {
        await client.cancelJob(view.id);
        continue;
      }
      const cancelledMeanwhile = stored.problem?.code === CANCELLED_UNSENT;
      const sent = await save(job.id, {
        server: client.connection.baseUrl,
        serverId: view.id,
        job: view,
        problem: null,
        attempts: 0
      });
      onChange(sent);
      // Cancelled here while the request was on its way: the server has it now, so cancel it there.
      if (cancelledMeanwhile) {
        onChange(await cancelEdgeJob(client, sent));
      }
    } catch (error) {
      const failed = await recordFailure(job, error);
      onChange(failed);
      if (!failed.problem?.final) {
        return;
      }
    }
  }
}

/** The subject of a job about an observation (one not stored yet has none). */
export const observationSubject = (observation: Observation): EdgeJobSubject | null =>
  observation.id === undefined ? null : { kind: 'observation', id: observation.id };

/**
 * Follows a sent job to its end, storing every update, then keeps its report for offline
 * reading. A broken connection is stored as a problem with a time to try again.
 */
export async function followEdgeJob(
  client: EdgeClient,
  job: EdgeJob,
  onChange: OnEdgeJob,
  signal?: AbortSignal
): Promise<void> {
  let current = job;
  try {
    if (workOf(current) === 'follow') {
      // Stored one after another, so a late write never replaces a newer state.
      let saving = Promise.resolve();
      const final = await client.followJob(
        current.serverId!,
        (view) => {
          saving = saving.then(async () => onChange(await save(job.id, { job: view, problem: null })));
        },
        signal
      );
      await saving;
      current = await save(job.id, { job: final, problem: null, attempts: 0 });
      onChange(current);
    }
    if (workOf(current) === 'report') {
      const report = await fetchArtifact(client, current.job!, JOB_KINDS[current.kind].report, signal);
      onChange(await save(job.id, { artifacts: [...current.artifacts, report] }));
    }
  } catch (error) {
    if (isAbortError(error)) {
      throw error;
    }
    onChange(await recordFailure(current, error));
  }
}

/** An artifact of a completed job, fetched from the server, as the device keeps it. */
export async function fetchArtifact(
  client: EdgeClient,
  job: JobView,
  name: string,
  signal?: AbortSignal
): Promise<KeptArtifact> {
  const content = await client.artifactText(job, name, signal);
  // Listed, or artifactText would have refused it.
  const listed = job.artifacts.find((artifact) => artifact.name === name)!;
  return { name, contentType: listed.content_type, content };
}

/** A kept artifact as a file, e.g. to download. */
export const artifactFile = (artifact: KeptArtifact): Blob =>
  new Blob([artifact.content], { type: artifact.contentType });

/** Cancels a job: still in the outbox, it never leaves; on the server, the server stops it. */
export async function cancelEdgeJob(client: EdgeClient, job: EdgeJob): Promise<EdgeJob> {
  if (job.serverId === null) {
    return save(job.id, { problem: { message: 'Cancelled before it was sent.', code: CANCELLED_UNSENT, final: true } });
  }
  return save(job.id, { job: await client.cancelJob(job.serverId) });
}

/** What one removal took off this device's list, for an undo. */
export interface EdgeJobRemoval {
  /** This device's own records, deleted. */
  jobs: EdgeJob[];
  /** Jobs sent from elsewhere, hidden. */
  remote: JobView[];
}

/**
 * Removes finished jobs from this device's list: its own records (`ids`) are deleted, and their
 * server ids and those of `remote` jobs hidden, since the server keeps listing them until its
 * retention ends. Hands back what was removed, for an undo. Jobs still unsent or running stay.
 */
export async function removeEdgeJobs(ids: string[], remote: JobView[] = []): Promise<EdgeJobRemoval> {
  return db.transaction('rw', db.edgeJobs, db.settings, async () => {
    const jobs = (await db.edgeJobs.bulkGet(ids)).filter(
      (job): job is EdgeJob => job !== undefined && isFinalPhase(phaseOf(job))
    );
    const removal = { jobs, remote: remote.filter((job) => isFinalJobState(job.state)) };
    await db.edgeJobs.bulkDelete(jobs.map((job) => job.id));
    await updateSetting('hiddenEdgeJobs', (hidden) => hideJobIds(hidden, serverIdsOf(removal)));
    return removal;
  });
}

/** Puts back what a removal took: the records exactly as they were, and the server's jobs shown again. */
export async function restoreEdgeJobs(removal: EdgeJobRemoval): Promise<void> {
  await db.transaction('rw', db.edgeJobs, db.settings, async () => {
    await db.edgeJobs.bulkPut(removal.jobs);
    await updateSetting('hiddenEdgeJobs', (hidden) => unhideJobIds(hidden, serverIdsOf(removal)));
  });
}

/** Pages read at most for one list, so a long run of removed jobs cannot make it read the whole history. */
const SERVER_LIST_PAGES = 5;

/**
 * The server's newest jobs, up to `limit`, less those removed from this device's list and those
 * `sentHere` names (this device lists its own from IndexedDB); further pages are read until the
 * list is full. Both are asked once each page is in, so a job removed or sent while it was on its
 * way already counts.
 */
export async function listServerJobs(
  client: EdgeClient,
  limit: number,
  sentHere: () => ReadonlySet<string | null> = () => new Set()
): Promise<JobView[]> {
  const listed: JobView[] = [];
  let shown: JobView[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < SERVER_LIST_PAGES && shown.length < limit; page++) {
    const { data, next_cursor } = await client.listJobs({ limit, cursor });
    listed.push(...data);
    const hidden = new Set(await loadSetting('hiddenEdgeJobs'));
    const sent = sentHere();
    shown = listed.filter((job) => !hidden.has(job.id) && !sent.has(job.id));
    if (next_cursor === null) {
      break;
    }
    cursor = next_cursor;
  }
  return shown.slice(0, limit);
}

const serverIdsOf = (removal: EdgeJobRemoval): string[] => [
  ...removal.jobs.flatMap((job) => job.serverId ?? []),
  ...removal.remote.map((job) => job.id)
];

/**
 * Stores why a try failed. A refused request (400, 404, 413, 422 …) will not work later either:
 * for a job still running that means the server lost it (a restart without its data, or its
 * retention passed). Anything else is tried again later, after a backoff or the Retry-After.
 */
async function recordFailure(job: EdgeJob, error: unknown): Promise<EdgeJob> {
  if (!(error instanceof EdgeRequestError || error instanceof EdgeAuthError || error instanceof EdgeUnavailableError)) {
    throw error;
  }
  const lost = workOf(job) === 'follow' && error instanceof EdgeRequestError && error.status === 404;
  const final = error instanceof EdgeRequestError;
  const attempts = job.attempts + 1;
  return save(job.id, {
    problem: {
      message: lost ? 'The server no longer knows this job.' : error.message,
      code: lost ? JOB_LOST : error.code,
      final
    },
    attempts,
    retryAt: nextRetryAt(attempts, error.retryAfterMs, Date.now())
  });
}

/**
 * Updates a stored job and hands back the whole row as stored. The one place a stored job changes,
 * so its outbox mark always agrees with `workOf`. A job removed meanwhile stays removed: the work
 * on it ends as aborted, which is silent.
 */
async function save(id: string, changes: Partial<EdgeJob>): Promise<EdgeJob> {
  return db.transaction('rw', db.edgeJobs, async () => {
    const stored = await db.edgeJobs.get(id);
    if (!stored) {
      throw abortError('The job was removed from this device');
    }
    const job = withOutboxMark({ ...stored, ...changes, updatedAt: Date.now() });
    await db.edgeJobs.put(job);
    return job;
  });
}
