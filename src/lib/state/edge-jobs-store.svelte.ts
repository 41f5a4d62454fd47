import { isFinalPhase, phaseOf, REPORT_ARTIFACT, workOf, type EdgeJobPhase } from '#lib/core/edge-outbox.ts';
import { isFinalJobState, type EdgeHealth, type EdgeModelList, type JobView } from '#lib/core/edge-wire.ts';
import type { EdgeJob, Observation } from '#lib/db/index.ts';
import type { EdgeClient } from '#lib/services/edge-client.ts';
import {
  analysisOf,
  cancelEdgeJob,
  edgeClientFor,
  followEdgeJob,
  listEdgeJobs,
  listServerJobs,
  queueEdgeJob,
  removeEdgeJobs,
  restoreEdgeJobs,
  sendDue,
  type EdgeJobRemoval
} from '#lib/services/edge-jobs.service.ts';
import { attempt, handleError, type UserError } from '#lib/services/handle-error.ts';
import { loadSettings, saveSetting } from '#lib/services/settings.service.ts';

/** A job as lists show it: one from this device's outbox, or one the server knows from elsewhere. */
export interface EdgeJobItem {
  key: string;
  label: string;
  phase: EdgeJobPhase;
  job: JobView | null;
  /** Why the last try failed, when it did. */
  problem: string | null;
  /** A report to download: kept on this device, or still on the server. */
  hasReport: boolean;
  local: EdgeJob | null;
}

export type ConnectionTest =
  | { phase: 'testing' }
  | { phase: 'ok'; health: EdgeHealth; models: EdgeModelList['data'] }
  | { phase: 'failed'; error: UserError };

/** How many jobs sent from elsewhere the list shows, newest first. */
const SERVER_JOBS_SHOWN = 20;

const itemOf = (job: EdgeJob): EdgeJobItem => ({
  key: job.id,
  label: job.label,
  phase: phaseOf(job),
  job: job.job,
  problem: job.problem?.message ?? job.job?.error?.message ?? null,
  hasReport: job.report !== null,
  local: job
});

const remoteItem = (job: JobView): EdgeJobItem => ({
  key: job.id,
  label: `${job.type} · ${job.id.slice(0, 8)}`,
  phase: job.state,
  job,
  problem: job.error?.message ?? null,
  hasReport: job.artifacts.some((a) => a.name === REPORT_ARTIFACT),
  local: null
});

function maskOf(credential: string | null): string | null {
  if (!credential) {
    return null;
  }
  return credential.length <= 12 ? '••••••••' : `${credential.slice(0, 3)}••••${credential.slice(-4)}`;
}

/**
 * Jobs for the edge API. Sends the outbox at start, when the network returns and on a backoff
 * timer; follows every running job live; keeps the connection settings and their test.
 */
class EdgeJobsStore {
  jobs = $state.raw<EdgeJob[]>([]);
  /** The server's own list, minus the jobs this device sent (those are in `jobs`). */
  serverJobs = $state.raw<JobView[]>([]);
  online = $state(true);
  serverUrl = $state<string | null>(null);
  credential = $state<string | null>(null);
  test = $state.raw<ConnectionTest | null>(null);
  error = $state<UserError | null>(null);
  /** The jobs last removed from this device's list, until the user undoes it or removes others. */
  removed = $state.raw<EdgeJobRemoval | null>(null);

  /** Enough of the credential to recognise it, never all of it. */
  credentialMask = $derived(maskOf(this.credential));
  items = $derived([...this.jobs.map(itemOf), ...this.serverJobs.map(remoteItem)]);
  /** The server the app talks to now. */
  client = $derived(edgeClientFor({ edgeUrl: this.serverUrl, edgeCredential: this.credential }));

  #init: Promise<void> | null = null;
  #sending: Promise<boolean> | null = null;
  /** A sync asked for while a send round ran: one more round after it, forced if any such call was. */
  #again: { force: boolean } | null = null;
  #followers = new Map<string, AbortController>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Counts changes of server or credential: a list from before one is some other list. */
  #connection = 0;
  /** The connection under which the pending removal's jobs from elsewhere were listed. */
  #removedUnder = 0;

  /** Once per app start (later calls wait for that one): loads the outbox and starts sending it. */
  init(): Promise<void> {
    this.#init ??= this.#start();
    return this.#init;
  }

  async #start(): Promise<void> {
    this.online = navigator.onLine;
    addEventListener('online', () => {
      this.online = true;
      void this.sync({ force: true });
    });
    addEventListener('offline', () => (this.online = false));
    await this.#try(async () => {
      const settings = await loadSettings();
      this.serverUrl = settings.edgeUrl;
      this.credential = settings.edgeCredential;
      this.jobs = await listEdgeJobs();
    });
    await this.sync();
  }

  /** The latest job asked about an observation. */
  jobFor(observationId: number | undefined): EdgeJobItem | undefined {
    const job = this.jobs.find((j) => j.observationId === observationId);
    return job && itemOf(job);
  }

  async send(observation: Observation): Promise<void> {
    await this.#try(async () => {
      const job = await queueEdgeJob(await analysisOf(observation), {
        observationId: observation.id ?? null,
        label: observation.prompt
      });
      this.#put(job);
      await this.sync();
    });
  }

  /**
   * Sends what is due (everything with `force`), then follows every job still running. One send
   * round at a time; a call meanwhile asks for another round after it, forced if the call was.
   */
  async sync(options: { force?: boolean } = {}): Promise<void> {
    if (!this.online) {
      return;
    }
    const force = options.force ?? false;
    if (this.#sending) {
      this.#again = { force: force || (this.#again?.force ?? false) };
      await this.#sending;
      return;
    }
    this.#sending = this.#sendRounds(force);
    let forced: boolean;
    try {
      forced = await this.#sending;
    } finally {
      this.#sending = null;
    }
    const now = Date.now();
    for (const job of this.jobs) {
      if ((workOf(job) === 'follow' || workOf(job) === 'report') && (forced || job.retryAt <= now)) {
        this.#follow(job);
      }
    }
    this.#schedule();
  }

  /** Send rounds until no sync asks for another; whether any of them was forced. */
  async #sendRounds(force: boolean): Promise<boolean> {
    let forced = false;
    for (let round: { force: boolean } | null = { force }; round; round = this.#again) {
      const options = round;
      this.#again = null;
      forced ||= options.force;
      await this.#try(() => sendDue(this.client, (job) => this.#put(job), options));
    }
    return forced;
  }

  #follow(job: EdgeJob): void {
    const client = this.#clientOf(job.server);
    this.#watch(job.id, (signal) => followEdgeJob(client, job, (update) => this.#put(update), signal));
  }

  /** Runs `work` for one job unless it already runs; at most one follower per job. */
  #watch(key: string, work: (signal: AbortSignal) => Promise<unknown>): void {
    if (this.#followers.has(key)) {
      return;
    }
    const controller = new AbortController();
    this.#followers.set(key, controller);
    void this.#try(() => work(controller.signal)).finally(() => {
      // A follower stopped by a change of server may already have a successor under its key.
      if (this.#followers.get(key) === controller) {
        this.#followers.delete(key);
      }
      this.#schedule();
    });
  }

  /** The client for a job sent earlier: the server it went to, with today's credentials. */
  #clientOf(server: string | null): EdgeClient {
    return server === null || server === this.client.connection.baseUrl
      ? this.client
      : edgeClientFor({ edgeUrl: server, edgeCredential: this.credential });
  }

  /** Wakes up when the earliest job that failed may be tried again. */
  #schedule(): void {
    clearTimeout(this.#timer);
    const waiting = this.jobs.filter((job) => workOf(job) !== null && !this.#followers.has(job.id));
    if (waiting.length > 0) {
      const next = Math.min(...waiting.map((job) => job.retryAt));
      this.#timer = setTimeout(() => void this.sync(), Math.max(1_000, next - Date.now()));
    }
  }

  #put(job: EdgeJob): void {
    const others = this.jobs.filter((j) => j.id !== job.id);
    this.jobs = [job, ...others].sort((a, b) => b.createdAt - a.createdAt);
    this.serverJobs = this.serverJobs.filter((j) => j.id !== job.serverId);
  }

  async cancel(item: EdgeJobItem): Promise<void> {
    await this.#try(async () => {
      if (item.local) {
        this.#put(await cancelEdgeJob(this.#clientOf(item.local.server ?? this.serverUrl), item.local));
      } else if (item.job) {
        const job = await this.client.cancelJob(item.job.id);
        this.serverJobs = this.serverJobs.map((j) => (j.id === job.id ? job : j));
      }
    });
  }

  /** Removes a finished job from this device's list, sent from here or elsewhere; the server's copy stays. */
  async remove(item: EdgeJobItem): Promise<void> {
    if (item.local) {
      await this.#remove([item.local], []);
    } else if (item.job) {
      await this.#remove([], [item.job]);
    }
  }

  /** Removes every finished job from the list at once, undone as one. */
  async removeFinished(): Promise<void> {
    await this.#remove(
      this.jobs.filter((job) => isFinalPhase(phaseOf(job))),
      this.serverJobs.filter((job) => isFinalJobState(job.state))
    );
  }

  async #remove(jobs: EdgeJob[], remote: JobView[]): Promise<void> {
    await this.#try(async () => {
      const removed = await removeEdgeJobs(
        jobs.map((job) => job.id),
        remote
      );
      if (removed.jobs.length + removed.remote.length === 0) {
        return;
      }
      const ids = new Set(removed.jobs.map((job) => job.id));
      // A finished job may still be fetching its report: nothing is left to store it in.
      for (const id of ids) {
        this.#followers.get(id)?.abort();
        this.#followers.delete(id);
      }
      const hidden = new Set(removed.remote.map((job) => job.id));
      this.jobs = this.jobs.filter((job) => !ids.has(job.id));
      this.serverJobs = this.serverJobs.filter((job) => !hidden.has(job.id));
      this.removed = removed;
      this.#removedUnder = this.#connection;
    });
  }

  async undoRemove(): Promise<void> {
    const removed = this.removed;
    this.removed = null;
    if (removed) {
      await this.#try(async () => {
        await restoreEdgeJobs(removed);
        // Shown again at once, as they were: final, they have not changed on the server. Not after a
        // change of server or credential, though: they belong to the list from before.
        if (this.#removedUnder === this.#connection) {
          const shown = new Set(this.serverJobs.map((job) => job.id));
          this.serverJobs = [...this.serverJobs, ...removed.remote.filter((job) => !shown.has(job.id))].sort(
            (a, b) => b.created_at - a.created_at
          );
        }
        removed.jobs.forEach((job) => this.#put(job));
        // A report that was being fetched when the job was removed is fetched again.
        this.#schedule();
      });
    }
  }

  /** The report as a file: the copy on this device, or (for a job sent elsewhere) the server's. */
  async report(item: EdgeJobItem): Promise<Blob | null> {
    let text = item.local?.report ?? null;
    const job = item.job;
    if (text === null && job) {
      await this.#try(async () => {
        text = await this.client.artifactText(job, REPORT_ARTIFACT);
      });
    }
    return text === null ? null : new Blob([text], { type: 'text/markdown' });
  }

  /** The server's job list; jobs from elsewhere that still run are followed live. */
  async refreshServerJobs(): Promise<void> {
    if (!this.online) {
      return;
    }
    await this.#try(async () => {
      this.serverJobs = await listServerJobs(
        this.client,
        SERVER_JOBS_SHOWN,
        () => new Set(this.jobs.map((j) => j.serverId))
      );
      for (const job of this.serverJobs.filter((j) => !isFinalJobState(j.state))) {
        this.#watch(job.id, (signal) => this.client.followJob(job.id, (update) => this.#putRemote(update), signal));
      }
    });
  }

  #putRemote(job: JobView): void {
    this.serverJobs = this.serverJobs.map((j) => (j.id === job.id ? job : j));
  }

  /** Saves the server and credential; an undefined credential keeps the saved one, null removes it. */
  async saveConnection(serverUrl: string | null, credential: string | null | undefined): Promise<void> {
    await this.#try(async () => {
      const next = credential === undefined ? this.credential : credential;
      await saveSetting('edgeUrl', serverUrl);
      await saveSetting('edgeCredential', next);
      this.serverUrl = serverUrl;
      this.credential = next;
      this.test = null;
      this.serverJobs = [];
      this.#connection += 1;
      // Followers hold the old client and credentials: the sync below follows again with the new ones.
      this.#followers.forEach((follower) => follower.abort());
      this.#followers.clear();
      // What went wrong with the old settings says nothing about the new ones.
      this.error = null;
      // New credentials or a new server may be what the outbox was waiting for.
      await this.sync({ force: true });
      await this.refreshServerJobs();
    });
  }

  /** Asks a server for its health, version and models: the saved one, or the one being entered. */
  async testConnection(serverUrl: string | null, credential?: string): Promise<void> {
    this.test = { phase: 'testing' };
    const client = edgeClientFor(
      { edgeUrl: serverUrl, edgeCredential: credential ?? this.credential },
      { retries: 0, timeoutMs: 8_000 }
    );
    try {
      const [health, models] = await Promise.all([client.health(), client.models()]);
      this.test = { phase: 'ok', health, models: models.data };
    } catch (error) {
      const shown = handleError(error);
      this.test = shown ? { phase: 'failed', error: shown } : null;
    }
  }

  /** Only a failure sets the error: another action that worked meanwhile must not wipe it. */
  async #try(work: () => Promise<unknown>): Promise<void> {
    this.error = (await attempt(async () => void (await work()))) ?? this.error;
  }
}

export const edgeJobsStore = new EdgeJobsStore();
