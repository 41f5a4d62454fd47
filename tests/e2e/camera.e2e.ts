import { expect, test } from '@playwright/test';
import { askAndExpectStream, installTestModel, TEST_MODEL } from './helpers.ts';

test('before any install, the camera page offers to install a model', async ({ page }) => {
  await page.goto('/');
  const notice = page.getByRole('status').filter({ hasText: 'is not installed yet' });
  await expect(notice).toBeVisible();
  await notice.getByRole('link', { name: 'Install a model' }).click();
  await expect(page).toHaveURL(/\/models$/);
});

for (const [device, runOn] of [
  ['WebGPU', undefined],
  ['WASM (CPU)', 'wasm-fp32']
] as const) {
  test(`camera → streamed answer on ${device}, kept in history after reload`, async ({ page }) => {
    await installTestModel(page, runOn);
    await page.goto('/');
    const answer = await askAndExpectStream(page, device);

    await page.reload();
    const history = page.getByTestId('history');
    await expect(history.getByText('What do you see?')).toBeVisible();
    await expect(history.getByText(answer, { exact: false })).toBeVisible();
  });
}

test('after one online visit the app reloads, navigates and answers offline', async ({ page, context }) => {
  await installTestModel(page);
  await page.goto('/');
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
  });
  await askAndExpectStream(page, 'WebGPU');

  await context.setOffline(true);
  await page.reload();
  await expect(page.getByRole('heading', { name: 'Camera assistant' })).toBeVisible();
  await page.getByRole('link', { name: 'Models' }).click();
  await expect(page.getByTestId(`model-${TEST_MODEL}`).getByText('installed', { exact: true })).toBeVisible();
  await page.getByRole('link', { name: 'Camera' }).click();
  await askAndExpectStream(page, 'WebGPU');
  await context.setOffline(false);
});

test('continuous mode describes the scene until stopped', async ({ page }) => {
  await installTestModel(page, 'wasm-fp32');
  await page.goto('/');
  await expect(page.getByRole('button', { name: 'Pause' })).toBeEnabled();
  await page.getByRole('button', { name: /^Describe every \d+ s$/ }).click();
  const history = page.getByTestId('history');
  await expect(history.getByText('Describe the scene briefly.').first()).toBeVisible();
  await page.getByRole('button', { name: 'Stop continuous' }).click();
  await expect(page.getByRole('button', { name: /^Describe every \d+ s$/ })).toBeVisible();
});

test('a snapshot freezes the frame for follow-up questions', async ({ page }) => {
  await installTestModel(page, 'wasm-fp32');
  await page.goto('/');
  await expect(page.getByRole('button', { name: 'Pause' })).toBeEnabled();
  await page.getByRole('button', { name: 'Snapshot' }).click();
  await expect(page.getByRole('img', { name: 'Still frame your questions are about' })).toBeVisible();
  await askAndExpectStream(page, 'WASM (CPU)', { needsCamera: false });
  await page.getByRole('button', { name: 'Back to live camera' }).click();
  await expect(page.getByRole('img', { name: 'Still frame your questions are about' })).toBeHidden();
});

test('clearing history can be undone', async ({ page }) => {
  await installTestModel(page, 'wasm-fp32');
  await page.goto('/');
  await askAndExpectStream(page, 'WASM (CPU)');
  await page.getByRole('button', { name: 'Clear history' }).click();
  await expect(page.getByTestId('history').locator('li')).toHaveCount(0);
  await page.getByRole('button', { name: 'Undo' }).click();
  await expect(page.getByTestId('history').locator('li')).toHaveCount(1);
});

test('switched to "Server", the answer comes from the edge server over /ws into the panel and the history', async ({
  page
}) => {
  await installTestModel(page, 'wasm-fp32');
  await page.goto('/');
  await expect(page.getByRole('button', { name: 'Pause' })).toBeEnabled();
  const answerOn = page.getByRole('group', { name: 'Answer on' });
  await expect(answerOn.getByRole('radio', { name: 'This device' })).toBeChecked();
  await answerOn.getByRole('radio', { name: 'Server' }).check();

  await page.getByRole('button', { name: 'What do you see?' }).click();
  await expect(page.getByTestId('answer-device')).toHaveText('On the server');
  await expect(page.getByTestId('answer-stats')).toContainText('tiny-smolvlm');
  const answer = ((await page.getByTestId('answer').textContent()) ?? '').trim();
  const history = page.getByTestId('history');
  await expect(history.getByText('What do you see?')).toBeVisible();
  const latest = history.locator('li').first();
  await expect(latest).toContainText('tiny-smolvlm (server)');
  // The tiny random-weight model may say nothing, which the history shows as such.
  await expect(latest).toContainText(answer || '(no answer)');

  // The choice is kept.
  await page.reload();
  await expect(page.getByRole('group', { name: 'Answer on' }).getByRole('radio', { name: 'Server' })).toBeChecked();
});
