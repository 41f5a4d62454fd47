import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';

// The E2E server serves build/ from disk, so changing the built service worker is a new deploy
// as far as the browser can tell (it compares the script byte for byte).
// The build being served: a copy when E2E_STATIC_DIR says so (runs side by side).
const SERVICE_WORKER = `${process.env.E2E_STATIC_DIR ?? 'build'}/service-worker.js`;

test('a new version waiting is announced, and "Reload to update" switches to it', async ({ page }) => {
  const original = readFileSync(SERVICE_WORKER);
  try {
    await page.goto('/');
    await page.evaluate(async () => {
      await navigator.serviceWorker.ready;
    });
    const prompt = page.getByRole('status').filter({ hasText: 'A new version of Vision Hub is ready.' });
    await expect(prompt).toHaveCount(0);

    appendFileSync(SERVICE_WORKER, `\n// deploy ${Date.now()}\n`);
    await page.evaluate(async () => {
      await (await navigator.serviceWorker.getRegistration())?.update();
    });
    await expect(prompt).toBeVisible();

    await Promise.all([page.waitForEvent('load'), prompt.getByRole('button', { name: 'Reload to update' }).click()]);
    await expect(prompt).toHaveCount(0);
    const state = await page.evaluate(async () => {
      const registration = await navigator.serviceWorker.getRegistration();
      return { waiting: !!registration?.waiting, controlled: !!navigator.serviceWorker.controller };
    });
    expect(state).toEqual({ waiting: false, controlled: true });
  } finally {
    writeFileSync(SERVICE_WORKER, original);
  }
});
