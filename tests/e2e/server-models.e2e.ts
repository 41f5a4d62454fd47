import { expect, test } from '@playwright/test';
import { installTestModel } from './helpers.ts';

/**
 * The E2E server's vision model (its local backend's tiny SmolVLM) is taken to find things; the
 * device's SmolVLM is not, so a "where is" question goes to the server first once that is allowed.
 */
const SERVER_MODEL = 'tiny-smolvlm';
const QUESTION = 'Where is the kettle?';

test("allowed on the Models page, a question the server's model is better at goes there, and the answer says it left the device", async ({
  page
}) => {
  const nav = page.getByRole('navigation', { name: 'Main' });
  await installTestModel(page);
  // The installed model answers alone while it is the one chosen: back to a choice per question.
  await page.getByRole('radio', { name: /^Choose for each question/ }).check();

  const server = page.getByRole('region', { name: 'On the edge server' });
  const listed = server.getByTestId('server-model').filter({ hasText: SERVER_MODEL });
  await expect(listed).toContainText('Questions and images leave this device');
  const allow = server.getByRole('checkbox', { name: /^Let questions go to the edge server's models/ });
  await expect(allow).not.toBeChecked();

  // Not allowed yet: the model here answers, although it is no better at finding things.
  await nav.getByRole('link', { name: 'Camera' }).click();
  await expect(page.getByRole('button', { name: 'Pause' })).toBeEnabled();
  await page.getByLabel('Your question').fill(QUESTION);
  await page.getByRole('button', { name: 'Ask', exact: true }).click();
  await expect(page.getByTestId('answer-reason')).toHaveText(
    'Answers any question; none here is better at finding things in the picture'
  );
  await expect(page.getByTestId('answer-device')).toHaveText('WASM (CPU)');

  await nav.getByRole('link', { name: 'Models' }).click();
  await allow.check();
  await expect(allow).toBeChecked();

  await nav.getByRole('link', { name: 'Camera' }).click();
  await expect(page.getByRole('button', { name: 'Pause' })).toBeEnabled();
  await page.getByLabel('Your question').fill(QUESTION);
  await page.getByRole('button', { name: 'Ask', exact: true }).click();
  await expect(page.getByTestId('answer-reason')).toHaveText(
    'Best here at finding things in the picture · on the edge server'
  );
  await expect(page.getByTestId('answer-device')).toHaveText('On the server');
  await expect(page.getByTestId('answer')).not.toBeEmpty();
  await expect(page.getByTestId('history').locator('li').first()).toContainText('answered on the server');

  // Remembered: after a reload, the server is still allowed.
  await page.goto('/models');
  await expect(allow).toBeChecked();
});
