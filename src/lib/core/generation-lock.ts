import { abortError, EngineBusyError } from './errors.ts';

export type Release = () => void;

/**
 * One generation at a time on the device: a phone has the memory and the GPU for one answer,
 * and two decoders sharing them would both crawl. A caller either fails fast (the camera
 * assistant, whose user sees it is busy) or waits its turn in order, which an abort cancels.
 * Each caller may say who it is (`holder`), so the app can tell the user what keeps the engine
 * busy and offer to stop it.
 */
export class GenerationLock<Holder = unknown> {
  #holder: Holder | null = null;
  #held = false;
  #waiting: { holder: Holder | null; grant: (release: Release) => void }[] = [];

  get held(): boolean {
    return this.#held;
  }

  /** Who holds the lock now, as it said when it took it; null when free or when it said nothing. */
  get holder(): Holder | null {
    return this.#holder;
  }

  /** Callers waiting their turn (not counting the one that holds the lock). */
  get waiting(): number {
    return this.#waiting.length;
  }

  /**
   * Takes the lock; resolves with the function that gives it back (call it once, in `finally`).
   * Held by someone else: rejects with EngineBusyError, or with `wait` queues until its turn.
   */
  acquire(
    options: { wait?: boolean; signal?: AbortSignal; busyMessage?: string; holder?: Holder } = {}
  ): Promise<Release> {
    const { wait = false, signal } = options;
    const holder = options.holder ?? null;
    if (signal?.aborted) {
      return Promise.reject(abortError());
    }
    if (!this.#held) {
      this.#held = true;
      this.#holder = holder;
      return Promise.resolve(this.#releaser());
    }
    if (!wait) {
      return Promise.reject(
        new EngineBusyError(
          options.busyMessage ?? 'The device is still writing another answer; try again when it has finished.'
        )
      );
    }
    return new Promise<Release>((resolve, reject) => {
      const entry = {
        holder,
        grant: (release: Release) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(release);
        }
      };
      const onAbort = () => {
        this.#waiting = this.#waiting.filter((e) => e !== entry);
        reject(abortError());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiting.push(entry);
    });
  }

  #releaser(): Release {
    let released = false;
    return () => {
      if (released) {
        return;
      }
      released = true;
      const next = this.#waiting.shift();
      this.#holder = next?.holder ?? null;
      if (next) {
        next.grant(this.#releaser());
      } else {
        this.#held = false;
      }
    };
  }
}
