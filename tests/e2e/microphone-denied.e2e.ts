import { expect, test } from '@playwright/test';
import { chromiumArgs, findChromium } from '../../scripts/chromium.ts';

// Its own Chromium: a fake microphone exists, but nothing answers the permission prompt (a refusal).
test.use({
  permissions: [],
  launchOptions: { executablePath: findChromium(), args: [...chromiumArgs, '--use-fake-device-for-media-stream'] }
});

test('microphone access denied: says so, offers the file instead, and records nothing', async ({ page }) => {
  await page.goto('/classroom');
  // The page has started (its history read): the form's fields are live.
  await expect(page.getByText('No readings yet.')).toBeVisible();
  await page.getByLabel('Learner').fill('Dara');
  await page.getByRole('button', { name: 'Record', exact: true }).click();
  await expect(page.getByRole('alert')).toContainText(
    'Microphone access was denied. Allow it in the browser settings, or choose a recording file instead.'
  );
  await expect(page.getByRole('button', { name: 'Record', exact: true })).toBeEnabled();
  await expect(page.getByLabel('Choose a recording')).toBeEnabled();
  await expect(page.getByText('No readings yet.')).toBeVisible();
});
