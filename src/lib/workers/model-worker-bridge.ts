import { proxy, releaseProxy, wrap, type Remote } from 'comlink';
import { DeviceLostError, ModelLoadError, reviveError, WorkerCrashError } from '#lib/core/errors.ts';
import type { ModelLoadRequest } from '#lib/core/model-load-request.ts';
import type { LoadProgress } from '#lib/core/vlm-types.ts';

export type WorkerFactory = () => Worker;

/** What every model worker exposes for loading; the rest of its API is its own. */
export interface ModelWorkerApi<Request extends ModelLoadRequest, Loaded extends { loadMs: number }> {
  load(
    request: Request,
    onProgress: (progress: LoadProgress) => void,
    onDeviceLost: (message: string) => void
  ): Promise<Loaded>;
}

interface Running<Api> {
  worker: Worker;
  remote: Remote<Api>;
  /** Rejects when the worker dies or is stopped, so no call waits forever on a dead worker. */
  ended: Promise<never>;
  end: (reason: Error) => void;
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
  #factory: WorkerFactory;
  #running: Running<Api> | null = null;
  #loaded: Request | null = null;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  #idleMs: number;
  #events: BridgeEvents;

  constructor(factory: WorkerFactory, options: Omit<BridgeOptions, 'factory'> = {}) {
    this.#factory = factory;
    this.#idleMs = options.idleMs ?? 5 * 60_000;
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
    this.#stop();
    const running = this.#start();
    const progress = proxy(onProgress);
    const lost = proxy((message: string) => this.#onDeviceLost(message));
    try {
      // Comlink's Remote<Api> cannot be narrowed for a generic Api; the load signature is fixed above.
      const remote = running.remote as unknown as ModelWorkerApi<Request, Loaded>;
      const result = await this.#call(running, remote.load(request, progress, lost));
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
   * Runs `use` against the loaded worker: a lost GPU or a crash replaces the worker (and tells
   * the user); the idle timer restarts afterwards. `notLoaded` frees what `use` would have taken.
   */
  protected async run<T>(use: (remote: Remote<Api>) => Promise<T>, notLoaded?: () => void): Promise<T> {
    const running = this.#running;
    if (!running || !this.#loaded) {
      notLoaded?.();
      throw new ModelLoadError('No model is loaded');
    }
    clearTimeout(this.#idleTimer);
    try {
      return await this.#call(running, use(running.remote));
    } catch (error) {
      if (error instanceof DeviceLostError) {
        this.#onDeviceLost(error.message);
      } else if (error instanceof WorkerCrashError) {
        this.#stop(error);
      }
      throw error;
    } finally {
      this.#armIdle();
    }
  }

  /** Stops the worker and forgets the model (frees its memory). */
  dispose(): void {
    this.#stop();
  }

  #start(): Running<Api> {
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
    this.#running = { worker, remote: wrap<Api>(worker), ended, end };
    return this.#running;
  }

  async #call<T>(running: Running<Api>, call: Promise<T>): Promise<T> {
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
