import { expect, test, type Locator } from '@playwright/test';
import { installTestModel } from './helpers.ts';

test.use({ viewport: { width: 390, height: 844 }, hasTouch: true });

const box = async (locator: Locator) => (await locator.boundingBox())!;

test('on a phone the camera fills the screen above the navigation, with its controls over it in thumb reach', async ({
  page
}) => {
  await page.goto('/');
  const video = page.getByLabel('Camera preview');
  const nav = page.getByRole('navigation');
  const starting = await box(video);
  await expect(page.getByRole('button', { name: 'Pause' })).toBeEnabled();
  // The space was kept for the camera before it started: nothing moved when it did.
  expect(await box(video)).toEqual(starting);

  const navTop = (await box(nav)).y;
  expect(starting.y).toBeLessThanOrEqual(1);
  expect(starting.width).toBe(390);
  expect(Math.abs(starting.y + starting.height - navTop)).toBeLessThanOrEqual(2);

  const shutter = page.getByRole('button', { name: 'Ask about this frame' });
  const shutterBox = await box(shutter);
  expect(shutterBox.width).toBeGreaterThanOrEqual(56);
  expect(shutterBox.y, 'in the lower third, where a thumb reaches').toBeGreaterThan(844 * 0.6);
  for (const name of ['Use an image', 'Snapshot', 'Pause', /^Describe every \d+ s$/]) {
    const control = await box(page.getByRole('button', { name }));
    expect(control.height).toBeGreaterThanOrEqual(44);
    expect(control.y + control.height).toBeLessThanOrEqual(navTop);
  }

  // Paused, the frozen frame says so.
  await page.getByRole('button', { name: 'Pause' }).click();
  await expect(page.getByRole('status').filter({ hasText: /^Paused$/ })).toBeVisible();
  await page.getByRole('button', { name: 'Resume' }).click();
  await expect(page.getByRole('status').filter({ hasText: /^Paused$/ })).toHaveCount(0);

  // The answer sheet starts as one line; its handle opens and closes it, by tap, key or drag.
  const sheet = page.getByRole('region', { name: 'Answer and questions' });
  const handle = sheet.getByRole('button', { name: /Show (more|less)/ });
  await expect(handle).toHaveAttribute('aria-expanded', 'false');
  await expect(sheet.getByLabel('Your question')).toBeHidden();
  await handle.focus();
  await page.keyboard.press('Enter');
  await expect(handle).toHaveAttribute('aria-expanded', 'true');
  await expect(sheet.getByLabel('Your question')).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(handle).toHaveAttribute('aria-expanded', 'false');
  const grip = await box(handle);
  await page.mouse.move(grip.x + grip.width / 2, grip.y + grip.height / 2);
  await page.mouse.down();
  await page.mouse.move(grip.x + grip.width / 2, grip.y - 200, { steps: 5 });
  await page.mouse.up();
  await expect(handle).toHaveAttribute('aria-expanded', 'true');
});

test('on a phone the shutter asks about the frame and the answer rises over the live camera', async ({ page }) => {
  await installTestModel(page, 'wasm-fp32');
  await page.goto('/');
  await expect(page.getByRole('button', { name: 'Pause' })).toBeEnabled();
  await page.getByRole('button', { name: 'Ask about this frame' }).click();

  const sheet = page.getByRole('region', { name: 'Answer and questions' });
  await expect(sheet.getByRole('button', { name: /Show (more|less)/ })).toHaveAttribute('aria-expanded', 'true');
  await expect(sheet.getByTestId('answer-stats')).toBeVisible();
  await expect(sheet.getByRole('group', { name: 'Quick questions' })).toBeVisible();
  // Camera and answer together: the upper part of the live view stays uncovered.
  const sheetTop = (await box(sheet)).y;
  expect(sheetTop).toBeGreaterThan(844 * 0.3);
  await expect(page.getByTestId('history').locator('li').first()).toContainText('What do you see?');

  // Read aloud is a choice that is kept.
  const readAloud = sheet.getByRole('switch', { name: 'Read answers aloud' });
  await expect(readAloud).not.toBeChecked();
  await readAloud.check();
  await page.reload();
  await page
    .getByRole('region', { name: 'Answer and questions' })
    .getByRole('button', { name: /Show more/ })
    .click();
  await expect(page.getByRole('switch', { name: 'Read answers aloud' })).toBeChecked();

  // With it on, how answers are read: the voice and the speed, kept too.
  const speed = page.getByRole('slider', { name: /^Speed/ });
  await expect(speed).toHaveValue('1');
  await expect(page.getByLabel('Voice')).toHaveValue('');
  await speed.fill('1.5');
  await expect(page.getByText('1.5×')).toBeVisible();
  await page.reload();
  await page
    .getByRole('region', { name: 'Answer and questions' })
    .getByRole('button', { name: /Show more/ })
    .click();
  await expect(page.getByRole('slider', { name: /^Speed/ })).toHaveValue('1.5');
});
