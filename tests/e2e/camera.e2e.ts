import { expect, test, type Page } from '@playwright/test';
import { askAndExpectStream, installTestModel, pngBytes, TEST_MODEL } from './helpers.ts';

/** The test model on WebGPU by choice: on a software adapter (this machine's, CI's) the automatic choice is WASM. */
test('before any install, the camera page offers to install a model', async ({ page }) => {
  await page.goto('/');
  const notice = page.getByRole('status').filter({ hasText: 'is not installed yet' });
  await expect(notice).toBeVisible();
  // Until then the server answers: the same notice says so, not a second one.
  await expect(notice).toContainText('until it is, answers are computed on the edge server');
  await expect(page.getByText('Answers are computed on the edge server instead')).toHaveCount(0);
  await notice.getByRole('link', { name: 'Install a model' }).click();
  await expect(page).toHaveURL(/\/models$/);
});

for (const [device, install] of [
  ['WebGPU', (page: Page) => installTestModel(page, 'webgpu-fp32')],
  ['WASM (CPU)', (page: Page) => installTestModel(page, 'wasm-fp32')]
] as const) {
  test(`camera → streamed answer on ${device}, kept in history after reload`, async ({ page }) => {
    await install(page);
    await page.goto('/');
    const answer = await askAndExpectStream(page, device);

    await page.reload();
    const history = page.getByTestId('history');
    await expect(history.getByText('What do you see?')).toBeVisible();
    await expect(history.getByText(answer, { exact: false })).toBeVisible();
  });
}

test('after one online visit the app reloads, navigates and answers offline', async ({ page, context }) => {
  await installTestModel(page, 'webgpu-fp32');
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

test('before any install and offline, the notice says the model cannot be downloaded now and what to do', async ({
  page,
  context
}) => {
  await page.goto('/');
  const notice = page.getByRole('status').filter({ hasText: 'is not installed yet' });
  await expect(notice).toContainText('Install it once');
  await context.setOffline(true);
  await expect(notice).toContainText('cannot be downloaded while this device is offline');
  await expect(notice).toContainText('model mirror');
  await expect(notice.getByRole('link', { name: 'Install a model' })).toBeVisible();
  await context.setOffline(false);
  await expect(notice).toContainText('Install it once');
});

test('a question typed while an answer streams waits its turn; one answer can be deleted and brought back', async ({
  page
}) => {
  await installTestModel(page, 'wasm-fp32');
  await page.goto('/');
  await expect(page.getByRole('button', { name: 'Pause' })).toBeEnabled();
  const history = page.getByTestId('history').locator('li');

  // The first answer loads the model first: there is time to type the next question.
  await page.getByRole('button', { name: 'What do you see?' }).click();
  await page.getByLabel('Your question').fill('Which colours are there?');
  await page.getByRole('button', { name: 'Ask next' }).click();
  const queued = page.getByRole('status').filter({ hasText: 'Will ask next' });
  await expect(queued).toContainText('Which colours are there?');
  await expect(history).toHaveCount(2);
  await expect(queued).toHaveCount(0);
  await expect(history.first()).toContainText('Which colours are there?');
  await expect(history.nth(1)).toContainText('What do you see?');
  await expect(history.first()).toContainText('Tiny SmolVLM (test)');
  await expect(history.first()).not.toContainText('tiny-smolvlm');

  const remove = history.first().getByRole('button', { name: 'Delete answer' });
  await expect(remove).toHaveAccessibleDescription('Which colours are there?');
  await remove.click();
  await expect(history).toHaveCount(1);
  await page.getByRole('button', { name: 'Undo' }).click();
  await expect(history).toHaveCount(2);
  await expect(history.first()).toContainText('Which colours are there?');
});

/**
 * Stands in for a slow device: once armed, the model's worker sends the next answer's first
 * non-blank token and then stays busy for `ms`, so a test can act while that answer is still
 * being written on a machine of any speed (the tiny test model writes a whole answer in well under
 * a second, and slowing the page's CPU does not slow its workers). Tokens reach the page on
 * Comlink's callback port as "APPLY" messages carrying the text; the worker's own yields between
 * decoding steps post null there.
 */
async function holdWorkerAfterNextToken(page: Page, ms: number): Promise<void> {
  const worker = page.workers().find((candidate) => candidate.url().includes('vlm.worker'));
  expect(worker, 'the model worker is running').toBeDefined();
  await worker!.evaluate((holdMs) => {
    const post = MessagePort.prototype.postMessage;
    MessagePort.prototype.postMessage = function (
      this: MessagePort,
      message: unknown,
      // Comlink passes its transfer list, the other overload.
      transfer?: StructuredSerializeOptions | Transferable[]
    ) {
      post.call(this, message, transfer as StructuredSerializeOptions);
      const call = message as { type?: string; argumentList?: { value?: unknown }[] } | null;
      const piece = call?.type === 'APPLY' ? call.argumentList?.[0]?.value : undefined;
      if (typeof piece === 'string' && piece.trim()) {
        MessagePort.prototype.postMessage = post;
        const until = performance.now() + holdMs;
        while (performance.now() < until) {
          // Busy on purpose: a slow device's decoding step.
        }
      }
    };
  }, ms);
}

test('Escape stops a streaming answer, which the history marks as stopped', async ({ page }) => {
  await installTestModel(page, 'wasm-fp32');
  await page.goto('/');
  // A first answer starts the model's worker.
  await askAndExpectStream(page, 'WASM (CPU)');
  const history = page.getByTestId('history').locator('li');
  await expect(history).toHaveCount(1);

  // Stopped while it streams: Escape, wherever the focus is.
  await holdWorkerAfterNextToken(page, 5_000);
  await page.getByRole('button', { name: 'Read the text' }).click();
  await expect(page.getByTestId('answer').locator('.caret')).toBeVisible();
  await expect(page.getByTestId('answer')).not.toHaveText('▍');
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('answer-stopped')).toBeVisible({ timeout: 15_000 });
  await expect(history).toHaveCount(2);
  await expect(history.first().getByTestId('history-stopped')).toHaveText('Stopped');
  await expect(history.nth(1).getByTestId('history-stopped')).toHaveCount(0);
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
  await expect(page.getByTestId('answer-stats')).toContainText('Tiny SmolVLM (test)');
  const answer = ((await page.getByTestId('answer').textContent()) ?? '').trim();
  const history = page.getByTestId('history');
  await expect(history.getByText('What do you see?')).toBeVisible();
  const latest = history.locator('li').first();
  // By the model's name, not its id.
  await expect(latest).toContainText('Tiny SmolVLM (test) · answered on the server');
  // The tiny random-weight model may say nothing, which the history shows as such.
  await expect(latest).toContainText(answer || '(no answer)');

  // The choice is kept.
  await page.reload();
  await expect(page.getByRole('group', { name: 'Answer on' }).getByRole('radio', { name: 'Server' })).toBeChecked();
});

/** Installs the tiny Florence-2 beside the test model, both on WASM, and leaves the choice to each question. */
async function installFlorenceBesideTestModel(page: Page): Promise<void> {
  await installTestModel(page, 'wasm-fp32');
  const card = page.getByTestId('model-tiny-florence2');
  await card.getByRole('button', { name: 'Install' }).click();
  await expect(card.getByText('installed', { exact: true })).toBeVisible();
  await card.getByLabel('Run on').selectOption('wasm-fp32');
  const automatic = page.getByRole('radio', { name: /Choose for each question/ });
  await automatic.check();
  await expect(automatic).toBeChecked();
}

async function useStillImage(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Use an image' }).click();
  await page
    .getByTestId('image-input')
    .setInputFiles({ name: 'sign.png', mimeType: 'image/png', buffer: Buffer.from(await pngBytes(page)) });
  await expect(page.getByRole('img', { name: 'Still frame your questions are about' })).toBeVisible();
}

test('"Read the text" goes to Florence-2, whose text regions are drawn over the image, copied, and asked about one by one', async ({
  page,
  context
}) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await installFlorenceBesideTestModel(page);
  await page.goto('/');
  await useStillImage(page);

  await page.getByRole('button', { name: 'Read the text' }).click();
  await expect(page.getByTestId('answer-stats')).toContainText('Tiny Florence-2 (test)');
  await expect(page.getByTestId('answer-reason')).toHaveText('Best here at reading text');
  const regions = page.getByRole('list', { name: 'Regions found' }).getByRole('button');
  await expect(regions.first()).toBeVisible();
  expect(await regions.count()).toBeGreaterThan(0);
  await expect(regions.first()).toHaveAccessibleName(/^Ask about (the text “.+”|this text)$/);
  await expect(page.getByRole('status').filter({ hasText: /regions? found/ })).toBeAttached();

  const answer = ((await page.getByTestId('answer').textContent()) ?? '').trim();
  await page.getByRole('button', { name: 'Copy text' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Text copied' })).toBeVisible();
  expect((await page.evaluate(() => navigator.clipboard.readText())).trim()).toBe(answer);

  // One region, cropped, goes to a model that describes.
  await regions.first().click();
  await expect(page.getByTestId('answer-stats')).toContainText('Tiny SmolVLM (test)');
  const history = page.getByTestId('history').locator('li');
  await expect(history.first()).toContainText('Describe this part of the picture.');
  await expect(history).toHaveCount(2);
});

test('a model that fails to load hands the question to the next one, and the answer says why', async ({ page }) => {
  await installFlorenceBesideTestModel(page);
  // Florence-2's decoder in the model cache replaced by a web page, as a broken mirror would leave it.
  await page.evaluate(async () => {
    const cache = await caches.open('vision-hub-models');
    const decoder = (await cache.keys()).find((request) =>
      request.url.includes('tiny-florence2/resolve/main/onnx/decoder_model_merged')
    );
    await cache.put(decoder!, new Response('<!doctype html><title>Not found</title>'));
  });
  await page.goto('/');
  await useStillImage(page);
  await page.getByRole('button', { name: 'Read the text' }).click();
  await expect(page.getByTestId('answer-stats')).toContainText('Tiny SmolVLM (test)');
  await expect(page.getByTestId('answer-reason')).toHaveText(
    /^Tiny Florence-2 \(test\) could not answer \(.+\), so Tiny SmolVLM \(test\) did$/
  );
  await expect(page.getByRole('alert')).toHaveCount(0);
});
