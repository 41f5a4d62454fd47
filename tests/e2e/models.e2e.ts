import { expect, test } from '@playwright/test';
import { askAndExpectStream, installTestModel, TEST_MODEL } from './helpers.ts';

test("this browser's WebGPU is SwiftShader: the automatic choice is WASM, says why, and Run on still wins", async ({
  page
}) => {
  await page.goto('/models');
  const card = page.getByTestId(`model-${TEST_MODEL}`);
  await expect(card).toContainText('For this device: wasm-fp32');
  await expect(card).toContainText(
    "webgpu-fp32 skipped: this device's WebGPU runs in software; the CPU is faster here"
  );
  await card.getByLabel('Run on').selectOption('webgpu-fp32');
  await expect(card).toContainText('For this device: webgpu-fp32');
  await card.getByLabel('Run on').selectOption('');

  await installTestModel(page);
  await page.goto('/');
  await askAndExpectStream(page, 'WASM (CPU)');
});

test('removing a model offers Undo in the notifications, with the size it downloads again', async ({ page }) => {
  await installTestModel(page);
  const card = page.getByTestId(`model-${TEST_MODEL}`);
  await card.getByRole('button', { name: 'Remove' }).click();
  await expect(card.getByRole('button', { name: 'Install' })).toBeVisible();

  const notice = page.getByRole('region', { name: 'Notifications' }).getByRole('status');
  await expect(notice).toContainText('Removed Tiny SmolVLM (test)');
  await notice.getByRole('button', { name: 'Undo (downloads 836 KB again)' }).click();
  await expect(card.getByText('installed', { exact: true })).toBeVisible();
  await expect(notice).toHaveCount(0);
});

test('offline, Install buttons are disabled and say why next to them', async ({ page, context }) => {
  await page.goto('/models');
  const card = page.getByTestId(`model-${TEST_MODEL}`);
  const install = card.getByRole('button', { name: 'Install' });
  await expect(install).toBeEnabled();

  await context.setOffline(true);
  await expect(install).toBeDisabled();
  await expect(card.getByText("Can't download while offline: connect to a network first.")).toBeVisible();
  await expect(install).toHaveAccessibleDescription("Can't download while offline: connect to a network first.");

  await context.setOffline(false);
  await expect(install).toBeEnabled();
  await expect(card.getByText("Can't download while offline")).toHaveCount(0);
});

test('when the network blocks the model host, the card says so and what to try instead', async ({ page }) => {
  await page.route('https://huggingface.co/**', (route) => route.abort('blockedbyclient'));
  await page.goto('/models');
  const card = page.getByTestId('model-smolvlm-256m');
  await card.getByRole('button', { name: 'Install' }).click();
  await expect(card.getByRole('alert')).toHaveText(
    "The model host (huggingface.co) can't be reached from this network. Install the small test model to try the " +
      'app, or set a model mirror under Model host on this page.'
  );
  await expect(card.getByRole('button', { name: 'Install' })).toBeEnabled();
});
