import { Workbox } from 'workbox-window';

/**
 * Registers the service worker (SvelteKit builds it; workbox-window only drives the update
 * flow) and calls `onWaiting` when a new version is installed and waiting to take over.
 * Returns the function that activates it and reloads.
 */
export function registerServiceWorker(onWaiting: (activate: () => void) => void): void {
  if (!('serviceWorker' in navigator) || import.meta.env.DEV) {
    return;
  }
  const wb = new Workbox('/service-worker.js');
  wb.addEventListener('waiting', () => {
    onWaiting(() => {
      wb.addEventListener('controlling', () => location.reload());
      wb.messageSkipWaiting();
    });
  });
  void wb.register();
}
