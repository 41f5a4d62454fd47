import { expect, test } from '@playwright/test';
import { installTestModel } from './helpers.ts';

const NOTE = 'Descale the kettle every month with citric acid.';

test('a knowledge base: install the embedder, add documents, search with citations, delete with undo', async ({
  page
}) => {
  await page.goto('/models');
  const card = page.getByTestId('model-tiny-bert');
  await card.getByRole('button', { name: 'Install' }).click();
  await expect(card.getByText('installed', { exact: true })).toBeVisible();
  await card.getByLabel('Use for knowledge search').check();

  await page.getByRole('link', { name: 'Knowledge' }).click();
  await expect(page.getByText('No knowledge base yet')).toBeVisible();
  await page.getByLabel('New knowledge base name').fill('Kitchen');
  await page.getByRole('button', { name: 'Create' }).click();
  await expect(page.getByRole('combobox', { name: 'Knowledge base' })).toContainText('Kitchen');

  const input = page.getByTestId('document-input');
  await input.setInputFiles({ name: 'kettle.txt', mimeType: 'text/plain', buffer: Buffer.from(NOTE) });
  await expect(page.getByRole('listitem').filter({ hasText: 'kettle.txt' })).toContainText('1 passages');

  // A binary file renamed .txt is refused with a clear message, and the list is unchanged.
  await input.setInputFiles({ name: 'photo.txt', mimeType: 'text/plain', buffer: Buffer.from([0x89, 0x50, 0, 0, 1]) });
  await expect(page.getByRole('alert')).toContainText('"photo.txt" looks like a binary file');
  await expect(page.getByRole('listitem').filter({ hasText: '.txt' })).toHaveCount(1);

  // Test models have random weights, so ask with the passage's own words: it must come back first.
  await page.getByLabel('Question').fill(NOTE);
  await page.getByRole('button', { name: 'Search' }).click();
  const first = page.getByRole('list', { name: 'Search results' }).getByRole('listitem').first();
  await expect(first).toContainText('[1] kettle.txt');
  await expect(first.locator('mark').first()).toHaveText('Descale');
  await expect(page.getByText('Retrieval only')).toBeVisible();

  await page.getByRole('button', { name: 'Delete kettle.txt' }).click();
  await expect(page.getByText('No documents yet')).toBeVisible();
  await page.getByRole('button', { name: 'Undo' }).click();
  await expect(page.getByRole('listitem').filter({ hasText: 'kettle.txt' })).toBeVisible();

  // The relevance threshold is the user's to tune, and kept.
  await page.getByText('Search settings').click();
  await page.getByLabel(/Relevance threshold/).fill('0.5');
  await expect(page.getByText('Relevance threshold: 0.50')).toBeVisible();

  // Survives a reload: everything lives in IndexedDB.
  await page.reload();
  await expect(page.getByRole('listitem').filter({ hasText: 'kettle.txt' })).toBeVisible();
  await page.getByText('Search settings').click();
  await expect(page.getByText('Relevance threshold: 0.50')).toBeVisible();
});

test('with a vision-language model installed, an answer is written from the passages', async ({ page }) => {
  await installTestModel(page, 'wasm-fp32');
  const card = page.getByTestId('model-tiny-bert');
  await card.getByRole('button', { name: 'Install' }).click();
  await expect(card.getByText('installed', { exact: true })).toBeVisible();
  await card.getByLabel('Use for knowledge search').check();

  await page.getByRole('link', { name: 'Knowledge' }).click();
  await page.getByLabel('New knowledge base name').fill('Kitchen');
  await page.getByRole('button', { name: 'Create' }).click();
  await page.getByTestId('document-input').setInputFiles({
    name: 'kettle.txt',
    mimeType: 'text/plain',
    buffer: Buffer.from(NOTE)
  });
  await expect(page.getByRole('listitem').filter({ hasText: 'kettle.txt' })).toContainText('1 passages');

  await page.getByLabel('Question').fill(NOTE);
  await page.getByRole('button', { name: 'Search' }).click();
  const answer = page.getByRole('article', { name: 'Answer' });
  // Random weights write nonsense, but it is streamed from the passages by the on-device model.
  await expect(answer).toContainText('Written on this device from the passages below', { timeout: 60_000 });
  await expect(answer.getByTestId('cited-answer')).not.toBeEmpty();
  await expect(answer).toHaveAttribute('aria-busy', 'false');
  await expect(page.getByText('Retrieval only')).toBeHidden();
  await expect(page.getByRole('list', { name: 'Search results' }).getByRole('listitem').first()).toContainText(
    '[1] kettle.txt'
  );
});
