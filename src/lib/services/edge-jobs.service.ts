import type { MedgemmaAnalyzeRequest } from '#lib/core/edge-wire.ts';
import { CANCELLED_UNSENT, JOB_LOST, nextRetryAt, REPORT_ARTIFACT, workOf } from '#lib/core/edge-outbox.ts';
import { EdgeAuthError, EdgeRequestError, EdgeUnavailableError, isAbortError } from '#lib/core/errors.ts';
import { db, type EdgeJob, type Observation } from '#lib/db/index.ts';
import { EdgeClient, type EdgeClientOptions } from './edge-client.ts';
import type { Settings } from './settings.service.ts';

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

/** MedGemma's look at what an observation was about: its frame (the thumbnail) and its question. */
export async function analysisOf(observation: Observation): Promise<MedgemmaAnalyzeRequest> {
  return {
    type: 'medgemma.analyze',
    input: { images: [{ url: await dataUrlOf(observation.thumbnail) }], prompt: observation.prompt }
  };
}

/**
 * Puts a job in the outbox. Its Idempotency-Key is made here, once: every later send of this job
 * (after a reload, a lost answer, another tab) carries the same key, so the server makes it once.
 */
export async function queueEdgeJob(
  request: MedgemmaAnalyzeRequest,
  about: { observationId: number | null; label: string },
  now = Date.now()
): Promise<EdgeJob> {
  const job: EdgeJob = {
    id: crypto.randomUUID(),
    idempotencyKey: `vh-${crypto.randomUUID()}`,
    request,
    ...about,
    server: null,
    serverId: null,
    job: null,
    report: null,
    problem: null,
    attempts: 0,
    retryAt: now,
    createdAt: now,
    updatedAt: now
  };
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
  const due = (await db.edgeJobs.orderBy('createdAt').toArray()).filter(
    (job) => workOf(job) === 'send' && (options.force || job.retryAt <= now)
  );
  for (const job of due) {
    try {
      const { job: view } = await client.submitJob(job.request, job.idempotencyKey);
      const cancelledMeanwhile = (await db.edgeJobs.get(job.id))?.problem?.code === CANCELLED_UNSENT;
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
      onChange(await save(job.id, { report: await client.artifactText(current.job!, REPORT_ARTIFACT, signal) }));
    }
  } catch (error) {
    if (isAbortError(error)) {
      throw error;
    }
    onChange(await recordFailure(current, error));
  }
}

/** Cancels a job: still in the outbox, it never leaves; on the server, the server stops it. */
export async function cancelEdgeJob(client: EdgeClient, job: EdgeJob): Promise<EdgeJob> {
  if (job.serverId === null) {
    return save(job.id, { problem: { message: 'Cancelled before it was sent.', code: CANCELLED_UNSENT, final: true } });
  }
  return save(job.id, { job: await client.cancelJob(job.serverId) });
}

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

/** Updates a stored job and hands back the whole row as stored. */
async function save(id: string, changes: Partial<EdgeJob>): Promise<EdgeJob> {
  return db.transaction('rw', db.edgeJobs, async () => {
    await db.edgeJobs.update(id, { ...changes, updatedAt: Date.now() });
    return (await db.edgeJobs.get(id))!;
  });
}

function dataUrlOf(blob: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result as string);
    reader.onerror = () => reject(reader.error ?? new Error('The image could not be read'));
    reader.readAsDataURL(blob);
  });
}
