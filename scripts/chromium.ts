import { existsSync } from 'node:fs';
import { chromium } from 'playwright';

/**
 * Flags every test browser needs here: closed network, root user, WebGPU on SwiftShader. The GPU
 * tests crash the GPU process on purpose; without the domain-blocking opt-out Chromium would then
 * refuse WebGPU to every later test on the same origin.
 */
export const chromiumArgs = [
  '--no-sandbox',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--enable-unsafe-webgpu',
  '--disable-domain-blocking-for-3d-apis'
];

/**
 * Playwright's own browser if it was installed, else Debian's `chromium`, else CHROMIUM_PATH.
 * Playwright cannot download its browser on machines without internet, hence the fallbacks.
 */
export function findChromium(): string {
  const candidates = [safePlaywrightPath(), '/usr/bin/chromium', process.env.CHROMIUM_PATH];
  const found = candidates.find((path): path is string => !!path && existsSync(path));
  if (!found) {
    throw new Error(
      'No Chromium found. Install one with `sudo apt-get install chromium` (Debian/Ubuntu) or ' +
        '`npx playwright install chromium`, or set CHROMIUM_PATH to a Chromium/Chrome binary.'
    );
  }
  return found;
}

function safePlaywrightPath(): string | undefined {
  try {
    return chromium.executablePath();
  } catch {
    return undefined;
  }
}
