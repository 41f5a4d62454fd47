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

test('no camera on a phone: says so without moving the page, which keeps to the screen width', async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  // Every layout shift from the start, as Lighthouse's CLS counts them (none follows an input here).
  await page.addInitScript(() => {
    const w = window as unknown as { shifts: number };
    w.shifts = 0;
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries() as unknown as { value: number; hadRecentInput: boolean }[]) {
        w.shifts += entry.hadRecentInput ? 0 : entry.value;
      }
    }).observe({ type: 'layout-shift', buffered: true });
  });
  await page.goto('/');
  // The answer sheet stays closed; its one-line summary says it (and is announced).
  const sheet = page.getByRole('region', { name: 'Answer and questions' });
  await expect(sheet.getByRole('alert').first()).toContainText('No camera was found');
  await expect(page.getByRole('button', { name: 'Try camera again' })).toBeVisible();
  const measured = await page.evaluate(() => ({
    shifts: (window as unknown as { shifts: number }).shifts,
    page: document.documentElement.scrollWidth,
    screen: document.documentElement.clientWidth
  }));
  expect(measured.page).toBeLessThanOrEqual(measured.screen);
  expect(measured.shifts).toBeLessThan(0.02);
  // Opened by the user, it offers the upload.
  await sheet.getByRole('button', { name: 'Show more' }).click();
  await expect(sheet.getByRole('button', { name: 'Upload image' })).toBeInViewport();
});

for (const colorScheme of ['light', 'dark'] as const) {
  test(`"Try camera again" on the black camera box is readable in ${colorScheme} mode`, async ({ page }) => {
    await page.emulateMedia({ colorScheme });
    await page.goto('/');
    const retry = page.getByRole('button', { name: 'Try camera again' });
    await expect(retry).toBeVisible();
    // The button's text against its background laid over the black box, by WCAG's contrast ratio.
    const ratio = await retry.evaluate((button) => {
      const rgba = (css: string) => (css.match(/[\d.]+/g) ?? []).map(Number);
      const [r, g, b, a = 1] = rgba(getComputedStyle(button).backgroundColor);
      const background = [r!, g!, b!].map((c) => c * a);
      const text = rgba(getComputedStyle(button).color).slice(0, 3);
      const luminance = (rgb: number[]) => {
        const [lr, lg, lb] = rgb.map((c) => {
          const s = c / 255;
          return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
        });
        return 0.2126 * lr! + 0.7152 * lg! + 0.0722 * lb!;
      };
      const [light, dark] = [luminance(text), luminance(background)].sort((x, y) => y - x);
      return (light! + 0.05) / (dark! + 0.05);
    });
    expect(ratio).toBeGreaterThanOrEqual(4.5);
  });
}
