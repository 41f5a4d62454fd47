/**
 * Whether the browser believes it is online (`navigator.onLine` and its events). "Offline" is
 * certain; "online" only means a network exists, so downloads still report their own failures.
 */
class Connectivity {
  #online = $state(true);
  #watching = false;

  get online(): boolean {
    this.#watch();
    return this.#online;
  }

  #watch(): void {
    if (this.#watching || typeof window === 'undefined') {
      return;
    }
    this.#watching = true;
    this.#online = navigator.onLine;
    window.addEventListener('online', () => (this.#online = true));
    window.addEventListener('offline', () => (this.#online = false));
  }
}

export const connectivity = new Connectivity();
