/**
 * What the status monitor records as the app runs: every `perf:sample` and every failure the user
 * was shown (`app:error`, and an engine's move to WASM), kept in IndexedDB across reloads. Writes
 * are batched, so an answer's figures cost one transaction, and capped, so the log never grows.
 */
import { PerfRing } from '#lib/core/perf-ring.ts';
import { db, type ErrorLogEntry, type PerfSampleRow } from '#lib/db/index.ts';
import { appEvents, type PerfMetric } from './app-events.ts';
import { residentModels } from './model-runtime.service.ts';

/** Per metric: enough for a stable p95 and a chart, little enough to load at once. */
export const SAMPLES_KEPT = 500;
export const ERRORS_KEPT = 200;
/**
 * Figures of one answer arrive together, in one task: a timer of 0 still writes them in one
 * transaction, and starts it before the page can be left (a reload drops an unstarted write).
 */
const FLUSH_MS = 0;

export const PERF_METRICS: readonly PerfMetric[] = [
  'first-token-ms',
  'tokens-per-second',
  'state-query-ms',
  'search-ms',
  'frame-handoff-ms'
];

/** Where an engine's failures are logged, and what the monitor calls it. */
export const ENGINE_PLACES = { vlm: 'Vision engine', embed: 'Embedding engine' } as const;

let samples = new Map<PerfMetric, PerfRing<PerfSampleRow>>();
let errors = new PerfRing<ErrorLogEntry>(ERRORS_KEPT);
let unsavedSamples: PerfSampleRow[] = [];
let unsavedErrors: ErrorLogEntry[] = [];
let started: Promise<void> | null = null;
let flushTimer: ReturnType<typeof setTimeout> | undefined;
let flushing: Promise<void> = Promise.resolve();

function ringOf(metric: PerfMetric): PerfRing<PerfSampleRow> {
  let ring = samples.get(metric);
  if (!ring) {
    ring = new PerfRing(SAMPLES_KEPT);
    samples.set(metric, ring);
  }
  return ring;
}

function loadedModels(): ErrorLogEntry['loaded'] {
  return [...residentModels()].map(([engine, ready]) => ({
    engine,
    model: ready.model.name,
    device: ready.variant.device
  }));
}

function scheduleFlush(): void {
  flushTimer ??= setTimeout(() => void flushStatusLog(), FLUSH_MS);
}

function recordSample(sample: Omit<PerfSampleRow, 'at'>): void {
  const row: PerfSampleRow = { ...sample, at: Date.now() };
  ringOf(row.metric).push(row);
  unsavedSamples.push(row);
  scheduleFlush();
}

function recordError(failure: Omit<ErrorLogEntry, 'at' | 'loaded'>): void {
  const entry: ErrorLogEntry = { ...failure, at: Date.now(), loaded: loadedModels() };
  errors.push(entry);
  unsavedErrors.push(entry);
  scheduleFlush();
}

async function write(rows: PerfSampleRow[], entries: ErrorLogEntry[]): Promise<void> {
  await db.transaction('rw', db.perfSamples, db.errorLog, async () => {
    // Dexie puts each new id on its object: the rings hold the same objects, so they learn them too.
    await db.perfSamples.bulkAdd(rows);
    await db.errorLog.bulkAdd(entries);
    for (const metric of new Set(rows.map((row) => row.metric))) {
      const old = await db.perfSamples.where('metric').equals(metric).reverse().offset(SAMPLES_KEPT).primaryKeys();
      await db.perfSamples.bulkDelete(old);
    }
    if (entries.length) {
      await db.errorLog.bulkDelete(await db.errorLog.orderBy(':id').reverse().offset(ERRORS_KEPT).primaryKeys());
    }
  });
}

/** Writes what is recorded but not saved yet; resolves once it is in IndexedDB. */
export function flushStatusLog(): Promise<void> {
  clearTimeout(flushTimer);
  flushTimer = undefined;
  const rows = unsavedSamples;
  const entries = unsavedErrors;
  unsavedSamples = [];
  unsavedErrors = [];
  flushing = flushing.then(async () => {
    // Nothing is written before the saved log is read, so no figure is read back twice.
    await started;
    if (rows.length || entries.length) {
      await write(rows, entries).catch((error: unknown) => console.error('The status log could not be saved', error));
    }
  });
  return flushing;
}

async function loadSaved(): Promise<void> {
  const [rows, entries] = await Promise.all([db.perfSamples.toArray(), db.errorLog.toArray()]);
  const live = samples;
  samples = new Map();
  for (const row of rows) {
    ringOf(row.metric).push(row);
  }
  for (const [metric, ring] of live) {
    ringOf(metric).push(...ring.values());
  }
  const liveErrors = errors.values();
  errors = new PerfRing(ERRORS_KEPT);
  errors.push(...entries, ...liveErrors);
}

/**
 * Starts recording (once; later calls return the same promise), and reads what earlier visits
 * recorded. Events are recorded from the first call on, even while the saved log is read.
 */
export function startStatusLog(): Promise<void> {
  if (started) {
    return started;
  }
  appEvents.on('perf:sample', (sample) => recordSample(sample));
  appEvents.on('app:error', (failure) => recordError(failure));
  appEvents.on('engine:fallback', ({ engine, reason }) =>
    recordError({ where: ENGINE_PLACES[engine], message: reason })
  );
  // A page that goes away still saves the figures of its last moments.
  addEventListener('pagehide', () => void flushStatusLog());
  started = loadSaved().catch((error: unknown) => console.error('The saved status log could not be read', error));
  return started;
}

/** The recorded figures of `metric`, oldest first. */
export function perfSamples(metric: PerfMetric): PerfSampleRow[] {
  return samples.get(metric)?.values() ?? [];
}

/** The error log, oldest first. */
export function errorLog(): ErrorLogEntry[] {
  return errors.values();
}

/** Empties the error log; returns what it held, for {@link restoreErrors}. */
export async function clearErrors(): Promise<ErrorLogEntry[]> {
  await flushStatusLog();
  const removed = errors.values();
  errors = new PerfRing(ERRORS_KEPT);
  await db.errorLog.clear();
  return removed;
}

/** Puts cleared entries back (an Undo), before whatever was logged since. */
export async function restoreErrors(entries: ErrorLogEntry[]): Promise<void> {
  await db.errorLog.bulkPut(entries);
  const since = errors.values();
  errors = new PerfRing(ERRORS_KEPT);
  errors.push(...entries, ...since);
}
