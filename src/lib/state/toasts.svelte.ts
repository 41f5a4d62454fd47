/**
 * Short notices shown where the user is (the toast region above the navigation), not at the top of
 * a long page: "Document removed · Undo". One queue for the whole app; any store or page adds to it.
 */
export interface ToastAction {
  label: string;
  run: () => unknown;
}

export interface Toast {
  id: number;
  message: string;
  action?: ToastAction;
  tone: 'info' | 'error';
}

/** Long enough to read a sentence and reach the Undo button; paused while pointed at or focused. */
export const TOAST_MS = 8_000;
/** More than this at once is noise: the oldest gives way. */
export const MAX_TOASTS = 3;

/** A toast's own countdown: each one gets its full time, however many came before it. */
interface Countdown {
  left: number;
  startedAt: number;
  timer?: ReturnType<typeof setTimeout>;
}

class ToastStore {
  #items = $state.raw<Toast[]>([]);
  #nextId = 1;
  #paused = false;
  readonly #countdowns = new Map<number, Countdown>();

  get items(): readonly Toast[] {
    return this.#items;
  }

  /** Shows a notice; returns its id, for {@link dismiss}. */
  show(message: string, options: { action?: ToastAction; tone?: Toast['tone'] } = {}): number {
    const toast: Toast = { id: this.#nextId++, message, action: options.action, tone: options.tone ?? 'info' };
    const kept = [...this.#items, toast];
    for (const dropped of kept.splice(0, kept.length - MAX_TOASTS)) {
      this.#stop(dropped.id);
    }
    this.#items = kept;
    this.#countdowns.set(toast.id, { left: TOAST_MS, startedAt: Date.now() });
    if (!this.#paused) {
      this.#run(toast.id);
    }
    return toast.id;
  }

  dismiss(id: number): void {
    this.#stop(id);
    this.#items = this.#items.filter((toast) => toast.id !== id);
    // Nothing left to point at or focus, so nothing can be holding the (empty) region.
    if (this.#items.length === 0) {
      this.#paused = false;
    }
  }

  /** Runs a toast's action once and removes the toast (an Undo must not be pressed twice). */
  async act(id: number): Promise<void> {
    const toast = this.#items.find((item) => item.id === id);
    this.dismiss(id);
    await toast?.action?.run();
  }

  /** Stops every countdown while the user reads or reaches for a toast. */
  pause(): void {
    if (this.#paused) {
      return;
    }
    this.#paused = true;
    const now = Date.now();
    for (const countdown of this.#countdowns.values()) {
      clearTimeout(countdown.timer);
      countdown.timer = undefined;
      countdown.left -= now - countdown.startedAt;
    }
  }

  /** Carries on each countdown from where {@link pause} stopped it. */
  resume(): void {
    if (!this.#paused) {
      return;
    }
    this.#paused = false;
    for (const id of this.#countdowns.keys()) {
      this.#run(id);
    }
  }

  #run(id: number): void {
    const countdown = this.#countdowns.get(id)!;
    countdown.startedAt = Date.now();
    countdown.timer = setTimeout(() => this.dismiss(id), Math.max(0, countdown.left));
  }

  #stop(id: number): void {
    clearTimeout(this.#countdowns.get(id)?.timer);
    this.#countdowns.delete(id);
  }
}

export const toasts = new ToastStore();
