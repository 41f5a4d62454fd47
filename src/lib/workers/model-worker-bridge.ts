import { proxy, type Remote } from 'comlink';
import type { LoadProgress } from '#lib/core/engine-types.ts';
import { DeviceLostError, ModelLoadError, WorkerCrashError } from '#lib/core/errors.ts';
import type { ModelLoadRequest } from '#lib/core/model-load-request.ts';
import { WorkerHandle, type WorkerFactory } from './worker-handle.ts';

/** What every model worker exposes for loading; the rest of its API is its own. */
export interface ModelWorkerApi<Request extends ModelLoadRequest, Loaded extends { loadMs: number }> {
  load(
    request: Request,
    onProgress: (progress: LoadProgress) => void,
    onDeviceLost: (message: string) => void
  ): Promise<Loaded>;
}

export interface BridgeEvents {
  /** The GPU was lost or WebGPU failed; the bridge moved to WASM. */
  onFallback?: (reason: string) => void;
}

export interface BridgeOptions {
  factory?: WorkerFactory;
  idleMs?: number;
  events?: BridgeEvents;
}

/**
 * Owns one model worker: starts it lazily, stops it when idle, and replaces it whenever its
 * runtime may be poisoned (a failed load, a lost GPU device, a crash). Never retries in place.
 * Subclasses add the worker's own calls through `run()`.
 */
export class ModelWorkerBridge<
  Request extends ModelLoadRequest,
  Loaded extends { loadMs: number },
  Api extends ModelWorkerApi<Request, Loaded>
> {
  #worker: WorkerHandle<Api>;
  #loaded: Request | null = null;
  #events: BridgeEvents;

  constructor(factory: WorkerFactory, options: Omit<BridgeOptions, 'factory'> = {}) {
    this.#worker = new WorkerHandle<Api>(factory, {
      name: 'model',
      idleMs: options.idleMs ?? 5 * 60_000,
      // Whatever ended the worker took its model with it.
      onStop: () => (this.#loaded = null)
    });
    this.#events = options.events ?? {};
  }

  /** The load request of the model in the worker now, if any. */
  get loaded(): Request | null {
    return this.#loaded;
  }

  /**
   * Loads `request` in a worker. A WebGPU failure respawns the worker and retries once on
   * `wasmFallback` (when given), reporting why through `onFallback`.
   */
  async load(
    request: Request,
    onProgress: (progress: LoadProgress) => void,
    wasmFallback?: Request
  ): Promise<Loaded & { request: Request }> {
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

  async #loadIn(request: Request, onProgress: (progress: LoadProgress) => void): Promise<Loaded> {
    // A fresh worker per load: an earlier failed session may have poisoned the old one.
    this.#worker.stop();
    const progress = proxy(onProgress);
    const lost = proxy((message: string) => this.#onDeviceLost(message));
    try {
      // Comlink's Remote<Api> cannot be narrowed for a generic Api; the load signature is fixed above.
      const result = await this.#worker.call((remote) =>
        (remote as unknown as ModelWorkerApi<Request, Loaded>).load(request, progress, lost)
      );
      this.#loaded = request;
      return result;
    } catch (error) {
      this.#worker.stop();
      throw error;
    }
  }

  /**
   * Runs `use` against the loaded worker: a lost GPU or a crash replaces the worker (and tells
   * the user); the idle timer restarts afterwards. `notLoaded` frees what `use` would have taken.
   */
  protected async run<T>(use: (remote: Remote<Api>) => Promise<T>, notLoaded?: () => void): Promise<T> {
    if (!this.#worker.running || !this.#loaded) {
      notLoaded?.();
      throw new ModelLoadError('No model is loaded');
    }
    try {
      return await this.#worker.call(use);
    } catch (error) {
      if (error instanceof DeviceLostError) {
        this.#onDeviceLost(error.message);
      }
      throw error;
    }
  }

  /** Stops the worker and forgets the model (frees its memory). */
  dispose(): void {
    this.#worker.stop();
  }

  #onDeviceLost(message: string): void {
    if (!this.#worker.running) {
      return;
    }
    this.#worker.stop(new DeviceLostError(`The GPU was lost (${message}).`));
    this.#events.onFallback?.(`The GPU was lost (${message}). The model will be reloaded on WASM.`);
  }
}
