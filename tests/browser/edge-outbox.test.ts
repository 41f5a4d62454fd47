import { Dexie } from 'dexie';
import { beforeEach, describe, expect, inject, it, onTestFinished, vi } from 'vitest';
import { CANCELLED_UNSENT, HIDDEN_JOBS_KEPT, keptReport, phaseOf, workOf } from '#lib/core/edge-outbox.ts';
import { isFinalJobState, type JobView } from '#lib/core/edge-wire.ts';
import type { EdgeJobV6 } from '#lib/db/edge-job-upgrades.ts';
import { db, VisionHubDb, type EdgeJob, type Observation } from '#lib/db/index.ts';
import { EdgeClient } from '#lib/services/edge-client.ts';
import {
  cancelEdgeJob,
  followEdgeJob,
  listEdgeJobs,
  listServerJobs,
  queueEdgeJob,
  removeEdgeJobs,
  restoreEdgeJobs,
  sendDue
} from '#lib/services/edge-jobs.service.ts';
import { loadSetting, saveSetting } from '#lib/services/settings.service.ts';
import { edgeConnectionStore } from '#lib/state/edge-connection-store.svelte.ts';
import { edgeJobsStore } from '#lib/state/edge-jobs-store.svelte.ts';
import { jobView } from '../unit/fixtures/job-view.ts';
import { analysisRequest, jpegDataUrl, shippedJobRow, shippedStores } from './edge-helpers.ts';

const connection = { baseUrl: inject('edgeUrl'), credential: inject('edgeKeys').outbox };
/** This file's own tenant on the real server, so its job list holds only this file's jobs. */
const online = new EdgeClient(connection);
const offline = new EdgeClient(connection, {
  retries: 0,
  fetch: () => Promise.reject(new TypeError('Failed to fetch'))
});

/** Jobs the server made since `before` (a list taken earlier). */
async function serverJobsSince(before: Set<string>) {
  const { data } = await online.listJobs({ limit: 100 });
  return data.filter((job) => !before.has(job.id));
}
const serverJobIds = async () => new Set((await online.listJobs({ limit: 100 })).data.map((job) => job.id));

/** Closes and reopens the database, as a reload does: what survives is what IndexedDB kept. */
async function reopen(): Promise<void> {
  db.close();
  await db.open();
}

const queue = async (label: string) => queueEdgeJob(await analysisRequest(label), { subject: null, label });
const stored = async (id: string) => (await db.edgeJobs.get(id))!;
/** What the outbox index holds, in id order. */
const outboxIds = async () => ((await db.edgeJobs.where('outbox').equals(1).primaryKeys()) as string[]).sort();
const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);
const hiddenIds = () => loadSetting('hiddenEdgeJobs');
/** A job sent to the server past this device's outbox, as another device would, followed to its end. */
async function submitElsewhere(client: EdgeClient, prompt: string): Promise<JobView> {
  const { job } = await client.submitJob(await analysisRequest(prompt), `elsewhere-${crypto.randomUUID()}`);
  return client.followJob(job.id, () => undefined);
}

/** Cancels a job unless it has ended, and waits for its end; even after a failed test, none is left running. */
async function stopJob(client: EdgeClient, id: string): Promise<void> {
  if (!isFinalJobState((await client.getJob(id)).state)) {
    await client.cancelJob(id);
  }
  await client.followJob(id, () => undefined);
}

beforeEach(() => Promise.all([db.edgeJobs.clear(), saveSetting('hiddenEdgeJobs', [])]));

describe('edge outbox on real IndexedDB and a real edge server', () => {
  it('a job queued offline survives a reload and is sent once when the network returns', async () => {
    const before = await serverJobIds();
    const queued = await queue('Offline question');

    const changes: EdgeJob[] = [];
    await sendDue(offline, (job) => changes.push(job));
    const failed = await stored(queued.id);
    expect(phaseOf(failed)).toBe('unsent');
    expect(failed).toMatchObject({ attempts: 1, serverId: null, problem: { code: 'edge_unavailable', final: false } });
    expect(failed.retryAt).toBeGreaterThan(Date.now());
    expect(changes.map((c) => c.id)).toEqual([queued.id]);

    // Not due yet: a round without `force` leaves it alone.
    await sendDue(online, () => undefined);
    expect((await stored(queued.id)).serverId).toBeNull();

    await reopen();
    const [survivor] = await listEdgeJobs();
    expect(survivor).toMatchObject({ id: queued.id, idempotencyKey: queued.idempotencyKey, request: queued.request });

    await sendDue(online, () => undefined, { force: true });
    const sent = await stored(queued.id);
    expect(sent.serverId).toMatch(/\S+/);
    expect(sent).toMatchObject({ server: connection.baseUrl, problem: null, attempts: 0 });
    expect(workOf(sent)).toBe('follow');
    // Sending again does nothing: it is no longer in the outbox.
    await sendDue(online, () => undefined, { force: true });
    expect((await serverJobsSince(before)).map((job) => job.id)).toEqual([sent.serverId]);
    await followEdgeJob(online, sent, () => undefined);
  });

  it('a send whose answer was lost is resent with the same key, and the server keeps one job', async () => {
    const before = await serverJobIds();
    const queued = await queue('Lost answer');
    const keys: (string | null)[] = [];
    let lostJobId = '';
    // The request reaches the server and the job is made; the answer never comes back.
    const interrupted = new EdgeClient(connection, {
      retries: 0,
      fetch: async (input, init) => {
        keys.push(new Headers(init?.headers).get('idempotency-key'));
        const response = await fetch(input, init);
        lostJobId = ((await response.json()) as { id: string }).id;
        throw new TypeError('network connection lost');
      }
    });
    await sendDue(interrupted, () => undefined);
    expect((await stored(queued.id)).serverId).toBeNull();
    expect(lostJobId).not.toBe('');

    const resend = new EdgeClient(connection, {
      fetch: (input, init) => (keys.push(new Headers(init?.headers).get('idempotency-key')), fetch(input, init))
    });
    await sendDue(resend, () => undefined, { force: true });
    expect(keys).toEqual([queued.idempotencyKey, queued.idempotencyKey]);
    expect((await stored(queued.id)).serverId).toBe(lostJobId);
    expect((await serverJobsSince(before)).map((job) => job.id)).toEqual([lostJobId]);
    await followEdgeJob(online, await stored(queued.id), () => undefined);
  });

  it('follows a sent job to its findings and keeps result and report readable offline', async () => {
    const queued = await queue('Follow me');
    await sendDue(online, () => undefined);
    const updates: EdgeJob[] = [];
    await followEdgeJob(online, await stored(queued.id), (job) => updates.push(job));

    expect(updates.some((u) => u.job?.state !== 'completed')).toBe(true);
    await reopen();
    const done = await stored(queued.id);
    expect(phaseOf(done)).toBe('completed');
    expect(workOf(done)).toBeNull();
    expect(done.job?.result).toMatchObject({ model: 'tiny-smolvlm', findings: [{ index: 0 }] });
    expect(keptReport(done)?.content).toContain('Question: Follow me');
  });

  it('a job cancelled before it left is never sent; one the server refuses is not retried', async () => {
    const before = await serverJobIds();
    const cancelled = await cancelEdgeJob(online, await queue('Never mind'));
    expect(phaseOf(cancelled)).toBe('cancelled');

    const bad = await queueEdgeJob(
      { type: 'medgemma.analyze', input: { images: [{ url: 'data:text/plain;base64,aGk=' }] } },
      { subject: null, label: 'Not an image' }
    );
    await sendDue(online, () => undefined, { force: true });
    const refused = await stored(bad.id);
    expect(phaseOf(refused)).toBe('refused');
    expect(refused.problem).toMatchObject({ final: true });
    await sendDue(online, () => undefined, { force: true });
    expect((await stored(bad.id)).attempts).toBe(1);
    expect(await serverJobsSince(before)).toEqual([]);
  });

  it('a send round reads only the outbox index: due jobs go, every other row stays as it was', async () => {
    const before = await serverJobIds();
    const sent = await queue('Already sent');
    await sendDue(online, () => undefined);
    const later = await queue('Not due yet');
    await sendDue(offline, () => undefined);
    const cancelled = await cancelEdgeJob(online, await queue('Cancelled'));
    // Unsent by `workOf`, but written past the service without the mark: a round that read every row would send it.
    const { outbox: _, ...unmarked } = await queue('Unmarked');
    await db.edgeJobs.put(unmarked);
    const due = await queue('Due');
    const others = [sent.id, later.id, cancelled.id, unmarked.id];
    const untouched = await db.edgeJobs.bulkGet(others);
    expect(await outboxIds()).toEqual([later.id, due.id].sort());

    await sendDue(online, () => undefined);
    expect(await db.edgeJobs.bulkGet(others)).toEqual(untouched);
    const dueSent = await stored(due.id);
    expect(dueSent.serverId).toMatch(/\S+/);
    expect(dueSent).not.toHaveProperty('outbox');
    expect(await outboxIds()).toEqual([later.id]);
    const serverIds = (await serverJobsSince(before)).map((job) => job.id);
    expect(serverIds.sort()).toEqual([(await stored(sent.id)).serverId, dueSent.serverId].sort());
    await followEdgeJob(online, await stored(sent.id), () => undefined);
    await followEdgeJob(online, dueSent, () => undefined);
  });

  it('a job cancelled and removed while its send was on its way is cancelled on the server', async () => {
    const before = await serverJobIds();
    const queued = await queueEdgeJob(await analysisRequest('Changed my mind', 2_048), {
      subject: null,
      label: 'Changed my mind'
    });
    const meanwhile = new EdgeClient(connection, {
      fetch: async (input, init) => {
        const response = await fetch(input, init);
        if (init?.method === 'POST' && String(input).endsWith('/v1/jobs')) {
          await cancelEdgeJob(online, await stored(queued.id));
          expect((await removeEdgeJobs([queued.id])).jobs.map((job) => job.id)).toEqual([queued.id]);
        }
        return response;
      }
    });
    await sendDue(meanwhile, () => undefined);
    expect(await db.edgeJobs.get(queued.id)).toBeUndefined();
    const [made] = await serverJobsSince(before);
    expect((await online.followJob(made!.id, () => undefined)).state).toBe('cancelled');
  });

  it('removes only finished jobs, and undo puts back exactly the records removed', async () => {
    const bad = await queueEdgeJob(
      { type: 'medgemma.analyze', input: { images: [{ url: 'data:text/plain;base64,aGk=' }] } },
      { subject: null, label: 'Not an image' }
    );
    await sendDue(online, () => undefined);
    const done = await queue('Done');
    await sendDue(online, () => undefined);
    await followEdgeJob(online, await stored(done.id), () => undefined);
    const running = await queueEdgeJob(await analysisRequest('Still running', 2_048), {
      subject: null,
      label: 'Still running'
    });
    await sendDue(online, () => undefined);
    const cancelled = await cancelEdgeJob(online, await queue('Cancelled'));
    const unsent = await queue('Unsent');
    const all = (await db.edgeJobs.toArray()).sort(byId);
    const phase = (id: string) => phaseOf(all.find((job) => job.id === id)!);
    expect([bad.id, done.id, cancelled.id, running.id, unsent.id].map(phase)).toEqual([
      'refused',
      'completed',
      'cancelled',
      expect.stringMatching(/^(queued|running)$/),
      'unsent'
    ]);
    expect(keptReport(await stored(done.id))?.content).toContain('Question: Done');

    const removed = await removeEdgeJobs(all.map((job) => job.id));
    const finished = all.filter((job) => [bad.id, done.id, cancelled.id].includes(job.id));
    expect(removed.jobs.sort(byId)).toEqual(finished);
    expect(removed.remote).toEqual([]);
    expect((await db.edgeJobs.toArray()).map((job) => job.id).sort()).toEqual([running.id, unsent.id].sort());
    // Only the finished job the server knows has an id there to hide.
    expect(await hiddenIds()).toEqual([all.find((job) => job.id === done.id)!.serverId]);

    await restoreEdgeJobs(removed);
    expect((await db.edgeJobs.toArray()).sort(byId)).toEqual(all);
    expect(await hiddenIds()).toEqual([]);
    await followEdgeJob(online, await cancelEdgeJob(online, await stored(running.id)), () => undefined);
  });

  it('the server list leaves out a removed job, sent from here or elsewhere, until the removal is undone', async () => {
    const done = await queue('Removed here');
    await sendDue(online, () => undefined);
    await followEdgeJob(online, await stored(done.id), () => undefined);
    const sent = await stored(done.id);
    const elsewhere = await submitElsewhere(online, 'Removed from elsewhere');
    const { job: running } = await online.submitJob(
      await analysisRequest('Still running elsewhere', 2_048),
      `elsewhere-${crypto.randomUUID()}`
    );
    onTestFinished(() => stopJob(online, running.id));
    const listedIds = async () => (await listServerJobs(online, 100)).map((job) => job.id);
    expect(await listedIds()).toEqual(expect.arrayContaining([sent.serverId, elsewhere.id, running.id]));

    const removed = await removeEdgeJobs([done.id], [elsewhere, running]);
    expect(removed).toEqual({ jobs: [sent], remote: [elsewhere] });
    expect(await hiddenIds()).toEqual([sent.serverId, elsewhere.id]);
    const listed = await listedIds();
    expect(listed).toContain(running.id);
    expect(listed).not.toContain(sent.serverId);
    expect(listed).not.toContain(elsewhere.id);

    await restoreEdgeJobs(removed);
    expect(await stored(done.id)).toEqual(sent);
    expect(await hiddenIds()).toEqual([]);
    expect(await listedIds()).toEqual(expect.arrayContaining([sent.serverId, elsewhere.id]));
  });

  it('fills the server list from further pages when its newest jobs are removed or were sent from here', async () => {
    const submitted: string[] = [];
    for (const prompt of ['First', 'Second', 'Third', 'Fourth']) {
      const { job } = await online.submitJob(await analysisRequest(prompt), `elsewhere-${crypto.randomUUID()}`);
      submitted.push(job.id);
    }
    onTestFinished(async () => void (await Promise.all(submitted.map((id) => stopJob(online, id)))));
    const newestFirst = (await online.listJobs({ limit: 4 })).data.map((job) => job.id);
    expect([...newestFirst].sort()).toEqual([...submitted].sort());
    const [removed, sentHere, ...older] = newestFirst;

    await saveSetting('hiddenEdgeJobs', [removed!]);
    const listed = await listServerJobs(online, 2, () => new Set([sentHere!]));
    expect(listed.map((job) => job.id)).toEqual(older);
  });

  it('remembers only the newest removals, so the hidden list cannot grow without bound', async () => {
    const old = Array.from({ length: HIDDEN_JOBS_KEPT + 5 }, (_, i) => jobView('completed', { id: `gone-${i}` }));
    await removeEdgeJobs([], old);
    expect(await hiddenIds()).toEqual(old.slice(-HIDDEN_JOBS_KEPT).map((job) => job.id));

    const elsewhere = await submitElsewhere(online, 'Removed last');
    await removeEdgeJobs([], [elsewhere]);
    const hidden = await hiddenIds();
    expect(hidden).toHaveLength(HIDDEN_JOBS_KEPT);
    expect(hidden[0]).toBe('gone-6');
    expect(hidden.at(-1)).toBe(elsewhere.id);
    expect((await listServerJobs(online, 100)).map((job) => job.id)).not.toContain(elsewhere.id);
  });

  it('a job on the server can be cancelled, and ends cancelled', async () => {
    const long = await queueEdgeJob(await analysisRequest('Stop this', 2_048), { subject: null, label: 'Stop' });
    await sendDue(online, () => undefined);
    const cancelled = await cancelEdgeJob(online, await stored(long.id));
    expect(cancelled.job?.cancel_requested).toBe(true);
    await followEdgeJob(online, cancelled, () => undefined);
    expect(phaseOf(await stored(long.id))).toBe('cancelled');
  });
});

describe('the database', () => {
  it('upgrades from version 5 with the outbox mark on exactly the unsent jobs, and drops the unused index', async () => {
    const name = `vision-hub-upgrade-${crypto.randomUUID()}`;
    const old = new Dexie(name);
    old.version(5).stores(shippedStores(5));
    const row = (id: string, extra: Partial<EdgeJobV6> = {}) => shippedJobRow(id, { observationId: 7, ...extra });
    const sent = { server: 'https://edge.example', serverId: 'job_1' };
    const rows = [
      row('fresh'),
      row('retrying', { attempts: 2, problem: { message: 'offline', code: 'edge_unavailable', final: false } }),
      row('cancelled', { problem: { message: 'Cancelled', code: CANCELLED_UNSENT, final: true } }),
      row('refused', { attempts: 1, problem: { message: 'Too large', code: 'payload_too_large', final: true } }),
      row('running', { ...sent, job: jobView('running') }),
      row('done', { ...sent, job: jobView('completed'), report: '# MedGemma analysis' })
    ].sort(byId);
    await old.table('edgeJobs').bulkAdd(rows);
    old.close();

    const upgraded = new VisionHubDb(name);
    try {
      const marked = new Set(['fresh', 'retrying']);
      expect((await upgraded.edgeJobs.where('outbox').equals(1).primaryKeys()).sort()).toEqual([...marked].sort());
      // And in today's shape (version 7): a kind, the observation as the subject, the report as an artifact.
      const today = ({ observationId, report, ...job }: EdgeJobV6): EdgeJob => ({
        ...job,
        kind: 'medgemma.analyze',
        subject: { kind: 'observation', id: observationId! },
        artifacts: report === null ? [] : [{ name: 'report.md', contentType: 'text/markdown', content: report }]
      });
      expect(await upgraded.edgeJobs.toArray()).toEqual(
        rows.map((job) => (marked.has(job.id) ? { ...today(job), outbox: 1 } : today(job)))
      );
      const read = upgraded.backendDB().transaction('edgeJobs');
      expect(Array.from(read.objectStore('edgeJobs').indexNames).sort()).toEqual(['createdAt', 'outbox']);
      // Closing waits for this transaction; a delete meanwhile would be blocked.
      await new Promise((resolve) => (read.oncomplete = resolve));
    } finally {
      upgraded.close();
      await Dexie.delete(name);
    }
  });
});

/** An answered camera question, as the camera page offers it for sending. */
async function observation(id: number, prompt: string): Promise<Observation> {
  return {
    id,
    createdAt: Date.now(),
    prompt,
    answer: 'A tray.',
    modelId: 'tiny-smolvlm',
    variantId: 'wasm-fp32',
    thumbnail: await (await fetch(await jpegDataUrl())).blob(),
    stats: {
      tokens: 1,
      preprocessMs: 1,
      visionMs: 1,
      prefillMs: 1,
      timeToFirstTokenMs: 3,
      totalMs: 4,
      tokensPerSecond: 1,
      device: 'wasm',
      aborted: false
    },
    source: 'camera'
  };
}

// In this file rather than its own: test files run side by side and share IndexedDB.
describe('edge jobs store', () => {
  /** Another device of the store's tenant, sending to the server directly. */
  const elsewhere = new EdgeClient({ baseUrl: inject('edgeUrl'), credential: inject('edgeKeys').store });
  const remoteIds = () => edgeJobsStore.serverJobs.map((job) => job.id);
  /** Every item of the list about one server job, from this device or from elsewhere. */
  const listedAs = (serverId: string) => edgeJobsStore.items.filter((item) => item.job?.id === serverId);

  it('queues while offline, sends when the online event comes, and shows the job to its report', async () => {
    const store = new EdgeClient({ baseUrl: inject('edgeUrl'), credential: inject('edgeKeys').store });
    await saveSetting('edgeUrl', inject('edgeUrl'));
    await saveSetting('edgeCredential', inject('edgeKeys').store);
    await edgeJobsStore.init();
    expect(edgeConnectionStore.credentialMask).toMatch(/^vh_•+.{4}$/);

    window.dispatchEvent(new Event('offline'));
    await edgeJobsStore.send(await observation(4242, 'What is on the tray?'));
    expect(edgeJobsStore.jobFor(4242)?.phase).toBe('unsent');
    expect((await store.listJobs()).data).toEqual([]);

    window.dispatchEvent(new Event('online'));
    await expect.poll(() => edgeJobsStore.jobFor(4242)?.phase, { timeout: 30_000 }).toBe('completed');
    await expect.poll(() => edgeJobsStore.jobFor(4242)?.hasReport, { timeout: 10_000 }).toBe(true);
    const item = edgeJobsStore.jobFor(4242)!;
    expect(await (await edgeJobsStore.report(item))!.text()).toContain('Question: What is on the tray?');
    const { data } = await store.listJobs();
    expect(data.map((job) => job.id)).toEqual([item.job!.id]);
    expect(edgeJobsStore.error).toBeNull();
  });

  it('a forced sync asked for while a send round runs (new settings, the network back) is not lost', async () => {
    await edgeJobsStore.init();
    const realFetch = globalThis.fetch;
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let posted!: () => void;
    const posting = new Promise<void>((resolve) => (posted = resolve));
    let busyAnswers = 0;
    // The first send waits, then is told to come back in a minute.
    vi.stubGlobal('fetch', async (input: RequestInfo | URL, init?: RequestInit) => {
      if (init?.method === 'POST' && String(input).endsWith('/v1/jobs') && busyAnswers === 0) {
        busyAnswers += 1;
        posted();
        await released;
        return Response.json(
          { error: { message: 'Busy', type: 'server_error', param: null, code: 'busy' } },
          { status: 503, headers: { 'retry-after': '60' } }
        );
      }
      return realFetch(input, init);
    });
    try {
      const sending = edgeJobsStore.send(await observation(4343, 'Is the lid on?'));
      await posting;
      const forced = edgeJobsStore.sync({ force: true });
      release();
      await Promise.all([sending, forced]);
      expect(busyAnswers).toBe(1);
      // Sent by the forced round, although the busy answer asked for a minute's wait.
      expect(edgeJobsStore.jobFor(4343)?.local?.serverId).toMatch(/\S+/);
      await expect.poll(() => edgeJobsStore.jobFor(4343)?.phase, { timeout: 30_000 }).toBe('completed');
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('a finished job removed from the list comes back as it was with undo, alone or with all the finished ones', async () => {
    await edgeJobsStore.init();
    await edgeJobsStore.send(await observation(4444, 'Is it clean?'));
    await expect.poll(() => edgeJobsStore.jobFor(4444)?.hasReport, { timeout: 30_000 }).toBe(true);
    const done = edgeJobsStore.jobFor(4444)!;
    const record = await stored(done.key);

    await edgeJobsStore.remove(done);
    expect(edgeJobsStore.jobFor(4444)).toBeUndefined();
    expect(await db.edgeJobs.get(done.key)).toBeUndefined();
    expect(edgeJobsStore.removed).toEqual({ jobs: [record], remote: [] });
    await edgeJobsStore.undoRemove();
    expect(edgeJobsStore.removed).toBeNull();
    expect(await stored(done.key)).toEqual(record);
    expect(edgeJobsStore.jobFor(4444)?.local).toEqual(record);

    window.dispatchEvent(new Event('offline'));
    await edgeJobsStore.send(await observation(4545, 'Is it dry?'));
    const waiting = edgeJobsStore.jobFor(4545)!;
    await edgeJobsStore.removeFinished();
    expect(edgeJobsStore.removed?.jobs.map((job) => job.id)).toEqual([done.key]);
    expect(edgeJobsStore.jobFor(4444)).toBeUndefined();
    expect(edgeJobsStore.jobFor(4545)?.phase).toBe('unsent');
    expect(await db.edgeJobs.get(waiting.key)).toBeDefined();
    await edgeJobsStore.undoRemove();
    expect(await stored(done.key)).toEqual(record);
    expect(edgeJobsStore.jobFor(4444)?.local).toEqual(record);
    expect(edgeJobsStore.error).toBeNull();
    await edgeJobsStore.cancel(waiting);
  });

  it('a removed job stays off the list when the server list is refreshed, and undo brings it back once', async () => {
    await edgeJobsStore.init();
    // An earlier test left the store offline.
    window.dispatchEvent(new Event('online'));
    await edgeJobsStore.send(await observation(4646, 'Is it sealed?'));
    await expect.poll(() => edgeJobsStore.jobFor(4646)?.hasReport, { timeout: 30_000 }).toBe(true);
    const done = edgeJobsStore.jobFor(4646)!;
    const record = await stored(done.key);
    const serverId = record.serverId!;
    await edgeJobsStore.refreshServerJobs();
    expect(listedAs(serverId).map((item) => item.local)).toEqual([record]);

    await edgeJobsStore.remove(done);
    await edgeJobsStore.refreshServerJobs();
    expect(listedAs(serverId)).toEqual([]);
    expect(await hiddenIds()).toEqual([serverId]);

    await edgeJobsStore.undoRemove();
    expect(await stored(done.key)).toEqual(record);
    expect(listedAs(serverId).map((item) => item.local)).toEqual([record]);
    await edgeJobsStore.refreshServerJobs();
    expect(listedAs(serverId).map((item) => item.local)).toEqual([record]);
    expect(await hiddenIds()).toEqual([]);
    expect(edgeJobsStore.error).toBeNull();
  });

  it('a finished job sent from elsewhere can be removed, stays hidden across refreshes, and undo shows it again', async () => {
    await edgeJobsStore.init();
    window.dispatchEvent(new Event('online'));
    const finished = await submitElsewhere(elsewhere, 'Sent from a tablet');
    await edgeJobsStore.refreshServerJobs();
    const item = edgeJobsStore.items.find((i) => i.key === finished.id)!;
    expect(item).toMatchObject({ local: null, phase: 'completed', job: { id: finished.id } });

    await edgeJobsStore.remove(item);
    expect(edgeJobsStore.removed).toEqual({ jobs: [], remote: [item.job] });
    expect(remoteIds()).not.toContain(finished.id);
    await edgeJobsStore.refreshServerJobs();
    expect(remoteIds()).not.toContain(finished.id);
    expect(await hiddenIds()).toEqual([finished.id]);

    await edgeJobsStore.undoRemove();
    expect(edgeJobsStore.removed).toBeNull();
    // Back at once, before the server is asked again.
    expect(listedAs(finished.id)).toEqual([item]);
    await edgeJobsStore.refreshServerJobs();
    expect(listedAs(finished.id)).toEqual([expect.objectContaining({ key: finished.id, local: null })]);
    expect(await hiddenIds()).toEqual([]);
    expect(edgeJobsStore.error).toBeNull();
  });

  it('an undo after a change of credential does not put jobs from the old list into the new one', async () => {
    await edgeJobsStore.init();
    window.dispatchEvent(new Event('online'));
    const finished = await submitElsewhere(elsewhere, 'Listed under the first key');
    await edgeJobsStore.refreshServerJobs();
    await edgeJobsStore.remove(edgeJobsStore.items.find((item) => item.key === finished.id)!);
    expect(await hiddenIds()).toEqual([finished.id]);

    await edgeJobsStore.saveConnection(inject('edgeUrl'), inject('edgeKeys').client);
    await edgeJobsStore.undoRemove();
    expect(remoteIds()).not.toContain(finished.id);
    expect(await hiddenIds()).toEqual([]);

    await edgeJobsStore.saveConnection(inject('edgeUrl'), inject('edgeKeys').store);
    expect(remoteIds()).toContain(finished.id);
    expect(edgeJobsStore.error).toBeNull();
  });

  it('Remove finished takes the finished jobs of both kinds and leaves running ones; undo brings back all it took', async () => {
    await edgeJobsStore.init();
    window.dispatchEvent(new Event('online'));
    await edgeJobsStore.send(await observation(4747, 'Is it labelled?'));
    await expect.poll(() => edgeJobsStore.jobFor(4747)?.hasReport, { timeout: 30_000 }).toBe(true);
    const mine = edgeJobsStore.jobFor(4747)!.local!;
    const finished = await submitElsewhere(elsewhere, 'Finished on a tablet');
    const { job: running } = await elsewhere.submitJob(
      await analysisRequest('Running on a tablet', 2_048),
      `elsewhere-${crypto.randomUUID()}`
    );
    onTestFinished(() => stopJob(elsewhere, running.id));
    await edgeJobsStore.refreshServerJobs();
    expect(remoteIds()).toEqual(expect.arrayContaining([finished.id, running.id]));
    await edgeJobsStore.remove(edgeJobsStore.items.find((item) => item.key === running.id)!);
    expect(remoteIds()).toContain(running.id);
    expect(edgeJobsStore.removed).toBeNull();

    await edgeJobsStore.removeFinished();
    const removed = edgeJobsStore.removed!;
    expect(removed.jobs).toEqual([mine]);
    expect(removed.remote.map((job) => job.id)).toContain(finished.id);
    expect(removed.remote.map((job) => job.id)).not.toContain(running.id);
    expect(edgeJobsStore.jobFor(4747)).toBeUndefined();
    await edgeJobsStore.refreshServerJobs();
    expect(remoteIds()).toContain(running.id);
    expect(remoteIds()).not.toContain(finished.id);
    expect(remoteIds()).not.toContain(mine.serverId);
    expect(await hiddenIds()).toEqual(expect.arrayContaining([mine.serverId, finished.id]));

    await edgeJobsStore.undoRemove();
    expect(edgeJobsStore.jobFor(4747)?.local).toEqual(mine);
    expect(remoteIds()).toContain(finished.id);
    await edgeJobsStore.refreshServerJobs();
    expect(remoteIds()).toEqual(expect.arrayContaining([finished.id, running.id]));
    expect(remoteIds()).not.toContain(mine.serverId);
    expect(await hiddenIds()).toEqual([]);
    expect(edgeJobsStore.error).toBeNull();
  });
});
