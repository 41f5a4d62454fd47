import { expect, test, type Page } from '@playwright/test';
import { askAndExpectStream, installTestModel, pngBytes } from './helpers.ts';

async function expectUploadAnswered(page: Page): Promise<void> {
  await expect(page.getByRole('img', { name: 'Still frame your questions are about' })).toBeVisible();
  await askAndExpectStream(page, 'WASM (CPU)', { needsCamera: false });
}

test.beforeEach(async ({ page }) => {
  await installTestModel(page, 'wasm-fp32');
  await page.goto('/');
  await page.getByRole('button', { name: 'Use an image' }).click();
});

test('an image from the file picker is asked about', async ({ page }) => {
  await page
    .getByTestId('image-input')
    .setInputFiles({ name: 'leaf.png', mimeType: 'image/png', buffer: Buffer.from(await pngBytes(page)) });
  await expectUploadAnswered(page);
});

test('a pasted image is asked about', async ({ page }) => {
  const bytes = await pngBytes(page);
  await page.evaluate((data) => {
    const clipboardData = new DataTransfer();
    clipboardData.items.add(new File([new Uint8Array(data)], 'pasted.png', { type: 'image/png' }));
    window.dispatchEvent(new ClipboardEvent('paste', { clipboardData, bubbles: true }));
  }, bytes);
  await expectUploadAnswered(page);
});

test('a dropped image is asked about', async ({ page }) => {
  const bytes = await pngBytes(page);
  const dataTransfer = await page.evaluateHandle((data) => {
    const transfer = new DataTransfer();
    transfer.items.add(new File([new Uint8Array(data)], 'dropped.png', { type: 'image/png' }));
    return transfer;
  }, bytes);
  const zone = page.getByRole('region', { name: 'Upload an image' });
  await zone.dispatchEvent('dragover', { dataTransfer });
  await zone.dispatchEvent('drop', { dataTransfer });
  await expectUploadAnswered(page);
});

test('a damaged or non-image file gives a clear error and the page keeps working', async ({ page }) => {
  const input = page.getByTestId('image-input');
  await input.setInputFiles({ name: 'broken.png', mimeType: 'image/png', buffer: Buffer.from('not a png') });
  await expect(page.getByRole('alert')).toContainText('could not be read as an image');
  await input.setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') });
  await expect(page.getByRole('alert')).toContainText('"notes.txt" is not an image');
  await input.setInputFiles({ name: 'leaf.png', mimeType: 'image/png', buffer: Buffer.from(await pngBytes(page)) });
  await expectUploadAnswered(page);
});
