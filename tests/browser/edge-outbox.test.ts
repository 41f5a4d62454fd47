import { Dexie } from 'dexie';
import { beforeEach, describe, expect, inject, it, vi } from 'vitest';
import { CANCELLED_UNSENT, phaseOf, workOf } from '#lib/core/edge-outbox.ts';
import { db, VisionHubDb, type EdgeJob, type Observation } from '#lib/db/index.ts';
import { EdgeClient } from '#lib/services/edge-client.ts';
import {
  cancelEdgeJob,
  followEdgeJob,
  listEdgeJobs,
  queueEdgeJob,
  removeEdgeJobs,
  restoreEdgeJobs,
  sendDue
} from '#lib/services/edge-jobs.service.ts';
import { saveSetting } from '#lib/services/settings.service.ts';
import { edgeJobsStore } from '#lib/state/edge-jobs-store.svelte.ts';
import { jobView } from '../unit/fixtures/job-view.ts';
import { analysisRequest, jpegDataUrl } from './edge-helpers.ts';

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

const queue = async (label: string) => queueEdgeJob(await analysisRequest(label), { observationId: null, label });
const stored = async (id: string) => (await db.edgeJobs.get(id))!;
/** What the outbox index holds, in id order. */
const outboxIds = async () => ((await db.edgeJobs.where('outbox').equals(1).primaryKeys()) as string[]).sort();
const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);

beforeEach(() => db.edgeJobs.clear());

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
    expect(done.report).toContain('Question: Follow me');
  });

  it('a job cancelled before it left is never sent; one the server refuses is not retried', async () => {
    const before = await serverJobIds();
    const cancelled = await cancelEdgeJob(online, await queue('Never mind'));
    expect(phaseOf(cancelled)).toBe('cancelled');

    const bad = await queueEdgeJob(
      { type: 'medgemma.analyze', input: { images: [{ url: 'data:text/plain;base64,aGk=' }] } },
      { observationId: null, label: 'Not an image' }
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
      observationId: null,
      label: 'Changed my mind'
    });
    const meanwhile = new EdgeClient(connection, {
      fetch: async (input, init) => {
        const response = await fetch(input, init);
        if (init?.method === 'POST' && String(input).endsWith('/v1/jobs')) {
          await cancelEdgeJob(online, await stored(queued.id));
          expect((await removeEdgeJobs([queued.id])).map((job) => job.id)).toEqual([queued.id]);
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
      { observationId: null, label: 'Not an image' }
    );
    await sendDue(online, () => undefined);
    const done = await queue('Done');
    await sendDue(online, () => undefined);
    await followEdgeJob(online, await stored(done.id), () => undefined);
    const running = await queueEdgeJob(await analysisRequest('Still running', 2_048), {
      observationId: null,
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
    expect((await stored(done.id)).report).toContain('Question: Done');

    const removed = await removeEdgeJobs(all.map((job) => job.id));
    const finished = all.filter((job) => [bad.id, done.id, cancelled.id].includes(job.id));
    expect(removed.sort(byId)).toEqual(finished);
    expect((await db.edgeJobs.toArray()).map((job) => job.id).sort()).toEqual([running.id, unsent.id].sort());

    await restoreEdgeJobs(removed);
    expect((await db.edgeJobs.toArray()).sort(byId)).toEqual(all);
    await followEdgeJob(online, await cancelEdgeJob(online, await stored(running.id)), () => undefined);
  });

  it('a job on the server can be cancelled, and ends cancelled', async () => {
    const long = await queueEdgeJob(await analysisRequest('Stop this', 2_048), { observationId: null, label: 'Stop' });
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
    // Version 5 as it shipped, every table in one step.
    old.version(5).stores({
      settings: 'key',
      models: 'modelId',
      downloadParts: '[url+offset], url',
      observations: '++id, createdAt',
      knowledgeBases: '++id',
      documents: '++id, baseId, [baseId+contentHash]',
      chunks: '++id, documentId, baseId',
      vectors: '[documentId+modelId], [baseId+modelId], baseId',
      taskSessions: '++id, taskId, updatedAt',
      searchGraphs: '[baseId+modelId]',
      edgeJobs: 'id, createdAt, observationId'
    });
    const row = (id: string, extra: Partial<EdgeJob> = {}): EdgeJob => ({
      id,
      idempotencyKey: `vh-${id}`,
      request: { type: 'medgemma.analyze', input: { images: [{ url: 'data:image/jpeg;base64,AA==' }] } },
      observationId: 7,
      label: id,
      server: null,
      serverId: null,
      job: null,
      report: null,
      problem: null,
      attempts: 0,
      retryAt: 0,
      createdAt: 1,
      updatedAt: 1,
      ...extra
    });
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
      expect(await upgraded.edgeJobs.toArray()).toEqual(
        rows.map((job) => (marked.has(job.id) ? { ...job, outbox: 1 } : job))
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
  it('queues while offline, sends when the online event comes, and shows the job to its report', async () => {
    const store = new EdgeClient({ baseUrl: inject('edgeUrl'), credential: inject('edgeKeys').store });
    await saveSetting('edgeUrl', inject('edgeUrl'));
    await saveSetting('edgeCredential', inject('edgeKeys').store);
    await edgeJobsStore.init();
    expect(edgeJobsStore.credentialMask).toMatch(/^vh_•+.{4}$/);

    edgeJobsStore.online = false;
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
    expect(edgeJobsStore.removed).toEqual([record]);
    await edgeJobsStore.undoRemove();
    expect(edgeJobsStore.removed).toBeNull();
    expect(await stored(done.key)).toEqual(record);
    expect(edgeJobsStore.jobFor(4444)?.local).toEqual(record);

    edgeJobsStore.online = false;
    await edgeJobsStore.send(await observation(4545, 'Is it dry?'));
    const waiting = edgeJobsStore.jobFor(4545)!;
    await edgeJobsStore.removeFinished();
    expect(edgeJobsStore.removed?.map((job) => job.id)).toEqual([done.key]);
    expect(edgeJobsStore.jobFor(4444)).toBeUndefined();
    expect(edgeJobsStore.jobFor(4545)?.phase).toBe('unsent');
    expect(await db.edgeJobs.get(waiting.key)).toBeDefined();
    await edgeJobsStore.undoRemove();
    expect(await stored(done.key)).toEqual(record);
    expect(edgeJobsStore.jobFor(4444)?.local).toEqual(record);
    expect(edgeJobsStore.error).toBeNull();
    await edgeJobsStore.cancel(waiting);
  });
});
