import { expect, test } from '@playwright/test';
import { chromiumArgs, findChromium } from '../../scripts/chromium.ts';

// Its own Chromium: permission granted, but no camera device at all (a desktop without one).
test.use({
  launchOptions: { executablePath: findChromium(), args: [...chromiumArgs, '--use-fake-ui-for-media-stream'] }
});

test('no camera on the device: says so and offers an upload instead', async ({ page }) => {
  await page.goto('/');
  const alert = page.getByRole('alert');
  await expect(alert).toContainText('No camera was found');
  await expect(alert.getByRole('button', { name: 'Upload an image' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Try camera again' })).toBeVisible();
});
