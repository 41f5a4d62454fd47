/**
 * The app's one map of cross-module events: services emit them; stores (and a service that must
 * follow another, as the engine follows its model's fallback) subscribe. A new event is a line
 * here, with its payload, never a callback field or a one-listener setter.
 */
import { EventBus } from '#lib/core/event-bus.ts';
import type { LoadProgress } from '#lib/core/engine-types.ts';
import type { ReadyModel } from './model-runtime.service.ts';

/** What the device's text engine is doing, whoever asked it (camera, knowledge, task guide). */
export interface EngineStatus {
  phase: 'idle' | 'loading' | 'generating';
  /** The file being loaded into the worker, while `loading`. */
  progress: LoadProgress | null;
  /** The model in the worker, once loaded; null again after a crash or a lost GPU. */
  ready: ReadyModel | null;
}

/** What the app measures as it runs, for the status monitor (never invented: each is one real event). */
export type PerfMetric = 'first-token-ms' | 'tokens-per-second' | 'state-query-ms' | 'search-ms' | 'frame-handoff-ms';

export interface AppEvents {
  /** An engine's worker moved from WebGPU to WASM (a failed load or a lost GPU); `reason` is for the user. */
  'engine:fallback': { engine: 'vlm' | 'embed'; reason: string };
  /** The text engine started loading, started writing, or went idle. */
  'engine:status': EngineStatus;
  /** The camera assistant finished an answer about the scene (the task tracker observes it). */
  'assistant:answer': { text: string };
  /** One measurement of the app's own work (an answer's first token, a search), with what ran it. */
  'perf:sample': { metric: PerfMetric; value: number; model?: string; device?: string };
  /** A failure a store showed the user, for the status monitor's error log. */
  'app:error': { where: string; message: string; model?: string; device?: string };
  /** A knowledge base's search graph is being brought up to date (`progress` null when done). */
  'knowledge:graph': {
    baseId: number;
    modelId: string;
    /** How many new vectors are linked in so far; null once the update ended. */
    progress: { done: number; total: number } | null;
    /** Why the update failed (search stays exact for what the graph does not cover). */
    error?: string;
  };
}

export const appEvents = new EventBus<AppEvents>();
