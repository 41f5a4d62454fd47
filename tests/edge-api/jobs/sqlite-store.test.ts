import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openJobDatabase } from '../../../edge-api/jobs/sqlite-database.ts';
import { SqliteJobStore } from '../../../edge-api/jobs/sqlite-store.ts';

const LEASE_MS = 1000;
const limits = { maxQueued: 100, retentionMs: 60_000 };

describe('SQLite job store: leases, fencing and the cap on running jobs', () => {
  let dir: string;
  let db: DatabaseSync;
  let store: SqliteJobStore;
  const enqueue = (
    id: string,
    options: { tenant?: string; type?: string; priority?: number; maxAttempts?: number } = {}
  ) =>
    store.enqueue(
      {
        id,
        tenant: options.tenant ?? 't',
        type: options.type ?? 'work',
        input: null,
        priority: options.priority ?? 0,
        maxAttempts: options.maxAttempts ?? 3
      },
      limits,
      1000
    );

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sqlite-store-'));
    db = openJobDatabase(join(dir, 'jobs.sqlite'), 'normal');
    store = new SqliteJobStore(db);
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('claims only the given types, best priority first, then oldest', () => {
    enqueue('a', { priority: 1 });
    enqueue('b', { priority: 5 });
    enqueue('c', { priority: 5 });
    enqueue('other', { type: 'other', priority: 9 });
    const claimed = store.claim(['work'], 10, 'token', LEASE_MS, 2000, null);
    expect(claimed.map((row) => row.id)).toEqual(['b', 'c', 'a']);
    expect(claimed.every((row) => row.state === 'running' && row.attempts === 1)).toBe(true);
    expect(store.claim(['work'], 10, 'token-2', LEASE_MS, 2000, null)).toEqual([]);
  });

  it('refuses every write from a worker whose lease was re-claimed by another', () => {
    enqueue('job');
    const [first] = store.claim(['work'], 1, 'stale', LEASE_MS, 2000, null);
    expect(first?.lease_until).toBe(2000 + LEASE_MS);
    // The lease runs out: recovery re-queues the job and another worker claims it.
    expect(store.recoverExpired(2000 + LEASE_MS + 1).map((row) => row.state)).toEqual(['queued']);
    const [second] = store.claim(['work'], 1, 'fresh', LEASE_MS, 3500, null);
    expect(second?.attempts).toBe(2);
    const now = 3600;
    expect(store.renew('job', 'stale', LEASE_MS, now)).toBe('lost');
    expect(store.progress('job', 'stale', 0.5, 'stale')).toBeUndefined();
    expect(store.finish('job', 'stale', { state: 'completed', result: 'stale' }, now)).toBeUndefined();
    expect(store.release('job', 'stale', now)).toBeUndefined();
    expect(store.get('t', 'job')).toMatchObject({ state: 'running', lease_token: 'fresh', progress: 0 });
    expect(store.finish('job', 'fresh', { state: 'completed', result: 'fresh' }, now)).toMatchObject({
      state: 'completed',
      result: '"fresh"'
    });
  });

  it('does not renew a lease that has already expired, even before anyone re-claims it', () => {
    enqueue('job');
    store.claim(['work'], 1, 'token', LEASE_MS, 2000, null);
    expect(store.renew('job', 'token', LEASE_MS, 2500)).toBe('renewed');
    expect(store.renew('job', 'token', LEASE_MS, 2500 + LEASE_MS + 1)).toBe('lost');
  });

  it('fails as stalled an expired job without attempts left, and cancels one whose cancel was requested', () => {
    enqueue('last', { maxAttempts: 1 });
    enqueue('cancelled');
    store.claim(['work'], 2, 'token', LEASE_MS, 2000, null);
    store.cancel('t', 'cancelled', 2100);
    const recovered = store.recoverExpired(2000 + LEASE_MS + 1);
    expect(Object.fromEntries(recovered.map((row) => [row.id, [row.state, row.error_code]]))).toEqual({
      last: ['failed', 'stalled'],
      cancelled: ['cancelled', null]
    });
  });

  it("claims a tenant's jobs only while it has fewer than the cap running, counting what this claim took", () => {
    enqueue('a1', { tenant: 'a' });
    enqueue('a2', { tenant: 'a' });
    enqueue('a3', { tenant: 'a' });
    enqueue('b1', { tenant: 'b' });
    const ids = (rows: { id: string }[]) => rows.map((row) => row.id);
    expect(ids(store.claim(['work'], 10, 'first', LEASE_MS, 2000, 2))).toEqual(['a1', 'a2', 'b1']);
    expect(store.claim(['work'], 10, 'second', LEASE_MS, 2100, 2)).toEqual([]);
    store.finish('a1', 'first', { state: 'completed', result: null }, 2200);
    expect(ids(store.claim(['work'], 10, 'third', LEASE_MS, 2300, 2))).toEqual(['a3']);
  });

  it('no longer counts a run whose lease expired, even before recovery re-queues its job', () => {
    enqueue('stalled', { tenant: 'a' });
    enqueue('next', { tenant: 'a' });
    store.claim(['work'], 10, 'stale', LEASE_MS, 2000, 1);
    expect(store.claim(['work'], 10, 'early', LEASE_MS, 2000 + LEASE_MS, 1)).toEqual([]);
    const [next] = store.claim(['work'], 10, 'fresh', LEASE_MS, 2000 + LEASE_MS + 1, 1);
    expect(next?.id).toBe('next');
    expect(store.get('a', 'stalled')?.state).toBe('running');
  });
});
