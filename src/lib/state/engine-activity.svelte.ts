import { appEvents, type EngineStatus } from '#lib/services/app-events.ts';
import { engineHolder, engineStatus, stopEngine } from '#lib/services/engine.service.ts';

/**
 * What keeps the device's text engine busy, for every page: the camera, knowledge answers and the
 * task guide share it, so a button that waits on one of them can say which, and offer to stop it.
 */
class EngineActivityStore {
  #status = $state.raw<EngineStatus>(engineStatus());
  #holder = $state.raw(engineHolder());

  constructor() {
    appEvents.on('engine:status', (status) => {
      this.#status = status;
      this.#holder = engineHolder();
    });
  }

  /**
   * Who is using the engine and with which model, and whether the model is still loading; null
   * when the engine is free.
   */
  get current(): { label: string; modelName: string; loading: boolean } | null {
    const holder = this.#holder;
    return holder && this.#status.phase !== 'idle' ? { ...holder, loading: this.#status.phase === 'loading' } : null;
  }

  /** Stops whoever holds the engine; what it wrote so far stays theirs. */
  stop(): void {
    stopEngine();
  }
}

export const engineActivity = new EngineActivityStore();
