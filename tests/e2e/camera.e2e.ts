import { expect, test, type Page } from '@playwright/test';

const TEST_MODEL = 'tiny-smolvlm';

async function installTestModel(page: Page): Promise<void> {
  await page.goto('/models');
  const card = page.getByTestId(`model-${TEST_MODEL}`);
  await card.getByRole('button', { name: 'Install' }).click();
  await expect(card.getByText('installed', { exact: true })).toBeVisible();
  await card.getByLabel('Use for the camera').check();
}

/** Records every distinct length the answer had, to prove it arrived in pieces. */
async function watchAnswer(page: Page): Promise<void> {
  await page.evaluate(() => {
    const lengths: number[] = [];
    (window as unknown as { answerLengths: number[] }).answerLengths = lengths;
    new MutationObserver(() => {
      const length = document.querySelector('[data-testid=answer]')?.textContent?.replace('▍', '').length ?? 0;
      if (length !== lengths.at(-1)) {
        lengths.push(length);
      }
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
}

async function askAndExpectStream(page: Page, device: 'WebGPU' | 'WASM (CPU)'): Promise<string> {
  await expect(page.getByRole('button', { name: 'Pause' })).toBeEnabled();
  await watchAnswer(page);
  await page.getByRole('button', { name: 'What do you see?' }).click();
  const stats = page.getByTestId('answer-stats');
  await expect(stats).toBeVisible();
  await expect(page.getByTestId('answer-device')).toHaveText(device);
  await expect(stats).toContainText('tokens/s');
  const answer = (await page.getByTestId('answer').textContent()) ?? '';
  expect(answer.trim().length).toBeGreaterThan(0);
  const lengths = await page.evaluate(() => (window as unknown as { answerLengths: number[] }).answerLengths);
  expect(lengths.filter((l) => l > 0).length, 'answer grew token by token').toBeGreaterThan(1);
  return answer.trim();
}

test('camera → streamed answer on WebGPU, kept in history after reload', async ({ page }) => {
  await installTestModel(page);
  await page.goto('/');
  const answer = await askAndExpectStream(page, 'WebGPU');

  await page.reload();
  const history = page.getByTestId('history');
  await expect(history.getByText('What do you see?')).toBeVisible();
  await expect(history.getByText(answer, { exact: false })).toBeVisible();
});

test('the WASM path works when the user forces it', async ({ page }) => {
  await installTestModel(page);
  await page.getByTestId(`model-${TEST_MODEL}`).getByLabel('Run on').selectOption('wasm-fp32');
  await page.goto('/');
  await askAndExpectStream(page, 'WASM (CPU)');
});

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

test('clearing history can be undone', async ({ page }) => {
  await installTestModel(page);
  await page.goto('/');
  await askAndExpectStream(page, 'WebGPU');
  await page.getByRole('button', { name: 'Clear history' }).click();
  await expect(page.getByTestId('history').locator('li')).toHaveCount(0);
  await page.getByRole('button', { name: 'Undo' }).click();
  await expect(page.getByTestId('history').locator('li')).toHaveCount(1);
});

test('a damaged upload gives a clear error and the page keeps working', async ({ page }) => {
  await page.goto('/');
  await page.getByRole('button', { name: 'Use an image' }).click();
  await page.getByTestId('image-input').setInputFiles({
    name: 'broken.png',
    mimeType: 'image/png',
    buffer: Buffer.from('definitely not a png')
  });
  await expect(page.getByRole('alert')).toContainText('could not be read as an image');
});
