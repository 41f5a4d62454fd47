import { expect, test } from '@playwright/test';
import { chromiumArgs, findChromium } from '../../scripts/chromium.ts';
import { askAndExpectStream, installTestModel, pngBytes } from './helpers.ts';

// Its own Chromium without --enable-unsafe-webgpu: a browser that has no WebGPU adapter.
test.use({
  launchOptions: {
    executablePath: findChromium(),
    args: chromiumArgs.filter((arg) => arg !== '--enable-unsafe-webgpu')
  }
});

test('without WebGPU: the WASM variant is chosen, the page explains it, and answers still stream', async ({ page }) => {
  // Counts the app's requests for persistent storage (the browser may or may not grant them).
  await page.addInitScript(() => {
    const calls = { count: 0 };
    (window as unknown as { persistCalls: typeof calls }).persistCalls = calls;
    const persist = navigator.storage.persist.bind(navigator.storage);
    navigator.storage.persist = () => {
      calls.count += 1;
      return persist();
    };
  });
  await installTestModel(page);
  const persistCalls = await page.evaluate(
    () => (window as unknown as { persistCalls: { count: number } }).persistCalls
  );
  expect(persistCalls.count, 'the first install asks to keep storage').toBeGreaterThan(0);
  const card = page.getByTestId('model-tiny-smolvlm');
  await expect(card).toContainText('For this device: wasm-fp32');
  await expect(card).toContainText('webgpu-fp32 skipped: WebGPU is not available');

  await page.goto('/');
  await expect(page.getByRole('note')).toContainText('WebGPU is not available in this browser');
  // This browser has no camera either: the page offers the upload instead.
  await page.getByRole('alert').getByRole('button', { name: 'Upload an image' }).click();
  await page
    .getByTestId('image-input')
    .setInputFiles({ name: 'frame.png', mimeType: 'image/png', buffer: Buffer.from(await pngBytes(page)) });
  await askAndExpectStream(page, 'WASM (CPU)', { needsCamera: false });
});
