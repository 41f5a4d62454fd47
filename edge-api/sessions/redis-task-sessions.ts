import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { decodeCursor, encodeCursor } from '../jobs/list-cursor.ts';
import { changeListeners, type SessionChange, type TaskSession, type TaskSessionStore } from './task-session-store.ts';

export interface RedisTaskSessionsOptions {
  url: string;
  /** Key prefix, so tests (and several deployments on one Redis) stay apart. */
  prefix?: string;
  /** A session unchanged this long (by `updatedAt`) expires; kept for ever when absent. */
  retentionMs?: number;
  onError: (error: unknown) => void;
}

// Saves the session only if nobody saved it since it was read (its version), and makes it the
// tenant's latest: the compare-and-set behind `update`.
const SAVE_IF_UNCHANGED = `
if redis.call('HGET', KEYS[1], 'version') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'session', ARGV[2], 'version', tonumber(ARGV[1]) + 1)
redis.call('SET', KEYS[2], ARGV[3])
if ARGV[5] ~= '' then
  redis.call('PEXPIREAT', KEYS[1], ARGV[5])
  redis.call('PEXPIREAT', KEYS[2], ARGV[5])
end
redis.call('PUBLISH', KEYS[3], ARGV[4])
return 1
`;
/** Attempts before an update gives up: only a session changed this often at once gets there. */
const MAX_ATTEMPTS = 20;

/**
 * Task sessions on Redis, for several API nodes: each session is a hash (its JSON and a version
 * for compare-and-set); per tenant a sorted set by creation order for lists and the id of the one
 * changed last. Changes are published, so listeners on every node hear every node's changes.
 * Resolves once it is subscribed to them, so that no change made after it is missed.
 */
export async function redisTaskSessions(options: RedisTaskSessionsOptions): Promise<TaskSessionStore> {
  const prefix = options.prefix ?? 'vision-hub';
  // The job queue's connection settings: a call fails in seconds while Redis is unreachable.
  const client = new Redis(options.url, { maxRetriesPerRequest: 3 });
  client.on('error', options.onError);
  client.defineCommand('saveSessionIfUnchanged', { numberOfKeys: 3, lua: SAVE_IF_UNCHANGED });
  const listeners = changeListeners(options.onError);
  const channel = `${prefix}:task-sessions:changes`;
  const keys = {
    session: (tenant: string, id: string) => `${prefix}:task-session:${tenant}:${id}`,
    list: (tenant: string) => `${prefix}:task-sessions:${tenant}`,
    latest: (tenant: string) => `${prefix}:task-sessions-latest:${tenant}`,
    seq: `${prefix}:task-sessions:seq`
  };
  // A subscribed connection can do nothing else; it retries for as long as it takes.
  const subscriber = client.duplicate({ maxRetriesPerRequest: null });
  subscriber.on('error', options.onError);
  subscriber.on('message', (_channel: string, message: string) => {
    listeners.emit(JSON.parse(message) as SessionChange);
  });
  await subscriber.subscribe(channel);

  const read = async (tenant: string, id: string) => {
    const [json, version] = await client.hmget(keys.session(tenant, id), 'session', 'version');
    return typeof json === 'string' && typeof version === 'string'
      ? { session: JSON.parse(json) as TaskSession, version }
      : null;
  };
  const change = (session: TaskSession) => JSON.stringify({ tenant: session.tenant, session } satisfies SessionChange);
  // Redis deletes an expired session itself; the tenant's list forgets it when next read.
  const { retentionMs } = options;
  const expiresAt = (session: TaskSession) => (retentionMs === undefined ? undefined : session.updatedAt + retentionMs);

  return {
    async create(tenant, definition, state, at) {
      const seq = await client.incr(keys.seq);
      const session: TaskSession = {
        id: randomUUID(),
        tenant,
        definition,
        state,
        endedAt: null,
        createdAt: at,
        updatedAt: at
      };
      const write = client
        .multi()
        .hset(keys.session(tenant, session.id), 'session', JSON.stringify(session), 'version', 0, 'seq', seq)
        .zadd(keys.list(tenant), seq, session.id)
        .set(keys.latest(tenant), session.id);
      const expiry = expiresAt(session);
      if (expiry !== undefined) {
        write.pexpireat(keys.session(tenant, session.id), expiry).pexpireat(keys.latest(tenant), expiry);
      }
      await write.publish(channel, change(session)).exec();
      return session;
    },
    async get(tenant, id) {
      return (await read(tenant, id))?.session ?? null;
    },
    async latest(tenant) {
      const id = await client.get(keys.latest(tenant));
      return id === null ? null : ((await read(tenant, id))?.session ?? null);
    },
    async list(tenant, { limit, cursor }) {
      const before = cursor === undefined ? '+inf' : `(${decodeCursor(cursor)}`;
      const flat = await client.zrevrangebyscore(
        keys.list(tenant),
        before,
        '-inf',
        'WITHSCORES',
        'LIMIT',
        0,
        limit + 1
      );
      const ids: Array<{ id: string; seq: number }> = [];
      for (let i = 0; i < flat.length; i += 2) {
        ids.push({ id: flat[i]!, seq: Number(flat[i + 1]) });
      }
      const shown = ids.slice(0, limit);
      const sessions = await Promise.all(shown.map(async ({ id }) => (await read(tenant, id))?.session));
      const gone = shown.filter((_, i) => sessions[i] === undefined).map(({ id }) => id);
      if (gone.length > 0) {
        await client.zrem(keys.list(tenant), ...gone);
      }
      const last = shown.at(-1);
      return {
        sessions: sessions.filter((s): s is TaskSession => s !== undefined),
        next: ids.length > limit && last ? encodeCursor(last.seq) : null
      };
    },
    async update(tenant, id, apply) {
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const stored = await read(tenant, id);
        if (!stored) {
          return null;
        }
        const next = apply(stored.session);
        if (next === null) {
          return stored.session;
        }
        const session: TaskSession = {
          ...stored.session,
          state: next.state,
          endedAt: next.endedAt,
          updatedAt: next.at
        };
        const saved = await (
          client as Redis & {
            saveSessionIfUnchanged(...args: string[]): Promise<number>;
          }
        ).saveSessionIfUnchanged(
          keys.session(tenant, id),
          keys.latest(tenant),
          channel,
          stored.version,
          JSON.stringify(session),
          id,
          change(session),
          String(expiresAt(session) ?? '')
        );
        if (saved === 1) {
          return session;
        }
      }
      throw new Error(`task session ${id} kept changing: gave up after ${MAX_ATTEMPTS} attempts`);
    },
    onChange: (listener) => listeners.add(listener),
    async close() {
      subscriber.disconnect();
      await client.quit();
    }
  };
}
