import { frameDifference } from '#lib/core/frame-diff.ts';
import type { ModelEntry } from '#lib/core/manifest.ts';
import type { GenerationStats, LoadProgress } from '#lib/core/engine-types.ts';
import type { Observation } from '#lib/db/index.ts';
import { ModelNotInstalledError } from '#lib/core/errors.ts';
import { ask, compose, onBackendFallback, prepareModel, type ReadyModel } from '#lib/services/assistant.service.ts';
import { handleError, type UserError } from '#lib/services/handle-error.ts';
import { clearObservations, recentObservations, restoreObservations } from '#lib/services/observations.service.ts';
import { modelsStore } from './models-store.svelte.ts';

export const QUICK_PROMPTS = ['What do you see?', 'Read the text', 'Is anything unsafe?'];
const CONTINUOUS_PROMPT = 'Describe the scene briefly.';
/** Mean luma change (0..1) below which a frame counts as unchanged and is not sent again. */
const CHANGE_THRESHOLD = 0.04;

/** Where continuous mode reads frames from (the camera view). */
export interface FrameSource {
  grab(): Promise<ImageBitmap | null>;
  signature(): Uint8Array | null;
}

class AssistantStore {
  phase = $state<'idle' | 'loading' | 'generating'>('idle');
  loadProgress = $state<LoadProgress | null>(null);
  prompt = $state('');
  answer = $state('');
  stats = $state.raw<GenerationStats | null>(null);
  ready = $state.raw<ReadyModel | null>(null);
  error = $state<UserError | null>(null);
  /** Information that is not an error, e.g. "WebGPU failed, now on WASM". */
  notice = $state<string | null>(null);
  history = $state.raw<Observation[]>([]);
  /** Rows removed by the last "clear", until undone or replaced. */
  cleared = $state.raw<Observation[] | null>(null);
  continuous = $state(false);
  /** Frames continuous mode skipped because the scene had not changed. */
  skippedFrames = $state(0);
  /** Told every finished answer (the task tracker treats them as observations of the scene). */
  onAnswer: ((text: string) => void) | null = null;
  #abort: AbortController | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #lastSignature: Uint8Array | null = null;

  busy = $derived(this.phase !== 'idle');

  constructor() {
    onBackendFallback((reason) => {
      this.notice = reason;
      this.ready = null;
    });
  }

  async loadHistory(): Promise<void> {
    this.history = await recentObservations();
  }

  /** Loads the chosen model if needed, then streams the answer about `frame` (which it consumes). */
  async ask(frame: ImageBitmap, prompt: string, source: 'camera' | 'upload' | 'continuous'): Promise<boolean> {
    if (this.busy || !modelsStore.visionModel) {
      frame.close();
      return false;
    }
    this.error = null;
    try {
      const stats = await this.#withModel(async (ready, signal) => {
        this.prompt = prompt;
        this.answer = '';
        this.stats = null;
        return (this.stats = await ask(ready, { frame, prompt, source }, (token) => (this.answer += token), signal));
      });
      this.onAnswer?.(stats.text);
      await this.loadHistory();
      return true;
    } catch (error) {
      frame.close();
      this.error = handleError(error);
      return false;
    }
  }

  /** Whether a vision-language model is chosen and installed, so questions can be answered. */
  get canAnswer(): boolean {
    const model = modelsStore.visionModel;
    return !!model && modelsStore.isInstalled(model.id);
  }

  /**
   * Streams an answer that is not an observation (over passages, or a task question the
   * templates were unsure of) through `onToken`, with the same model, one generation at a time.
   * Failures are thrown to the caller, whose page shows them.
   */
  async compose(prompt: string, frame: ImageBitmap | null, onToken: (text: string) => void): Promise<GenerationStats> {
    try {
      if (this.busy) {
        throw new Error('The assistant is still answering another question; try again when it has finished.');
      }
      return await this.#withModel((_, signal) => compose(prompt, frame, onToken, signal));
    } catch (error) {
      frame?.close();
      throw error;
    }
  }

  /** Loads the model if needed and runs `work` with it; one at a time, stoppable with `stop()`. */
  async #withModel<T>(work: (ready: ReadyModel, signal: AbortSignal) => Promise<T>): Promise<T> {
    const model = modelsStore.visionModel;
    if (!model) {
      throw new ModelNotInstalledError('Choose a vision-language model first: it writes the answers on this device.');
    }
    this.#abort = new AbortController();
    try {
      const ready = await this.#ensureReady(model);
      this.phase = 'generating';
      return await work(ready, this.#abort.signal);
    } catch (error) {
      if (error instanceof Error && (error.name === 'DeviceLostError' || error.name === 'WorkerCrashError')) {
        this.ready = null;
      }
      throw error;
    } finally {
      this.phase = 'idle';
      this.loadProgress = null;
      this.#abort = null;
    }
  }

  stop(): void {
    this.#abort?.abort();
  }

  /**
   * Describes the scene every `intervalS` seconds. The loop reschedules itself only after the
   * previous answer finished, so two requests are never in flight.
   */
  startContinuous(source: FrameSource, intervalS: number): void {
    this.continuous = true;
    this.skippedFrames = 0;
    this.#lastSignature = null;
    void this.#tick(source, intervalS * 1000);
  }

  stopContinuous(): void {
    this.continuous = false;
    clearTimeout(this.#timer);
  }

  async #tick(source: FrameSource, intervalMs: number): Promise<void> {
    if (!this.continuous) {
      return;
    }
    const signature = source.signature();
    const changed =
      !signature || !this.#lastSignature || frameDifference(signature, this.#lastSignature) > CHANGE_THRESHOLD;
    if (!changed) {
      this.skippedFrames += 1;
    } else if (!this.busy) {
      const frame = await source.grab();
      if (frame && (await this.ask(frame, CONTINUOUS_PROMPT, 'continuous'))) {
        this.#lastSignature = signature;
      } else if (this.error) {
        this.stopContinuous();
      }
    }
    if (this.continuous) {
      this.#timer = setTimeout(() => void this.#tick(source, intervalMs), intervalMs);
    }
  }

  async clearHistory(): Promise<void> {
    this.cleared = await clearObservations();
    this.history = [];
  }

  async undoClear(): Promise<void> {
    if (this.cleared) {
      await restoreObservations(this.cleared);
      this.cleared = null;
      await this.loadHistory();
    }
  }

  /** Cheap when the model is still in the worker; reloads it after an idle stop or a crash. */
  async #ensureReady(model: ModelEntry): Promise<ReadyModel> {
    this.phase = 'loading';
    this.ready = await prepareModel(model, modelsStore.settings, (p) => (this.loadProgress = p));
    return this.ready;
  }
}

export const assistantStore = new AssistantStore();
