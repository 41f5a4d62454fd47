import { isFinalPhase, keptReport, phaseOf, type EdgeJobPhase } from '#lib/core/edge-outbox.ts';
import { isFinalJobState, type JobView } from '#lib/core/edge-wire.ts';
import { reportArtifactOf } from '#lib/core/job-kinds.ts';
import { nextTask } from '#lib/core/next-task.ts';
import type { EdgeJob, Observation } from '#lib/db/index.ts';
import {
  analysisOf,
  artifactFile,
  cancelEdgeJob,
  fetchArtifact,
  followEdgeJob,
  listEdgeJobs,
  listServerJobs,
  observationSubject,
  queueEdgeJob,
  removeEdgeJobs,
  restoreEdgeJobs,
  sendDue,
  type EdgeJobRemoval
} from '#lib/services/edge-jobs.service.ts';
import { jobProblemInWords, NO_ANALYSIS_MODEL, serverModelForJob } from '#lib/services/edge-analysis.service.ts';
import { EdgeOutbox } from '#lib/services/edge-outbox.service.ts';
import { handleError, type UserError } from '#lib/services/handle-error.ts';
import { edgeConnectionStore as connection } from './edge-connection-store.svelte.ts';
import { ErrorSlot } from './error-slot.svelte.ts';

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

/**
 * Whether the server can analyse an observation: on which model, or why not in the user's words.
 * Unknown until asked, and while offline before the first answer (the outbox then queues a job).
 */
export type AnalysisOffer =
  { phase: 'unknown' } | { phase: 'available'; model: string } | { phase: 'unavailable'; reason: string };

/** How many jobs sent from elsewhere the list shows, newest first. */
const SERVER_JOBS_SHOWN = 20;

const problemOf = (problem: { code?: string; message: string } | null): string | null =>
  problem && jobProblemInWords(problem.code, problem.message);

const itemOf = (job: EdgeJob): EdgeJobItem => ({
  key: job.id,
  label: job.label,
  phase: phaseOf(job),
  job: job.job,
  problem: problemOf(job.problem ?? job.job?.error ?? null),
  hasReport: keptReport(job) !== undefined,
  local: job
});

const remoteItem = (job: JobView): EdgeJobItem => ({
  key: job.id,
  label: `${job.type} · ${job.id.slice(0, 8)}`,
  phase: job.state,
  job,
  problem: problemOf(job.error),
  hasReport: job.artifacts.some((a) => a.name === reportArtifactOf(job.type)),
  local: null
});

/**
 * The list of edge jobs: this device's own, kept in IndexedDB and driven by the outbox, and the
 * server's jobs sent from elsewhere. Sends the outbox at start, when the network returns and on
 * the outbox's backoff timer.
 */
class EdgeJobsStore {
  #jobs = $state.raw<EdgeJob[]>([]);
  /** The server's own list, minus the jobs this device sent (those are in `jobs`). */
  #serverJobs = $state.raw<JobView[]>([]);
  /** The jobs last removed from this device's list, until the user undoes it or removes others. */
  #removed = $state.raw<EdgeJobRemoval | null>(null);
  #items = $derived([...this.#jobs.map(itemOf), ...this.#serverJobs.map(remoteItem)]);
  #errors = new ErrorSlot('Server jobs');
  #analysis = $state.raw<AnalysisOffer>({ phase: 'unknown' });

  #outbox = new EdgeOutbox({
    jobs: () => this.#jobs,
    online: () => connection.online,
    sendRound: (options) => sendDue(connection.client, (job) => this.#put(job), options),
    follow: (job, signal) => followEdgeJob(connection.clientOf(job.server), job, (update) => this.#put(update), signal),
    onError: (error) => this.#errors.report(error)
  });
  #init: Promise<void> | null = null;
  /** Counts changes of server or credential: a list from before one is some other list. */
  #connection = 0;
  /** The connection under which the pending removal's jobs from elsewhere were listed. */
  #removedUnder = 0;

  get serverJobs(): readonly JobView[] {
    return this.#serverJobs;
  }

  get items(): EdgeJobItem[] {
    return this.#items;
  }

  get removed(): EdgeJobRemoval | null {
    return this.#removed;
  }

  /** Whether an observation can be sent for the server's detailed analysis now. */
  get analysis(): AnalysisOffer {
    return this.#analysis;
  }

  get error(): UserError | null {
    return this.#errors.current;
  }

  dismissError(): void {
    this.#errors.dismiss();
  }

  /** Once per app start (later calls wait for that one): loads the outbox and starts sending it. */
  init(): Promise<void> {
    this.#init ??= this.#start();
    return this.#init;
  }

  async #start(): Promise<void> {
    connection.followNetwork(() => {
      void this.sync({ force: true });
      void this.checkAnalysis();
    });
    try {
      await connection.load();
      this.#jobs = await listEdgeJobs();
    } catch (error) {
      this.#errors.report(error);
    }
    // Sending is not urgent: in a task of its own, not the one that read the jobs.
    await nextTask();
    await Promise.all([this.sync(), this.checkAnalysis()]);
  }

  /** The latest job asked about an observation. */
  jobFor(observationId: number | undefined): EdgeJobItem | undefined {
    const job = this.#jobs.find((j) => j.subject?.kind === 'observation' && j.subject.id === observationId);
    return job && itemOf(job);
  }

  /**
   * Asks the server which model would analyse an observation. Offline, what is known stays: a
   * job can still be queued for when the network returns.
   */
  async checkAnalysis(): Promise<void> {
    if (!connection.online) {
      return;
    }
    const client = connection.client;
    let offer: AnalysisOffer;
    try {
      const model = await serverModelForJob(client, 'medgemma.analyze');
      offer = model === null ? { phase: 'unavailable', reason: NO_ANALYSIS_MODEL } : { phase: 'available', model };
    } catch (error) {
      const reason = handleError(error)?.message;
      offer = reason ? { phase: 'unavailable', reason } : { phase: 'unknown' };
    }
    // A change of server meanwhile has asked the new one.
    if (client === connection.client) {
      this.#analysis = offer;
    }
  }

  async send(observation: Observation): Promise<void> {
    const offer = this.#analysis;
    if (offer.phase === 'unavailable') {
      return;
    }
    await this.#errors.run(async () => {
      const model = offer.phase === 'available' ? offer.model : undefined;
      const job = await queueEdgeJob(await analysisOf(observation, model), {
        subject: observationSubject(observation),
        label: observation.prompt
      });
      this.#put(job);
      await this.sync();
    });
  }

  /** Sends what is due now (everything with `force`), then follows every job still running. */
  sync(options: { force?: boolean } = {}): Promise<void> {
    return this.#outbox.sync(options);
  }

  #put(job: EdgeJob): void {
    const others = this.#jobs.filter((j) => j.id !== job.id);
    this.#jobs = [job, ...others].sort((a, b) => b.createdAt - a.createdAt);
    this.#serverJobs = this.#serverJobs.filter((j) => j.id !== job.serverId);
  }

  async cancel(item: EdgeJobItem): Promise<void> {
    await this.#errors.run(async () => {
      if (item.local) {
        this.#put(await cancelEdgeJob(connection.clientOf(item.local.server), item.local));
      } else if (item.job) {
        this.#putRemote(await connection.client.cancelJob(item.job.id));
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
      this.#jobs.filter((job) => isFinalPhase(phaseOf(job))),
      this.#serverJobs.filter((job) => isFinalJobState(job.state))
    );
  }

  async #remove(jobs: EdgeJob[], remote: JobView[]): Promise<void> {
    await this.#errors.run(async () => {
      const removed = await removeEdgeJobs(
        jobs.map((job) => job.id),
        remote
      );
      if (removed.jobs.length + removed.remote.length === 0) {
        return;
      }
      const ids = new Set(removed.jobs.map((job) => job.id));
      // A finished job may still be fetching its report: nothing is left to store it in.
      this.#outbox.stop(ids);
      const hidden = new Set(removed.remote.map((job) => job.id));
      this.#jobs = this.#jobs.filter((job) => !ids.has(job.id));
      this.#serverJobs = this.#serverJobs.filter((job) => !hidden.has(job.id));
      this.#removed = removed;
      this.#removedUnder = this.#connection;
    });
  }

  async undoRemove(): Promise<void> {
    const removed = this.#removed;
    this.#removed = null;
    if (removed) {
      await this.#errors.run(async () => {
        await restoreEdgeJobs(removed);
        // Shown again at once, as they were: final, they have not changed on the server. Not after a
        // change of server or credential, though: they belong to the list from before.
        if (this.#removedUnder === this.#connection) {
          const shown = new Set(this.#serverJobs.map((job) => job.id));
          this.#serverJobs = [...this.#serverJobs, ...removed.remote.filter((job) => !shown.has(job.id))].sort(
            (a, b) => b.created_at - a.created_at
          );
        }
        removed.jobs.forEach((job) => this.#put(job));
        // A report that was being fetched when the job was removed is fetched again.
        this.#outbox.schedule();
      });
    }
  }

  /** The report as a file: the copy on this device, or (for a job sent elsewhere) the server's. */
  async report(item: EdgeJobItem): Promise<Blob | null> {
    const kept = item.local && keptReport(item.local);
    if (kept) {
      return artifactFile(kept);
    }
    const job = item.job;
    const name = job && reportArtifactOf(job.type);
    let file: Blob | null = null;
    if (job && name) {
      await this.#errors.run(async () => {
        file = artifactFile(await fetchArtifact(connection.client, job, name));
      });
    }
    return file;
  }

  /** The server's job list; jobs from elsewhere that still run are followed live. */
  async refreshServerJobs(): Promise<void> {
    if (connection.online) {
      await this.#errors.run(() => this.#refreshServerJobs());
    }
  }

  async #refreshServerJobs(): Promise<void> {
    const client = connection.client;
    this.#serverJobs = await listServerJobs(
      client,
      SERVER_JOBS_SHOWN,
      () => new Set(this.#jobs.map((j) => j.serverId))
    );
    for (const job of this.#serverJobs.filter((j) => !isFinalJobState(j.state))) {
      this.#outbox.watch(job.id, (signal) => client.followJob(job.id, (update) => this.#putRemote(update), signal));
    }
  }

  #putRemote(job: JobView): void {
    this.#serverJobs = this.#serverJobs.map((j) => (j.id === job.id ? job : j));
  }

  /** Saves the server and credential (see `edgeConnectionStore.save`) and starts over with them. */
  async saveConnection(serverUrl: string | null, credential: string | null | undefined): Promise<void> {
    await this.#errors.run(async () => {
      await connection.save(serverUrl, credential);
      this.#serverJobs = [];
      this.#connection += 1;
      // Followers hold the old client and credentials: the sync below follows again with the new ones.
      this.#outbox.stopAll();
      // What went wrong with the old settings meanwhile says nothing about the new ones.
      this.#errors.dismiss();
      // New credentials or a new server may be what the outbox was waiting for.
      await Promise.all([this.sync({ force: true }), this.checkAnalysis()]);
      if (connection.online) {
        await this.#refreshServerJobs();
      }
    });
  }
}

export const edgeJobsStore = new EdgeJobsStore();
