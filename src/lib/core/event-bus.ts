/**
 * A typed publish/subscribe hub for events that cross modules (a worker moved to WASM, an answer
 * finished, a search graph made progress). Every subscriber is kept — none replaces another — and
 * each gets a function that unsubscribes it. A throwing listener does not stop the others.
 */
export type Unsubscribe = () => void;

export class EventBus<Events extends { [K in keyof Events]: unknown }> {
  #listeners = new Map<keyof Events, Set<(payload: never) => void>>();

  on<K extends keyof Events>(type: K, listener: (payload: Events[K]) => void): Unsubscribe {
    let listeners = this.#listeners.get(type);
    if (!listeners) {
      listeners = new Set();
      this.#listeners.set(type, listeners);
    }
    // A listener added twice is two subscriptions; wrapping keeps each unsubscribe to its own.
    const entry = (payload: never) => listener(payload);
    listeners.add(entry);
    return () => void listeners.delete(entry);
  }

  emit<K extends keyof Events>(type: K, payload: Events[K]): void {
    for (const listener of [...(this.#listeners.get(type) ?? [])]) {
      try {
        (listener as (payload: Events[K]) => void)(payload);
      } catch (error) {
        // One broken subscriber must not silence the rest, nor fail the code that emitted.
        console.error(error);
      }
    }
  }
}
