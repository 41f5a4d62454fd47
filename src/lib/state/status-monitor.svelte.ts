import { summarize, type PerfSummary } from '#lib/core/perf-ring.ts';
import type { ErrorLogEntry, PerfSampleRow } from '#lib/db/index.ts';
import { appEvents, type EngineStatus, type PerfMetric } from '#lib/services/app-events.ts';
import {
  deviceReport,
  requestPersistence,
  storageReport,
  type DeviceReport
} from '#lib/services/device-report.service.ts';
import type { EdgeHealthReport } from '#lib/services/edge-client.ts';
import { engineStatus } from '#lib/services/engine.service.ts';
import { handleError, type UserError } from '#lib/services/handle-error.ts';
import { residentModels, type EngineName } from '#lib/services/model-runtime.service.ts';
import {
  clearErrors,
  ENGINE_PLACES,
  errorLog,
  flushStatusLog,
  PERF_METRICS,
  perfSamples,
  restoreErrors,
  startStatusLog
} from '#lib/services/status-log.service.ts';
import { edgeConnectionStore } from './edge-connection-store.svelte.ts';
import { toasts } from './toasts.svelte.ts';

export interface MetricView {
  metric: PerfMetric;
  label: string;
  unit: string;
  summary: PerfSummary | null;
  samples: PerfSampleRow[];
}

export interface EngineView {
  engine: EngineName;
  label: string;
  /** In plain words: "writing an answer", "loaded", "not loaded". */
  state: string;
  model: string | null;
  variant: string | null;
  device: string | null;
  /** Bytes of the model's files: about what it takes in GPU or WASM memory. */
  bytes: number | null;
  lastError: ErrorLogEntry | null;
}

export type ServerReport =
  { phase: 'checking' } | { phase: 'ok'; report: EdgeHealthReport } | { phase: 'failed'; error: UserError };

const METRIC_WORDS: Record<PerfMetric, { label: string; unit: string }> = {
  'first-token-ms': { label: 'Time to first token', unit: 'ms' },
  'tokens-per-second': { label: 'Tokens per second', unit: 'tokens/s' },
  'state-query-ms': { label: 'Task state query', unit: 'ms' },
  'search-ms': { label: 'Knowledge search', unit: 'ms' },
  'frame-handoff-ms': { label: 'Frame hand-off (frame to model input)', unit: 'ms' }
};

const PHASE_WORDS: Record<EngineStatus['phase'], string> = {
  idle: 'idle',
  loading: 'loading the model',
  generating: 'writing an answer'
};

/** The status monitor: the app's recorded figures, its error log, its engines and the browser's report. */
class StatusMonitor {
  #metrics = $state.raw<MetricView[]>([]);
  #errors = $state.raw<ErrorLogEntry[]>([]);
  #engines = $state.raw<EngineView[]>([]);
  #device = $state.raw<DeviceReport | null>(null);
  #server = $state.raw<ServerReport | null>(null);
  #subscribed = false;

  get metrics(): MetricView[] {
    return this.#metrics;
  }
  /** Newest first. */
  get errors(): ErrorLogEntry[] {
    return this.#errors;
  }
  get engines(): EngineView[] {
    return this.#engines;
  }
  get device(): DeviceReport | null {
    return this.#device;
  }
  get server(): ServerReport | null {
    return this.#server;
  }

  /** Reads the recorded log and the device, and follows both from now on. */
  async init(): Promise<void> {
    await startStatusLog();
    if (!this.#subscribed) {
      this.#subscribed = true;
      appEvents.on('perf:sample', () => this.#readLog());
      appEvents.on('app:error', () => this.#readLog());
      appEvents.on('engine:fallback', () => this.#readLog());
      appEvents.on('engine:status', () => this.#readEngines());
    }
    this.#readLog();
    this.#device = await deviceReport();
  }

  #readLog(): void {
    this.#metrics = PERF_METRICS.map((metric) => {
      const samples = perfSamples(metric);
      return { metric, ...METRIC_WORDS[metric], summary: summarize(samples.map((s) => s.value)), samples };
    });
    this.#errors = errorLog().reverse();
    this.#readEngines();
  }

  #readEngines(): void {
    const resident = residentModels();
    const status = engineStatus();
    this.#engines = (Object.keys(ENGINE_PLACES) as EngineName[]).map((engine) => {
      const label = ENGINE_PLACES[engine];
      const ready = resident.get(engine);
      const busy = engine === 'vlm' && status.phase !== 'idle';
      return {
        engine,
        label,
        state: busy ? PHASE_WORDS[status.phase] : ready ? 'loaded, idle' : 'not loaded',
        model: ready?.model.name ?? null,
        variant: ready?.variant.id ?? null,
        device: ready ? (ready.variant.device === 'webgpu' ? 'WebGPU' : 'WASM (CPU)') : null,
        bytes: ready?.variant.bytes ?? null,
        lastError: this.#errors.find((entry) => entry.where === label) ?? null
      };
    });
  }

  /** Asks the edge server for its detailed health (queue, storage, backends). */
  async checkServer(): Promise<void> {
    this.#server = { phase: 'checking' };
    try {
      this.#server = { phase: 'ok', report: await edgeConnectionStore.client.healthDetailed() };
    } catch (error) {
      const shown = handleError(error);
      this.#server = shown ? { phase: 'failed', error: shown } : null;
    }
  }

  /** Asks the browser to keep the app's data; the storage line then says whether it will. */
  async keepData(): Promise<void> {
    const kept = await requestPersistence();
    const storage = await storageReport();
    if (this.#device) {
      this.#device = { ...this.#device, storage };
    }
    if (!kept) {
      toasts.show('The browser did not agree to keep the data: it may still clear it when storage runs low.');
    }
  }

  /** Empties the error log, with an Undo. */
  async clearErrors(): Promise<void> {
    const removed = await clearErrors();
    this.#readLog();
    toasts.show(`Error log cleared (${removed.length} ${removed.length === 1 ? 'entry' : 'entries'})`, {
      action: {
        label: 'Undo',
        run: async () => {
          await restoreErrors(removed);
          this.#readLog();
        }
      }
    });
  }

  /** The error log with this device's report, as a file for a bug report. */
  async exportErrors(): Promise<{ name: string; blob: Blob }> {
    await flushStatusLog();
    const device = this.#device ?? (await deviceReport());
    const report = {
      exportedAt: new Date().toISOString(),
      environment: {
        appVersion: device.appVersion,
        userAgent: device.userAgent,
        adapter: device.adapter,
        serviceWorker: device.serviceWorker,
        online: navigator.onLine
      },
      errors: errorLog().map(({ id: _, at, ...entry }) => ({ at: new Date(at).toISOString(), ...entry }))
    };
    const stamp = report.exportedAt.slice(0, 19).replace(/[:T]/g, '-');
    return {
      name: `vision-hub-errors-${stamp}.json`,
      blob: new Blob([JSON.stringify(report, null, 2)], { type: 'application/json' })
    };
  }
}

export const statusMonitor = new StatusMonitor();
