import { describe, expect, it, vi } from 'vitest';
import { db } from '#lib/db/index.ts';
import { appEvents } from '#lib/services/app-events.ts';
import { handleError } from '#lib/services/handle-error.ts';
import { EdgeClient } from '#lib/services/edge-client.ts';
import {
  clearErrors,
  errorLog,
  flushStatusLog,
  perfSamples,
  restoreErrors,
  SAMPLES_KEPT,
  startStatusLog
} from '#lib/services/status-log.service.ts';
import { statusMonitor } from '#lib/state/status-monitor.svelte.ts';
import { toasts } from '#lib/state/toasts.svelte.ts';

describe('status log', () => {
  // First in the file: the log is read once, when recording starts.
  it('reads what earlier visits recorded, and records from then on without reading anything twice', async () => {
    await db.perfSamples.clear();
    await db.errorLog.clear();
    await db.perfSamples.add({ metric: 'search-ms', value: 12, at: Date.now() - 60_000 });
    await db.errorLog.add({ at: Date.now() - 60_000, where: 'Knowledge', message: 'Earlier failure', loaded: [] });

    const starting = startStatusLog();
    // Recorded while the saved log is still being read.
    appEvents.emit('perf:sample', { metric: 'search-ms', value: 30, model: 'MiniLM', device: 'wasm' });
    await starting;
    appEvents.emit('perf:sample', { metric: 'search-ms', value: 20 });
    appEvents.emit('app:error', { where: 'Camera', message: 'The camera stopped' });
    await flushStatusLog();

    expect(perfSamples('search-ms').map((s) => s.value)).toEqual([12, 30, 20]);
    expect(perfSamples('search-ms')[1]).toMatchObject({ model: 'MiniLM', device: 'wasm' });
    expect(errorLog().map((e) => e.message)).toEqual(['Earlier failure', 'The camera stopped']);
    const saved = await db.perfSamples.where('metric').equals('search-ms').toArray();
    expect(saved.map((s) => s.value)).toEqual([12, 30, 20]);
    expect(await db.errorLog.count()).toBe(2);
  });

  it('keeps the last figures of a metric, in memory and in IndexedDB', async () => {
    for (let i = 0; i < SAMPLES_KEPT + 10; i += 1) {
      appEvents.emit('perf:sample', { metric: 'state-query-ms', value: i });
    }
    await flushStatusLog();
    expect(perfSamples('state-query-ms')).toHaveLength(SAMPLES_KEPT);
    expect(perfSamples('state-query-ms')[0]!.value).toBe(10);
    const saved = await db.perfSamples.where('metric').equals('state-query-ms').toArray();
    expect(saved).toHaveLength(SAMPLES_KEPT);
    expect(saved[0]!.value).toBe(10);
  });

  it('logs an engine that moved to WASM as that engine’s failure', async () => {
    appEvents.emit('engine:fallback', { engine: 'embed', reason: 'The GPU was lost; running on the CPU now.' });
    expect(errorLog().at(-1)).toMatchObject({ where: 'Embedding engine', message: expect.stringContaining('GPU') });
  });

  it('clears the error log and puts it back, in IndexedDB too', async () => {
    const before = errorLog();
    const removed = await clearErrors();
    expect(errorLog()).toEqual([]);
    expect(await db.errorLog.count()).toBe(0);
    appEvents.emit('app:error', { where: 'Tasks', message: 'After the clear' });
    await restoreErrors(removed);
    await flushStatusLog();
    expect(errorLog().map((e) => e.message)).toEqual([...before.map((e) => e.message), 'After the clear']);
    expect(await db.errorLog.count()).toBe(before.length + 1);
  });
});

describe('status monitor store', () => {
  it('shows p50/p95 and counts of the recorded figures only, and nothing for a metric never measured', async () => {
    await statusMonitor.init();
    appEvents.emit('perf:sample', { metric: 'first-token-ms', value: 100 });
    appEvents.emit('perf:sample', { metric: 'first-token-ms', value: 300 });
    const firstToken = statusMonitor.metrics.find((m) => m.metric === 'first-token-ms')!;
    expect(firstToken.summary).toMatchObject({ count: 2, p50: 200, p95: 290, last: 300 });
    expect(statusMonitor.metrics.find((m) => m.metric === 'frame-handoff-ms')!.summary).toBeNull();
    expect(statusMonitor.device?.userAgent).toBe(navigator.userAgent);
  });

  it('exports the log with the environment, and clears it with an Undo that brings it back', async () => {
    appEvents.emit('app:error', { where: 'Knowledge', message: 'Could not read broken.pdf', model: 'MiniLM' });
    const { name, blob } = await statusMonitor.exportErrors();
    expect(name).toMatch(/^vision-hub-errors-.*\.json$/);
    const report = JSON.parse(await blob.text()) as {
      environment: { appVersion: string; userAgent: string };
      errors: { where: string; message: string; model?: string; at: string }[];
    };
    expect(report.environment.userAgent).toBe(navigator.userAgent);
    expect(report.errors.at(-1)).toMatchObject({
      where: 'Knowledge',
      message: 'Could not read broken.pdf',
      model: 'MiniLM'
    });
    expect(new Date(report.errors.at(-1)!.at).getTime()).not.toBeNaN();

    const count = statusMonitor.errors.length;
    await statusMonitor.clearErrors();
    expect(statusMonitor.errors).toEqual([]);
    const toast = toasts.items.at(-1)!;
    expect(toast.action?.label).toBe('Undo');
    await toasts.act(toast.id);
    expect(statusMonitor.errors).toHaveLength(count);
    expect(statusMonitor.errors[0]!.message).toBe('Could not read broken.pdf');
  });
});

describe('an edge server the page may not call', () => {
  const lanServer = 'http://10.255.255.1:8787';

  it('without a policy against it, a failed request still reads as a server that is not there', async () => {
    const client = new EdgeClient(
      { baseUrl: lanServer, credential: null },
      { retries: 0, fetch: () => Promise.reject(new TypeError('Failed to fetch')) }
    );
    await expect(client.health()).rejects.toThrow(/Could not reach/);
  });

  // Last in the file: the policy stays on this page once set.
  it("says the browser blocked it under the page's connect-src, without asking or retrying", async () => {
    const meta = document.createElement('meta');
    meta.httpEquiv = 'content-security-policy';
    meta.content = "default-src 'self' 'unsafe-inline' 'unsafe-eval' blob: data:; connect-src 'self' https: ws:";
    document.head.append(meta);
    const fetch = vi.fn(() => Promise.reject(new TypeError('Failed to fetch')));
    const client = new EdgeClient({ baseUrl: lanServer, credential: null }, { retries: 3, fetch });
    const failure = client.health();
    await expect(failure).rejects.toThrow(/The browser blocked http:\/\/10\.255\.255\.1:8787/);
    await expect(failure).rejects.toThrow(
      /security policy \(connect-src\).*https:\/\/.*open the app from the edge server/
    );
    expect(fetch).not.toHaveBeenCalled();
    // Said as it is, pointing at the settings: not "jobs wait until the server answers".
    const told = handleError(await failure.catch((error: unknown) => error));
    expect(told).toMatchObject({ action: 'edge-settings' });
    expect(told?.message).not.toMatch(/Jobs wait/);
  });
});
