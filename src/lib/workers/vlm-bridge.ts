import { proxy, releaseProxy, transfer, wrap, type Remote } from 'comlink';
import { DeviceLostError, ModelLoadError, reviveError, WorkerCrashError } from '#lib/core/errors.ts';
import type { GenerateOptions, GenerationStats, LoadProgress, VlmFrame, VlmLoadRequest } from '#lib/core/vlm-types.ts';
import type { VlmWorkerApi } from '../../../workers/vlm.worker.ts';

export type WorkerFactory = () => Worker;

const defaultFactory: WorkerFactory = () =>
  new Worker(new URL('../../../workers/vlm.worker.ts', import.meta.url), { type: 'module', name: 'vlm' });

interface Running {
  worker: Worker;
  remote: Remote<VlmWorkerApi>;
  /** Rejects when the worker dies or is stopped, so no call waits forever on a dead worker. */
  ended: Promise<never>;
  end: (reason: Error) => void;
}

export interface BridgeEvents {
  /** The GPU was lost or WebGPU failed; the bridge moved to WASM. */
  onFallback?: (reason: string) => void;
}

/**
 * Owns the VLM worker: starts it lazily, stops it when idle, and replaces it whenever its
 * runtime may be poisoned (a failed load, a lost GPU device, a crash). Never retries in place.
 */
export class VlmBridge {
  #factory: WorkerFactory;
  #running: Running | null = null;
  #loaded: VlmLoadRequest | null = null;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  #idleMs: number;
  #events: BridgeEvents;

  constructor(options: { factory?: WorkerFactory; idleMs?: number; events?: BridgeEvents } = {}) {
    this.#factory = options.factory ?? defaultFactory;
    this.#idleMs = options.idleMs ?? 5 * 60_000;
    this.#events = options.events ?? {};
  }

  /** The load request of the model in the worker now, if any. */
  get loaded(): VlmLoadRequest | null {
    return this.#loaded;
  }

  /**
   * Loads `request` in a worker. A WebGPU failure respawns the worker and retries once on
   * `wasmFallback` (when given), reporting why through `onFallback`.
   */
  async load(
    request: VlmLoadRequest,
    onProgress: (progress: LoadProgress) => void,
    wasmFallback?: VlmLoadRequest
  ): Promise<{ loadMs: number; request: VlmLoadRequest }> {
    try {
      return { ...(await this.#loadIn(request, onProgress)), request };
    } catch (error) {
      if (request.device !== 'webgpu' || !wasmFallback || error instanceof WorkerCrashError) {
        throw error;
      }
      this.#events.onFallback?.(
        `WebGPU could not load the model (${error instanceof Error ? error.message : String(error)}); using WASM instead.`
      );
      return { ...(await this.#loadIn(wasmFallback, onProgress)), request: wasmFallback };
    }
  }

  async #loadIn(request: VlmLoadRequest, onProgress: (progress: LoadProgress) => void): Promise<{ loadMs: number }> {
    // A fresh worker per load: an earlier failed session may have poisoned the old one.
    this.#stop();
    const running = this.#start();
    const progress = proxy(onProgress);
    const lost = proxy((message: string) => this.#onDeviceLost(message));
    try {
      const result = await this.#call(running, running.remote.load(request, progress, lost));
      this.#loaded = request;
      return result;
    } catch (error) {
      this.#stop();
      throw error;
    } finally {
      this.#armIdle();
    }
  }

  /**
   * Streams an answer. `frame` is transferred to the worker (and closed there). An abort
   * signal stops decoding after the current token; the partial answer is still returned.
   */
  async generate(
    frame: VlmFrame,
    prompt: string,
    options: GenerateOptions,
    onToken: (text: string) => void,
    signal?: AbortSignal
  ): Promise<GenerationStats> {
    const running = this.#running;
    if (!running || !this.#loaded) {
      frame.close();
      throw new ModelLoadError('No model is loaded');
    }
    clearTimeout(this.#idleTimer);
    const tokenProxy = proxy(onToken);
    const abort = () => void running.remote.abort();
    signal?.addEventListener('abort', abort, { once: true });
    try {
      return await this.#call(running, running.remote.generate(transfer(frame, [frame]), prompt, options, tokenProxy));
    } catch (error) {
      if (error instanceof DeviceLostError) {
        this.#onDeviceLost(error.message);
      } else if (error instanceof WorkerCrashError) {
        this.#stop(error);
      }
      throw error;
    } finally {
      signal?.removeEventListener('abort', abort);
      this.#armIdle();
    }
  }

  /** Frame hand-off only: transfer, scale and preprocess, without running the model. */
  async preprocess(frame: VlmFrame): Promise<{ ms: number; shape: number[] }> {
    const running = this.#running;
    if (!running || !this.#loaded) {
      frame.close();
      throw new ModelLoadError('No model is loaded');
    }
    return this.#call(running, running.remote.preprocess(transfer(frame, [frame])));
  }

  /** Stops the worker and forgets the model (frees its memory). */
  dispose(): void {
    this.#stop();
  }

  #start(): Running {
    const worker = this.#factory();
    let end: (reason: Error) => void = () => undefined;
    const ended = new Promise<never>((_, reject) => (end = reject));
    ended.catch(() => undefined);
    worker.addEventListener('error', (event) => {
      event.preventDefault();
      const crash = new WorkerCrashError(`The model worker crashed: ${event.message || 'unknown error'}`);
      if (this.#running?.worker === worker) {
        this.#stop(crash);
      }
      end(crash);
    });
    this.#running = { worker, remote: wrap<VlmWorkerApi>(worker), ended, end };
    return this.#running;
  }

  async #call<T>(running: Running, call: Promise<T>): Promise<T> {
    try {
      return await Promise.race([call, running.ended]);
    } catch (error) {
      throw reviveError(error);
    }
  }

  #onDeviceLost(message: string): void {
    if (!this.#running) {
      return;
    }
    this.#stop(new DeviceLostError(`The GPU was lost (${message}).`));
    this.#events.onFallback?.(`The GPU was lost (${message}). The model will be reloaded on WASM.`);
  }

  /** Terminates the worker; calls still waiting on it reject with `reason`. */
  #stop(reason: Error = new WorkerCrashError('The model worker was stopped')): void {
    clearTimeout(this.#idleTimer);
    if (this.#running) {
      this.#running.end(reason);
      this.#running.remote[releaseProxy]();
      this.#running.worker.terminate();
    }
    this.#running = null;
    this.#loaded = null;
  }

  #armIdle(): void {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => this.#stop(), this.#idleMs);
  }
}
