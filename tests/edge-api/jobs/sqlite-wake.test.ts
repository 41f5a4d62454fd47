import { existsSync, mkdtempSync, readdirSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobQueue } from '../../../edge-api/jobs/job-queue.ts';
import { sqliteJobQueue } from '../../../edge-api/jobs/sqlite-queue.ts';
import { wakeFolder } from '../../../edge-api/jobs/wake-sockets.ts';
import { waitFor } from './conformance.ts';
import { startChild, type Child } from './support/child.ts';

const LEASE_MS = 5000;
// Long, so that a job picked up well within it can only have been found by a wake.
const LONG_POLL_MS = 5000;

/**
 * Workers in other processes (`npm run worker`) on the SQLite queue: woken over their sockets
 * when a job is queued, and still finding jobs by polling when a wake is lost.
 */
describe('sqlite: waking workers in other processes', { timeout: 60_000 }, () => {
  let dir: string;
  let path: string;
  let queue: JobQueue | undefined;
  let children: Child[];
  const sockets = () => readdirSync(wakeFolder(path)).filter((name) => name.endsWith('.sock'));
  /** A worker process, once its socket is in place (before that, only its polls find jobs). */
  const startWorker = async (pollMs: number, before: string[] = []) => {
    const worker = startChild({ adapter: 'sqlite', path, leaseMs: LEASE_MS, mode: 'pickup', pollMs });
    children.push(worker);
    await worker.waitForLine('working');
    await waitFor('the worker to listen', () => existsSync(wakeFolder(path)) && sockets().length > before.length);
    return worker;
  };
  const api = () => (queue = sqliteJobQueue({ path, leaseMs: LEASE_MS, pollMs: LONG_POLL_MS }));
  /** Enqueues a job and measures how long until the worker prints that it started it. */
  const pickup = async (worker: Child, into: JobQueue) => {
    const started = performance.now();
    const { job } = await into.enqueue({ tenant: 'wake', type: 'crash', input: null });
    await worker.waitForLine(`picked ${job.id}`);
    return performance.now() - started;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'wake-'));
    path = join(dir, 'jobs.sqlite');
    queue = undefined;
    children = [];
  });
  afterEach(async () => {
    await Promise.all(children.map((child) => child.kill()));
    await queue?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('wakes a worker that started before the API at once, not at its next poll', async () => {
    const worker = await startWorker(LONG_POLL_MS);
    // The worker's first look at the empty queue is over; the next one is 5 s away.
    const into = api();
    for (let i = 0; i < 3; i++) {
      expect(await pickup(worker, into)).toBeLessThan(LONG_POLL_MS / 2);
    }
  });

  it('wakes a worker that started after the API, once the API has seen its socket', async () => {
    const into = api();
    await into.enqueue({ tenant: 'wake', type: 'other', input: null });
    const worker = await startWorker(LONG_POLL_MS);
    // The API looks for new sockets at most once a second.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(await pickup(worker, into)).toBeLessThan(LONG_POLL_MS / 2);
  });

  it('still picks a job up by polling when the wake is lost', async () => {
    const worker = await startWorker(500);
    // The socket gone, the API finds nobody to wake: only the worker's poll can find the job.
    sockets().forEach((name) => unlinkSync(join(wakeFolder(path), name)));
    expect(await pickup(worker, api())).toBeGreaterThan(0);
  });

  it('clears the socket of a worker killed with SIGKILL, and wakes the others', async () => {
    const doomed = await startWorker(LONG_POLL_MS);
    const [doomedSocket] = sockets();
    const survivor = await startWorker(LONG_POLL_MS, [doomedSocket!]);
    await doomed.kill();
    expect(sockets()).toContain(doomedSocket);

    const into = api();
    expect(await pickup(survivor, into)).toBeLessThan(LONG_POLL_MS / 2);
    await waitFor('the dead socket to be removed', () => !sockets().includes(doomedSocket!));
  });
});
