import { Workbox } from 'workbox-window';

const UPDATE_CHECK_MS = 60 * 60_000;

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
  // Installed PWAs can stay open for days: look for a new version every hour, not only on navigation.
  setInterval(() => void wb.update(), UPDATE_CHECK_MS);
}
