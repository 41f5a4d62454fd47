import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

/**
 * `normal`: a commit reaches the write-ahead log (so the OS) before it returns, which survives
 * the crash or `kill -9` of any process; `full` also fsyncs it, which survives power loss too.
 */
export type Synchronous = 'normal' | 'full';

const SCHEMA_VERSION = 1;

// `seq` orders jobs (FIFO, newest-first lists, cursors): AUTOINCREMENT never reuses a purged one.
// `version` grows on every change, so a follower in another process can poll for changes cheaply.
const SCHEMA = `
CREATE TABLE IF NOT EXISTS jobs (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  tenant TEXT NOT NULL,
  type TEXT NOT NULL,
  state TEXT NOT NULL,
  priority INTEGER NOT NULL,
  input TEXT NOT NULL,
  progress REAL NOT NULL DEFAULT 0,
  progress_message TEXT,
  result TEXT,
  error_code TEXT,
  error_message TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL,
  cancel_requested INTEGER NOT NULL DEFAULT 0,
  idempotency_key TEXT,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  finished_at INTEGER,
  run_at INTEGER NOT NULL,
  lease_token TEXT,
  lease_until INTEGER,
  version INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX IF NOT EXISTS jobs_ready ON jobs (priority DESC, seq) WHERE state = 'queued';
CREATE INDEX IF NOT EXISTS jobs_leased ON jobs (lease_until) WHERE state = 'running';
CREATE INDEX IF NOT EXISTS jobs_running ON jobs (tenant, lease_until) WHERE state = 'running';
CREATE INDEX IF NOT EXISTS jobs_active ON jobs (tenant) WHERE state IN ('queued', 'running');
CREATE INDEX IF NOT EXISTS jobs_by_tenant ON jobs (tenant, seq);
CREATE INDEX IF NOT EXISTS jobs_finished ON jobs (finished_at) WHERE finished_at IS NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS jobs_idempotency ON jobs (tenant, idempotency_key) WHERE idempotency_key IS NOT NULL;
`;

/**
 * Opens (creating it, and its folder, when missing) the job database that the API process and
 * any number of worker processes on this machine share: WAL so that readers never block the
 * writer, and a busy timeout so that writers from several processes queue up instead of failing.
 */
export function openJobDatabase(path: string, synchronous: Synchronous): DatabaseSync {
  mkdirSync(dirname(path), { recursive: true });
  const db = new DatabaseSync(path);
  db.exec(`PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; PRAGMA synchronous = ${synchronous.toUpperCase()};`);
  inTransaction(db, () => {
    const { user_version: version } = db.prepare('PRAGMA user_version').get() as { user_version: number };
    if (version > SCHEMA_VERSION) {
      throw new Error(`${path} has job schema ${version}, newer than this code's ${SCHEMA_VERSION}`);
    }
    db.exec(`${SCHEMA} PRAGMA user_version = ${SCHEMA_VERSION};`);
  });
  return db;
}

/**
 * Runs `work` in a write transaction taken up front (`BEGIN IMMEDIATE`): taking the write lock
 * only at the first write could fail at once, without the busy timeout, when another process
 * wrote since this transaction's first read.
 */
export function inTransaction<T>(db: DatabaseSync, work: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const result = work();
    db.exec('COMMIT');
    return result;
  } catch (error) {
    db.exec('ROLLBACK');
    throw error;
  }
}
