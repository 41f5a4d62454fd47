/**
 * Whether the browser believes it is online (`navigator.onLine` and its events). "Offline" is
 * certain; "online" only means a network exists, so downloads still report their own failures.
 * While prerendering there is no browser: online (Node has a `navigator`, but without `onLine`,
 * and a page prerendered as offline would show the notice until the app starts).
 */
class Connectivity {
  #online = $state(typeof window === 'undefined' ? true : navigator.onLine);

  constructor() {
    if (typeof window !== 'undefined') {
      window.addEventListener('online', () => (this.#online = true));
      window.addEventListener('offline', () => (this.#online = false));
    }
  }

  get online(): boolean {
    return this.#online;
  }
}

export const connectivity = new Connectivity();
