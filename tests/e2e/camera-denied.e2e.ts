import { expect, test } from '@playwright/test';
import { chromiumArgs, findChromium } from '../../scripts/chromium.ts';

// Its own Chromium: a fake camera exists, but nothing answers the permission prompt (a refusal).
test.use({
  permissions: [],
  launchOptions: { executablePath: findChromium(), args: [...chromiumArgs, '--use-fake-device-for-media-stream'] }
});

test('camera access denied: says so and offers an upload instead', async ({ page }) => {
  await page.goto('/');
  const alert = page.getByRole('alert');
  await expect(alert).toContainText('Camera access was denied');
  await alert.getByRole('button', { name: 'Upload an image' }).click();
  await expect(page.getByRole('region', { name: 'Upload an image' })).toBeVisible();
});
