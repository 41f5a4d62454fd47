import { afterEach, describe, expect, it, vi } from 'vitest';
import { CANCELLED_UNSENT } from '#lib/core/edge-outbox.ts';
import { abortError } from '#lib/core/errors.ts';
import type { EdgeJob } from '#lib/db/index.ts';
import { EdgeOutbox } from '#lib/services/edge-outbox.service.ts';
import { jobView } from './fixtures/job-view.ts';

const report = {
  name: 'report.md',
  url: '/v1/jobs/job_1/artifacts/report.md',
  bytes: 10,
  content_type: 'text/markdown'
};

const edgeJob = (id: string, extra: Partial<EdgeJob> = {}): EdgeJob => ({
  id,
  idempotencyKey: `vh-${id}`,
  kind: 'medgemma.analyze',
  request: { type: 'medgemma.analyze', input: { images: [{ url: 'data:image/jpeg;base64,AA==' }] } },
  subject: null,
  label: id,
  server: null,
  serverId: null,
  job: null,
  artifacts: [],
  problem: null,
  attempts: 0,
  retryAt: 0,
  createdAt: 0,
  updatedAt: 0,
  ...extra
});
const sent = (id: string, extra: Partial<EdgeJob> = {}) =>
  edgeJob(id, { serverId: `server-${id}`, job: jobView('running', { id: `server-${id}` }), ...extra });

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

/** An outbox over jobs in memory; its rounds and followers only record that they ran. */
function outboxOver(jobs: EdgeJob[]) {
  const state = { online: true, jobs };
  const rounds: { force: boolean }[] = [];
  const followed: { id: string; signal: AbortSignal }[] = [];
  const errors: unknown[] = [];
  const work = {
    round: (_options: { force: boolean }): Promise<void> => Promise.resolve(),
    // A follower runs until it is stopped.
    follow: (signal: AbortSignal): Promise<void> =>
      new Promise((_, reject) => signal.addEventListener('abort', () => reject(abortError())))
  };
  const outbox = new EdgeOutbox({
    jobs: () => state.jobs,
    online: () => state.online,
    sendRound: (options) => (rounds.push(options), work.round(options)),
    follow: (job, signal) => (followed.push({ id: job.id, signal }), work.follow(signal)),
    onError: (error) => errors.push(error)
  });
  return { outbox, state, rounds, followed, errors, work };
}

afterEach(() => void vi.useRealTimers());

describe('the outbox scheduler', () => {
  it('runs one send round at a time; calls meanwhile make one more round, forced if any of them was', async () => {
    const { outbox, rounds, work } = outboxOver([]);
    const first = deferred();
    work.round = () => (rounds.length === 1 ? first.promise : Promise.resolve());

    const calls = [outbox.sync(), outbox.sync(), outbox.sync({ force: true }), outbox.sync()];
    await Promise.resolve();
    expect(rounds).toEqual([{ force: false }]);
    first.resolve();
    await Promise.all(calls);
    expect(rounds).toEqual([{ force: false }, { force: true }]);

    await outbox.sync();
    expect(rounds).toEqual([{ force: false }, { force: true }, { force: false }]);
  });

  it('does nothing while offline', async () => {
    const { outbox, state, rounds, followed } = outboxOver([sent('running')]);
    state.online = false;
    await outbox.sync({ force: true });
    expect(rounds).toEqual([]);
    expect(followed).toEqual([]);
  });

  it('after its rounds follows every due job with work left, once each; after a forced round the others too', async () => {
    const later = Date.now() + 60_000;
    const { outbox, followed } = outboxOver([
      sent('running'),
      sent('waiting', { retryAt: later, problem: { message: 'offline', code: 'edge_unavailable', final: false } }),
      sent('report', { job: jobView('completed', { artifacts: [report] }) }),
      sent('done', { job: jobView('completed') }),
      edgeJob('unsent'),
      edgeJob('cancelled', { problem: { message: 'Cancelled', code: CANCELLED_UNSENT, final: true } })
    ]);
    await outbox.sync();
    expect(followed.map((f) => f.id)).toEqual(['running', 'report']);
    await outbox.sync();
    expect(followed.map((f) => f.id)).toEqual(['running', 'report']);
    await outbox.sync({ force: true });
    expect(followed.map((f) => f.id)).toEqual(['running', 'report', 'waiting']);
  });

  it('reports a failed round and a failed follower, and still runs the round asked for meanwhile', async () => {
    const { outbox, rounds, errors, work } = outboxOver([sent('running')]);
    const first = deferred();
    const refused = new Error('round failed');
    work.round = async () => {
      if (rounds.length === 1) {
        await first.promise;
        throw refused;
      }
    };
    const lost = new Error('follower failed');
    work.follow = () => Promise.reject(lost);
    const calls = [outbox.sync(), outbox.sync()];
    first.resolve();
    await Promise.all(calls);
    expect(rounds).toHaveLength(2);
    await vi.waitFor(() => expect(errors).toEqual([refused, lost]));
  });

  it('a stopped follower is aborted, and the job can be followed again at once', async () => {
    const { outbox, followed } = outboxOver([sent('a'), sent('b')]);
    await outbox.sync();
    const [a, b] = followed;
    outbox.stop(['a']);
    expect([a!.signal.aborted, b!.signal.aborted]).toEqual([true, false]);
    await outbox.sync();
    expect(followed.map((f) => f.id)).toEqual(['a', 'b', 'a']);
    // The stopped follower's end leaves its successor in place: no third follower of `a`.
    await new Promise((resolve) => setTimeout(resolve, 0));
    await outbox.sync();
    expect(followed.map((f) => f.id)).toEqual(['a', 'b', 'a']);

    outbox.stopAll();
    expect(followed.every((f) => f.signal.aborted)).toBe(true);
  });

  it('wakes up when the earliest waiting job may be tried again, never sooner than a second', async () => {
    vi.useFakeTimers();
    const problem = { message: 'offline', code: 'edge_unavailable', final: false };
    const { outbox, state, rounds } = outboxOver([
      edgeJob('soon', { retryAt: Date.now() + 5_000, problem }),
      edgeJob('later', { retryAt: Date.now() + 60_000, problem })
    ]);
    await outbox.sync();
    expect(rounds).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(4_900);
    expect(rounds).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(100);
    expect(rounds).toHaveLength(2);

    // Overdue: the next try waits a second rather than spinning.
    state.jobs = [edgeJob('overdue', { retryAt: Date.now() - 10_000, problem })];
    outbox.schedule();
    await vi.advanceTimersByTimeAsync(999);
    expect(rounds).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(rounds).toHaveLength(3);

    // Nothing left to do: no more wake-ups.
    state.jobs = [];
    outbox.schedule();
    await vi.advanceTimersByTimeAsync(600_000);
    expect(rounds).toHaveLength(3);
  });
});
