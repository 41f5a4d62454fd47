import { appEvents } from '#lib/services/app-events.ts';
import { handleError, type UserError } from '#lib/services/handle-error.ts';

/**
 * The error a store shows, with one rule for every store: a user action clears the message it may
 * be repeating, and only a failure sets one. A failure that another action reported while this
 * one ran stays: an action that worked says nothing about a different one that did not.
 */
export class ErrorSlot {
  #current = $state<UserError | null>(null);

  /** `where` names the part of the app in the error log ("Camera", "Knowledge"). */
  constructor(readonly where: string) {}

  get current(): UserError | null {
    return this.#current;
  }

  /** Runs a user action; returns whether it worked (an abort is quiet, and counts as not worked). */
  async run(work: () => Promise<unknown>): Promise<boolean> {
    this.#current = null;
    try {
      await work();
      return true;
    } catch (error) {
      this.report(error);
      return false;
    }
  }

  /** Shows a failure of background work, which must not clear what the user was told before. */
  report(error: unknown): void {
    const failure = handleError(error);
    if (failure) {
      this.#current = failure;
      appEvents.emit('app:error', { where: this.where, message: failure.message });
    }
  }

  /** Shows a problem the store found itself (no camera, no image yet). */
  show(error: UserError): void {
    this.#current = error;
  }

  dismiss(): void {
    this.#current = null;
  }
}
