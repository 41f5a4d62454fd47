import { Dexie } from 'dexie';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { CANCELLED_UNSENT, keptReport, workOf } from '#lib/core/edge-outbox.ts';
import type { MedgemmaAnalyzeRequest } from '#lib/core/edge-wire.ts';
import type { EdgeJobV6 } from '#lib/db/edge-job-upgrades.ts';
import { db, type EdgeJob } from '#lib/db/index.ts';
import { EdgeClient } from '#lib/services/edge-client.ts';
import {
  cancelEdgeJob,
  listEdgeJobs,
  removeEdgeJobs,
  restoreEdgeJobs,
  sendDue
} from '#lib/services/edge-jobs.service.ts';
import { edgeJobsStore } from '#lib/state/edge-jobs-store.svelte.ts';
import { jobView } from '../unit/fixtures/job-view.ts';
import { shippedJobRow, shippedStores } from './edge-helpers.ts';

const { name } = vi.hoisted(() => ({ name: `vision-hub-v6-${crypto.randomUUID()}` }));

// The app's database under a name of this file's own: it has to start at version 6, and other test
// files use the app's database at the same time.
vi.mock('#lib/db/index.ts', async (importOriginal) => {
  const actual = await importOriginal<typeof import('#lib/db/index.ts')>();
  return { ...actual, db: new actual.VisionHubDb(name) };
});

const offline = new EdgeClient(
  { baseUrl: 'https://edge.invalid', credential: null },
  { retries: 0, fetch: () => Promise.reject(new TypeError('Failed to fetch')) }
);

const report = '# MedGemma analysis\n\nQuestion: Is it clean?';
const result = {
  model: 'tiny-smolvlm',
  findings: [{ index: 0, timestamp_ms: null, text: 'Clean.' }],
  summary: 'Clean.'
};
const listed = {
  name: 'report.md',
  url: '/v1/jobs/job_done/artifacts/report.md',
  bytes: report.length,
  content_type: 'text/markdown; charset=utf-8'
};
const request: MedgemmaAnalyzeRequest = {
  type: 'medgemma.analyze',
  input: { images: [{ url: 'data:image/jpeg;base64,AA==' }] }
};
const v6 = (id: string, createdAt: number, extra: Partial<EdgeJobV6>): EdgeJobV6 =>
  shippedJobRow(id, { request, createdAt, updatedAt: createdAt, ...extra });
/** Version 6 rows as the app stored them: waiting to be sent, done with its report kept, refused. */
const rows = [
  { ...v6('unsent', 1, { observationId: 7 }), outbox: 1 as const },
  v6('done', 2, {
    observationId: 8,
    server: 'https://edge.example',
    serverId: 'job_done',
    job: jobView('completed', { id: 'job_done', result, artifacts: [listed] }),
    report
  }),
  v6('refused', 3, { attempts: 1, problem: { message: 'Too large', code: 'payload_too_large', final: true } })
];

afterAll(async () => {
  db.close();
  await Dexie.delete(name);
});

describe('edge jobs stored before job kinds', () => {
  it('are upgraded to a kind, a subject and artifacts, and the service and the store read them', async () => {
    expect(db.name).toBe(name);
    const old = new Dexie(name);
    old.version(6).stores(shippedStores(6));
    await old.table('edgeJobs').bulkAdd(rows);
    old.close();

    const [refused, done, unsent] = await listEdgeJobs();
    const same = { kind: 'medgemma.analyze' as const, request, server: null, serverId: null, job: null, problem: null };
    expect(unsent).toEqual<EdgeJob & { outbox: 1 }>({
      ...same,
      id: 'unsent',
      idempotencyKey: 'vh-unsent',
      subject: { kind: 'observation', id: 7 },
      label: 'unsent',
      artifacts: [],
      attempts: 0,
      retryAt: 0,
      createdAt: 1,
      updatedAt: 1,
      outbox: 1
    });
    expect(done).toEqual<EdgeJob>({
      ...same,
      id: 'done',
      idempotencyKey: 'vh-done',
      subject: { kind: 'observation', id: 8 },
      label: 'done',
      server: 'https://edge.example',
      serverId: 'job_done',
      job: rows[1]!.job,
      artifacts: [{ name: 'report.md', contentType: 'text/markdown; charset=utf-8', content: report }],
      attempts: 0,
      retryAt: 0,
      createdAt: 2,
      updatedAt: 2
    });
    expect(refused).toMatchObject({ id: 'refused', subject: null, artifacts: [], problem: { final: true } });
    expect([unsent, done, refused].map((job) => workOf(job!))).toEqual(['send', null, null]);
    expect(keptReport(done!)?.content).toBe(report);

    // The outbox index still holds the unsent job, and a send round reads its request.
    await sendDue(offline, () => undefined, { force: true });
    expect(await db.edgeJobs.get('unsent')).toMatchObject({ attempts: 1, problem: { code: 'edge_unavailable' } });
    const removal = await removeEdgeJobs(['done', 'refused']);
    expect(removal.jobs.map((job) => job.id).sort()).toEqual(['done', 'refused']);
    await restoreEdgeJobs(removal);
    expect(await db.edgeJobs.get('done')).toEqual(done);
    // Cancelled, so that the store has nothing to send when it starts.
    expect((await cancelEdgeJob(offline, (await db.edgeJobs.get('unsent'))!)).problem?.code).toBe(CANCELLED_UNSENT);

    await edgeJobsStore.init();
    expect(edgeJobsStore.jobFor(7)?.phase).toBe('cancelled');
    const item = edgeJobsStore.jobFor(8)!;
    expect(item).toMatchObject({ phase: 'completed', hasReport: true, label: 'done' });
    const file = (await edgeJobsStore.report(item))!;
    expect([file.type, await file.text()]).toEqual(['text/markdown; charset=utf-8', report]);
    expect(edgeJobsStore.error).toBeNull();
  });
});
