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
const MAX_TOASTS = 3;

class ToastStore {
  #items = $state.raw<Toast[]>([]);
  #nextId = 1;

  get items(): readonly Toast[] {
    return this.#items;
  }

  /** Shows a notice; returns its id, for {@link dismiss}. */
  show(message: string, options: { action?: ToastAction; tone?: Toast['tone'] } = {}): number {
    const toast: Toast = { id: this.#nextId++, message, action: options.action, tone: options.tone ?? 'info' };
    this.#items = [...this.#items, toast].slice(-MAX_TOASTS);
    return toast.id;
  }

  dismiss(id: number): void {
    this.#items = this.#items.filter((toast) => toast.id !== id);
  }

  /** Runs a toast's action once and removes the toast (an Undo must not be pressed twice). */
  async act(id: number): Promise<void> {
    const toast = this.#items.find((item) => item.id === id);
    this.dismiss(id);
    await toast?.action?.run();
  }
}

export const toasts = new ToastStore();
