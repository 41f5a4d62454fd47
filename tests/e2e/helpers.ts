import { expect, type Page } from '@playwright/test';

export const TEST_MODEL = 'tiny-smolvlm';
const TEST_MODEL_NAME = 'Tiny SmolVLM (test)';

/**
 * Installs the tiny SmolVLM from the Models page; `runOn` forces a variant (the automatic choice
 * is WASM here, where WebGPU runs in software).
 */
export async function installTestModel(page: Page, runOn?: 'wasm-fp32' | 'webgpu-fp32'): Promise<void> {
  await page.goto('/models');
  const card = page.getByTestId(`model-${TEST_MODEL}`);
  await card.getByRole('button', { name: 'Install' }).click();
  await expect(card.getByText('installed', { exact: true })).toBeVisible();
  await card.getByLabel('Use for the camera').check();
  if (runOn) {
    await card.getByLabel('Run on').selectOption(runOn);
  }
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

/** Clicks a quick prompt and checks the answer streamed in, with timings and the device named. */
export async function askAndExpectStream(
  page: Page,
  device: 'WebGPU' | 'WASM (CPU)',
  options: { needsCamera?: boolean } = { needsCamera: true }
): Promise<string> {
  if (options.needsCamera) {
    await expect(page.getByRole('button', { name: 'Pause' })).toBeEnabled();
  }
  await watchAnswer(page);
  await page.getByRole('button', { name: 'What do you see?' }).click();
  const stats = page.getByTestId('answer-stats');
  await expect(stats).toBeVisible();
  await expect(page.getByTestId('answer-device')).toHaveText(device);
  await expect(stats).toContainText('tokens/s');
  await expect(stats).toContainText('First token');
  await expect(stats).toContainText(TEST_MODEL_NAME);
  const answer = (await page.getByTestId('answer').textContent()) ?? '';
  expect(answer.trim().length).toBeGreaterThan(0);
  const lengths = await page.evaluate(() => (window as unknown as { answerLengths: number[] }).answerLengths);
  expect(lengths.filter((l) => l > 0).length, 'answer grew token by token').toBeGreaterThan(1);
  return answer.trim();
}

/** A real PNG, drawn in the page: what a user would pick, paste or drop. */
export async function pngBytes(page: Page): Promise<number[]> {
  return page.evaluate(async () => {
    const canvas = new OffscreenCanvas(96, 64);
    const context = canvas.getContext('2d')!;
    context.fillStyle = '#16a34a';
    context.fillRect(0, 0, 96, 64);
    const blob = await canvas.convertToBlob({ type: 'image/png' });
    return [...new Uint8Array(await blob.arrayBuffer())];
  });
}
