import { expect, test } from '@playwright/test';
import { installTestModel } from './helpers.ts';

// "about" and "does" are there to be left unhighlighted: a question is full of them.
const NOTE = 'Descale the kettle about once a month: citric acid does it.';

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

  // Names are unique whatever their case: said next to the field, and nothing is created.
  await page.getByLabel('New knowledge base name').fill(' kitchen ');
  await page.getByRole('button', { name: 'Create' }).click();
  await expect(page.getByRole('alert')).toHaveText('There is already a knowledge base called "Kitchen"');
  await expect(page.getByLabel('New knowledge base name')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByRole('combobox', { name: 'Knowledge base' }).getByRole('option')).toHaveCount(1);

  // Renamed to a long name: cut with an ellipsis on the page, whole in its title.
  const long = 'Kitchen appliances, descaling schedules and the manuals of every machine on the counter';
  await page.getByRole('button', { name: 'Rename Kitchen' }).click();
  await page.getByLabel('New name for Kitchen').fill(long);
  await page.getByRole('button', { name: 'Save name' }).click();
  const picker = page.getByRole('combobox', { name: 'Knowledge base' });
  await expect(picker).toHaveAttribute('title', long);
  const fits = await picker.evaluate((select) => select.scrollWidth <= document.documentElement.clientWidth);
  expect(fits, 'the picker does not widen the page').toBe(true);

  const input = page.getByTestId('document-input');
  await input.setInputFiles({ name: 'kettle.txt', mimeType: 'text/plain', buffer: Buffer.from(NOTE) });
  await expect(page.getByRole('listitem').filter({ hasText: 'kettle.txt' })).toContainText('1 passage ·');

  // A binary file renamed .txt is refused with a clear message, and the list is unchanged.
  await input.setInputFiles({ name: 'photo.txt', mimeType: 'text/plain', buffer: Buffer.from([0x89, 0x50, 0, 0, 1]) });
  await expect(page.getByRole('alert')).toContainText('"photo.txt" looks like a binary file');
  await expect(page.getByRole('listitem').filter({ hasText: '.txt' })).toHaveCount(1);

  // Test models have random weights, so ask with the passage's own words: it must come back first.
  await page.getByLabel('Question').fill(NOTE);
  await page.getByRole('button', { name: 'Search' }).click();
  const first = page.getByRole('list', { name: 'Search results' }).getByRole('listitem').first();
  await expect(first).toContainText('[1] kettle.txt');
  await expect(first).toContainText(/relevance (0|1)\.\d\d/);
  await expect(first.locator('mark')).toHaveText(['Descale', 'kettle', 'once', 'month', 'citric', 'acid']);
  await expect(page.getByText('Retrieval only')).toBeVisible();

  // Undo is offered where the user is: in the notifications above the navigation.
  const notifications = page.getByRole('region', { name: 'Notifications' });
  await page.getByRole('button', { name: 'Delete kettle.txt' }).click();
  await expect(page.getByText('No documents yet')).toBeVisible();
  await expect(notifications).toContainText('"kettle.txt" deleted');
  await notifications.getByRole('button', { name: 'Undo' }).click();
  await expect(page.getByRole('listitem').filter({ hasText: 'kettle.txt' })).toBeVisible();

  // A whole base too, with its documents.
  await page.getByRole('button', { name: `Delete ${long}` }).click();
  await expect(page.getByText('No knowledge base yet')).toBeVisible();
  await notifications.getByRole('button', { name: 'Undo' }).click();
  await expect(picker).toHaveAttribute('title', long);
  await expect(page.getByRole('listitem').filter({ hasText: 'kettle.txt' })).toBeVisible();

  // The relevance threshold is the user's to tune, and kept.
  await page.getByText('Search settings').click();
  await page.getByLabel(/Similarity threshold/).fill('0.5');
  await expect(page.getByText('Similarity threshold: 0.50')).toBeVisible();

  // Survives a reload: everything lives in IndexedDB.
  await page.reload();
  await expect(page.getByRole('listitem').filter({ hasText: 'kettle.txt' })).toBeVisible();
  await page.getByText('Search settings').click();
  await expect(page.getByText('Similarity threshold: 0.50')).toBeVisible();

  // Each search is timed for the status monitor (which records from its first visit on).
  await page.goto('/status');
  await page.getByRole('link', { name: 'Knowledge' }).click();
  await page.getByLabel('Question').fill(NOTE);
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page.getByRole('list', { name: 'Search results' })).toBeVisible();
  await page.getByRole('link', { name: 'Status' }).click();
  await expect(page.getByTestId('metric-search-ms')).toContainText('Knowledge search');
});

test('with a vision-language model installed, an answer is written from the passages on request', async ({ page }) => {
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
  await expect(page.getByRole('listitem').filter({ hasText: 'kettle.txt' })).toContainText('1 passage ·');

  await page.getByLabel('Question').fill(NOTE);
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page.getByRole('list', { name: 'Search results' })).toBeVisible();
  // Nothing is written until asked: the passages alone often answer, and writing takes the device seconds.
  const answer = page.getByRole('article', { name: 'Answer' });
  await expect(answer).toHaveCount(0);
  await page.getByRole('button', { name: 'Write an answer' }).click();
  // Random weights write nonsense, but it is streamed from the passages by the on-device model.
  await expect(answer).toContainText('Written on this device from the passages below', { timeout: 60_000 });
  await expect(answer.getByTestId('cited-answer')).not.toBeEmpty();
  await expect(answer).toHaveAttribute('aria-busy', 'false');
  await expect(page.getByText('Retrieval only')).toBeHidden();
  await expect(page.getByRole('list', { name: 'Search results' }).getByRole('listitem').first()).toContainText(
    '[1] kettle.txt'
  );

  // A new search replaces the answer with the choice to write one for the new passages.
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(answer).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Write an answer' })).toBeVisible();
});
