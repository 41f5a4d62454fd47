import { randomUUID } from 'node:crypto';
import type { DatabaseSync } from 'node:sqlite';
import { decodeCursor, encodeCursor } from '../jobs/list-cursor.ts';
import { inTransaction, openJobDatabase, type Synchronous } from '../jobs/sqlite-database.ts';
import { changeListeners, type TaskSession, type TaskSessionStore } from './task-session-store.ts';

// Beside the jobs in their database, which has its own schema version (user_version): this
// table is only ever created, never altered, until it needs a version of its own.
// `seq` orders lists and cursors (AUTOINCREMENT never reuses one); `touched` orders writes, for
// `latest` (timestamps tie within a millisecond).
const SCHEMA = `
CREATE TABLE IF NOT EXISTS task_sessions (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  tenant TEXT NOT NULL,
  definition TEXT NOT NULL,
  state TEXT NOT NULL,
  ended_at INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  touched INTEGER NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS task_sessions_by_tenant ON task_sessions (tenant, seq);
CREATE INDEX IF NOT EXISTS task_sessions_recent ON task_sessions (tenant, touched);
CREATE INDEX IF NOT EXISTS task_sessions_touched ON task_sessions (touched);
CREATE INDEX IF NOT EXISTS task_sessions_updated ON task_sessions (updated_at);
`;

/** How often expired sessions are deleted; reads never see one in between. */
const SWEEP_EVERY_MS = 3_600_000;

const NEXT_TOUCH = '(SELECT COALESCE(MAX(touched), 0) + 1 FROM task_sessions)';

interface Row {
  seq: number;
  id: string;
  tenant: string;
  definition: string;
  state: string;
  ended_at: number | null;
  created_at: number;
  updated_at: number;
}

const fromRow = (row: Row): TaskSession => ({
  id: row.id,
  tenant: row.tenant,
  definition: JSON.parse(row.definition) as TaskSession['definition'],
  state: JSON.parse(row.state) as TaskSession['state'],
  endedAt: row.ended_at,
  createdAt: row.created_at,
  updatedAt: row.updated_at
});

export interface SqliteTaskSessionsOptions {
  /** The job database's file (`DATA_DIR/jobs.sqlite`). */
  path: string;
  synchronous?: Synchronous;
  /** A session unchanged this long (by `updatedAt`) is gone; kept for ever when absent. */
  retentionMs?: number;
  onError: (error: unknown) => void;
}

/**
 * Task sessions in the SQLite file the job queue uses, so the embedded setup keeps a single
 * database; a restart (or another process on the file) reads them back as they were saved.
 */
export function sqliteTaskSessions(options: SqliteTaskSessionsOptions): TaskSessionStore {
  const db: DatabaseSync = openJobDatabase(options.path, options.synchronous ?? 'normal');
  db.exec(SCHEMA);
  const listeners = changeListeners(options.onError);
  const insert = db.prepare(
    `INSERT INTO task_sessions (id, tenant, definition, state, created_at, updated_at, touched) VALUES (?, ?, ?, ?, ?, ?, ${NEXT_TOUCH}) RETURNING *`
  );
  // Every read takes the oldest `updated_at` still kept, so a session past its retention is gone
  // at once, whenever the sweep below last ran.
  const byId = db.prepare('SELECT * FROM task_sessions WHERE tenant = ? AND id = ? AND updated_at >= ?');
  const latest = db.prepare(
    'SELECT * FROM task_sessions WHERE tenant = ? AND updated_at >= ? ORDER BY touched DESC LIMIT 1'
  );
  const page = db.prepare(
    'SELECT * FROM task_sessions WHERE tenant = ? AND seq < ? AND updated_at >= ? ORDER BY seq DESC LIMIT ?'
  );
  const expired = db.prepare('DELETE FROM task_sessions WHERE updated_at < ?');
  const { retentionMs } = options;
  const keptSince = () => (retentionMs === undefined ? Number.MIN_SAFE_INTEGER : Date.now() - retentionMs);
  const sweep = () => {
    try {
      inTransaction(db, () => expired.run(keptSince()));
    } catch (error) {
      options.onError(error);
    }
  };
  sweep();
  const sweeper = retentionMs === undefined ? undefined : setInterval(sweep, Math.min(retentionMs, SWEEP_EVERY_MS));
  sweeper?.unref();
  const save = db.prepare(
    `UPDATE task_sessions SET state = ?, ended_at = ?, updated_at = ?, touched = ${NEXT_TOUCH} WHERE seq = ? RETURNING *`
  );

  return {
    async create(tenant, definition, state, at) {
      // In a write transaction taken up front, like every write here: the touch counter is read
      // and written by one statement, which must not lose a race to another process's write.
      const row = inTransaction(
        db,
        () =>
          insert.get(randomUUID(), tenant, JSON.stringify(definition), JSON.stringify(state), at, at) as unknown as Row
      );
      const session = fromRow(row);
      listeners.emit({ tenant, session });
      return Promise.resolve(session);
    },
    async get(tenant, id) {
      const row = byId.get(tenant, id, keptSince()) as Row | undefined;
      return Promise.resolve(row ? fromRow(row) : null);
    },
    async latest(tenant) {
      const row = latest.get(tenant, keptSince()) as Row | undefined;
      return Promise.resolve(row ? fromRow(row) : null);
    },
    async list(tenant, { limit, cursor }) {
      const before = cursor === undefined ? Number.MAX_SAFE_INTEGER : decodeCursor(cursor);
      const rows = page.all(tenant, before, keptSince(), limit + 1) as unknown as Row[];
      const shown = rows.slice(0, limit);
      const last = shown.at(-1);
      return Promise.resolve({
        sessions: shown.map(fromRow),
        next: rows.length > limit && last ? encodeCursor(last.seq) : null
      });
    },
    async update(tenant, id, change) {
      // Read, change and write in one write transaction: a writer in another process waits for
      // it, so no change is ever lost and \`change\` runs exactly once here.
      const saved = inTransaction(db, () => {
        const row = byId.get(tenant, id, keptSince()) as Row | undefined;
        if (!row) {
          return null;
        }
        const current = fromRow(row);
        const next = change(current);
        if (next === null) {
          return { session: current, changed: false };
        }
        const written = save.get(JSON.stringify(next.state), next.endedAt, next.at, row.seq) as unknown as Row;
        return { session: fromRow(written), changed: true };
      });
      if (saved?.changed) {
        listeners.emit({ tenant, session: saved.session });
      }
      return Promise.resolve(saved?.session ?? null);
    },
    onChange: (listener) => listeners.add(listener),
    async close() {
      clearInterval(sweeper);
      db.close();
      return Promise.resolve();
    }
  };
}
