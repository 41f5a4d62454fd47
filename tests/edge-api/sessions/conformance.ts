import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidCursorError } from '../../../edge-api/jobs/job-queue.ts';
import type { SessionChange, TaskSession, TaskSessionStore } from '../../../edge-api/sessions/task-session-store.ts';
import { advance, createTracker, parseTaskDefinition } from '../../../src/lib/core/tracker/index.ts';
import { waitFor } from '../jobs/conformance.ts';

/** One adapter's backing store for one test, opened as often as a test needs processes. */
export interface SessionStoreHarness {
  /** A store on the shared backing, as one more process would open it; `dispose` closes it. */
  open(options?: { retentionMs?: number }): Promise<TaskSessionStore>;
  dispose(): Promise<void>;
}

const T1 = 'tenant-1';
const T2 = 'tenant-2';
const definition = parseTaskDefinition(JSON.parse(readFileSync('static/tasks/hand-washing.json', 'utf8')));
const fresh = (at: number) => createTracker(definition, at);

/** The `TaskSessionStore` contract: every adapter passes the same tests. */
export function describeTaskSessionStoreConformance(
  name: string,
  createHarness: () => Promise<SessionStoreHarness>
): void {
  describe(`TaskSessionStore conformance: ${name}`, { timeout: 20_000 }, () => {
    let harness: SessionStoreHarness;
    let store: TaskSessionStore;
    beforeEach(async () => {
      harness = await createHarness();
      store = await harness.open();
    });
    afterEach(() => harness.dispose());

    it('creates a session and reads it back as created, only for its tenant', async () => {
      const created = await store.create(T1, definition, fresh(1_000), 1_000);
      expect(created).toMatchObject({ tenant: T1, endedAt: null, createdAt: 1_000, updatedAt: 1_000 });
      expect(created.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(await store.get(T1, created.id)).toEqual(created);
      expect(await store.get(T2, created.id)).toBeNull();
      expect(await store.get(T1, 'no-such-session')).toBeNull();
    });

    it('updates with the change applied to the stored session; null leaves it as it is', async () => {
      const created = await store.create(T1, definition, fresh(1_000), 1_000);
      const moved = await store.update(T1, created.id, (s) => ({
        state: advance(s.state, 2_000),
        endedAt: null,
        at: 2_000
      }));
      expect(moved).toMatchObject({ id: created.id, updatedAt: 2_000, state: { current: 1 } });
      expect(await store.get(T1, created.id)).toEqual(moved);

      expect(await store.update(T1, created.id, () => null)).toEqual(moved);
      const ended = await store.update(T1, created.id, (s) => ({ state: s.state, endedAt: 3_000, at: 3_000 }));
      expect(ended).toMatchObject({ endedAt: 3_000, updatedAt: 3_000, createdAt: 1_000 });
    });

    it("does not update another tenant's session, nor call the change for it", async () => {
      const created = await store.create(T1, definition, fresh(1_000), 1_000);
      let called = false;
      const result = await store.update(T2, created.id, () => {
        called = true;
        return null;
      });
      expect(result).toBeNull();
      expect(called).toBe(false);
      expect(await store.get(T1, created.id)).toEqual(created);
    });

    it('loses no change when several processes update one session at once', async () => {
      const other = await harness.open();
      const created = await store.create(T1, definition, fresh(1_000), 1_000);
      await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          (i % 2 === 0 ? store : other).update(T1, created.id, (s) => ({
            state: { ...s.state, observations: s.state.observations + 1 },
            endedAt: null,
            at: 2_000 + i
          }))
        )
      );
      expect((await store.get(T1, created.id))?.state.observations).toBe(12);
    });

    it('names the session created or changed last as the latest, per tenant', async () => {
      expect(await store.latest(T1)).toBeNull();
      const a = await store.create(T1, definition, fresh(1_000), 1_000);
      const b = await store.create(T1, definition, fresh(1_000), 1_000);
      expect((await store.latest(T1))?.id).toBe(b.id);
      await store.update(T1, a.id, (s) => ({ state: s.state, endedAt: null, at: 1_000 }));
      expect((await store.latest(T1))?.id).toBe(a.id);
      expect(await store.latest(T2)).toBeNull();
    });

    it("lists a tenant's sessions newest first, in pages", async () => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        ids.push((await store.create(T1, definition, fresh(i), i)).id);
      }
      await store.create(T2, definition, fresh(0), 0);
      const first = await store.list(T1, { limit: 2 });
      expect(first.sessions.map((s) => s.id)).toEqual([ids[4], ids[3]]);
      const second = await store.list(T1, { limit: 2, cursor: first.next! });
      expect(second.sessions.map((s) => s.id)).toEqual([ids[2], ids[1]]);
      const last = await store.list(T1, { limit: 2, cursor: second.next! });
      expect(last.sessions.map((s) => s.id)).toEqual([ids[0]]);
      expect(last.next).toBeNull();
      expect((await store.list(T2, { limit: 10 })).sessions).toHaveLength(1);
      await expect(store.list(T1, { limit: 2, cursor: 'not-a-cursor' })).rejects.toBeInstanceOf(InvalidCursorError);
    });

    it('keeps sessions when the store is closed and opened again (a restart)', async () => {
      const created = await store.create(T1, definition, fresh(1_000), 1_000);
      const moved = await store.update(T1, created.id, (s) => ({
        state: advance(s.state, 2_000),
        endedAt: null,
        at: 2_000
      }));
      await store.close();
      store = await harness.open();
      expect(await store.get(T1, created.id)).toEqual(moved);
      expect((await store.latest(T1))?.id).toBe(created.id);
    });

    it('forgets a session unchanged for longer than the retention, and keeps the others', async () => {
      const retentionMs = 1_500;
      const kept = await harness.open({ retentionMs });
      const now = Date.now();
      const old = await kept.create(T1, definition, fresh(now - 2 * retentionMs), now - 2 * retentionMs);
      const recent = await kept.create(T1, definition, fresh(now), now);
      const used = await kept.create(T1, definition, fresh(now - 1_000), now - 1_000);
      const unused = await kept.create(T1, definition, fresh(now - 1_000), now - 1_000);
      // A change counts as use: its new `updatedAt` starts the retention again.
      expect(await kept.update(T1, used.id, (s) => ({ state: s.state, endedAt: null, at: now }))).not.toBeNull();
      await new Promise((resolve) => setTimeout(resolve, 700));

      for (const gone of [old, unused]) {
        expect(await kept.get(T1, gone.id)).toBeNull();
        expect(await kept.update(T1, gone.id, (s) => ({ state: s.state, endedAt: null, at: Date.now() }))).toBeNull();
      }
      expect((await kept.get(T1, recent.id))?.id).toBe(recent.id);
      expect((await kept.latest(T1))?.id).toBe(used.id);
      expect((await kept.list(T1, { limit: 10 })).sessions.map((s) => s.id)).toEqual([used.id, recent.id]);
    });

    it('tells listeners of every session created or changed, until they unsubscribe', async () => {
      const heard: SessionChange[] = [];
      const unsubscribe = store.onChange((change) => heard.push(change));
      // A throwing listener neither breaks the write nor keeps the others from hearing it.
      store.onChange(() => {
        throw new Error('listener bug');
      });
      const created = await store.create(T1, definition, fresh(1_000), 1_000);
      await waitFor('the create', () => heard.length === 1);
      await store.update(T1, created.id, () => null);
      const moved: TaskSession | null = await store.update(T1, created.id, (s) => ({
        state: advance(s.state, 2_000),
        endedAt: null,
        at: 2_000
      }));
      await waitFor('the update', () => heard.length === 2);
      expect(heard).toEqual([
        { tenant: T1, session: created },
        { tenant: T1, session: moved }
      ]);
      unsubscribe();
      await store.update(T1, created.id, (s) => ({ state: s.state, endedAt: 3_000, at: 3_000 }));
      await store.create(T1, definition, fresh(4_000), 4_000);
      // Nothing more arrives (a published change would be here within this wait).
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(heard).toHaveLength(2);
    });
  });
}
