import { describe, expect, it } from 'vitest';
import {
  CANCELLED_UNSENT,
  HIDDEN_JOBS_KEPT,
  hideJobIds,
  JOB_LOST,
  phaseOf,
  unhideJobIds,
  withOutboxMark,
  workOf,
  type OutboxEntry
} from '#lib/core/edge-outbox.ts';
import { jobView } from './fixtures/job-view.ts';

const report = {
  name: 'report.md',
  url: '/v1/jobs/job_1/artifacts/report.md',
  bytes: 10,
  content_type: 'text/markdown'
};
const entry = (extra: Partial<OutboxEntry>): OutboxEntry => ({
  kind: 'medgemma.analyze',
  serverId: null,
  job: null,
  problem: null,
  artifacts: [],
  retryAt: 0,
  ...extra
});

describe('outbox entries', () => {
  it('an unsent job is sent, even after failed tries, until the server refuses it', () => {
    expect(phaseOf(entry({}))).toBe('unsent');
    const unreachable = entry({ problem: { message: 'offline', code: 'edge_unavailable', final: false } });
    expect([phaseOf(unreachable), workOf(unreachable)]).toEqual(['unsent', 'send']);
    const refused = entry({ problem: { message: 'too large', code: 'payload_too_large', final: true } });
    expect([phaseOf(refused), workOf(refused)]).toEqual(['refused', null]);
    const cancelled = entry({ problem: { message: 'cancelled', code: CANCELLED_UNSENT, final: true } });
    expect([phaseOf(cancelled), workOf(cancelled)]).toEqual(['cancelled', null]);
  });

  it('a sent job is followed until the server says it is over, or lost it', () => {
    for (const state of ['queued', 'running'] as const) {
      expect(workOf(entry({ serverId: 'job_1', job: jobView(state) }))).toBe('follow');
    }
    const lost = entry({
      serverId: 'job_1',
      job: jobView('running'),
      problem: { message: '', code: JOB_LOST, final: true }
    });
    expect([phaseOf(lost), workOf(lost)]).toEqual(['lost', null]);
    expect(workOf(entry({ serverId: 'job_1', job: jobView('failed') }))).toBeNull();
  });

  it('a completed job keeps its report offline once, and a report that cannot be had is not chased', () => {
    const done = entry({ serverId: 'job_1', job: jobView('completed', { artifacts: [report] }) });
    expect(workOf(done)).toBe('report');
    const kept = { name: 'report.md', contentType: 'text/markdown', content: '# MedGemma analysis' };
    expect(workOf({ ...done, artifacts: [kept] })).toBeNull();
    const gone = { ...done, problem: { message: 'no artifact', code: 'artifact_not_found', final: true } };
    expect([phaseOf(gone), workOf(gone)]).toEqual(['completed', null]);
    expect(workOf(entry({ serverId: 'job_1', job: jobView('completed') }))).toBeNull();
  });

  it('marks an entry for the outbox index exactly while it is to be sent, and unmarks it after', () => {
    const unsent = withOutboxMark(entry({ problem: { message: 'offline', code: 'edge_unavailable', final: false } }));
    expect(unsent).toHaveProperty('outbox', 1);
    const sent = withOutboxMark({ ...unsent, serverId: 'job_1', job: jobView('queued') });
    expect(sent).not.toHaveProperty('outbox');
    const cancelled = { ...unsent, problem: { message: 'cancelled', code: CANCELLED_UNSENT, final: true } };
    expect(withOutboxMark(cancelled)).not.toHaveProperty('outbox');
    expect(withOutboxMark(sent)).toEqual(sent);
  });
});

describe('hidden job ids', () => {
  it('adds ids as the newest, once each, and keeps only the newest', () => {
    expect(hideJobIds([], ['a', 'b'])).toEqual(['a', 'b']);
    // Hidden again (removed, undone, removed): it moves to the end instead of appearing twice.
    expect(hideJobIds(['a', 'b', 'c'], ['a', 'd', 'd'])).toEqual(['b', 'c', 'a', 'd']);
    expect(hideJobIds(['a', 'b', 'c'], ['d', 'e'], 3)).toEqual(['c', 'd', 'e']);
    expect(hideJobIds(['a'], [], 0)).toEqual([]);
    const many = Array.from({ length: HIDDEN_JOBS_KEPT + 20 }, (_, i) => `job-${i}`);
    const kept = hideJobIds(many.slice(0, 10), many.slice(10));
    expect(kept).toHaveLength(HIDDEN_JOBS_KEPT);
    expect(kept).toEqual(many.slice(-HIDDEN_JOBS_KEPT));
  });

  it('takes ids out and leaves the order of the others', () => {
    const hidden = ['a', 'b', 'c', 'd'];
    expect(unhideJobIds(hidden, ['c', 'a', 'x'])).toEqual(['b', 'd']);
    expect(unhideJobIds(hidden, [])).toEqual(hidden);
    expect(hidden).toEqual(['a', 'b', 'c', 'd']);
  });
});
