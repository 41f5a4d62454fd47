import { expect, test, type APIRequestContext, type Page } from '@playwright/test';
import { askAndExpectStream, installTestModel, pngBytes } from './helpers.ts';

const SEND = 'Detailed analysis on the server';

/** Records every state the page's server jobs showed, and whether a progress bar was among them. */
async function watchJobs(page: Page): Promise<void> {
  await page.evaluate(() => {
    const seen = { states: [] as string[], progressBar: false };
    (window as unknown as { jobsSeen: typeof seen }).jobsSeen = seen;
    new MutationObserver(() => {
      for (const job of document.querySelectorAll('[data-testid=edge-job]')) {
        const state = job.getAttribute('data-state') ?? '';
        if (state !== seen.states.at(-1)) {
          seen.states.push(state);
        }
        seen.progressBar ||= !!job.querySelector('progress');
      }
    }).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
  });
}

/** The server's jobs (anonymous on loopback: the `local` tenant) created since `since`. */
async function serverJobsSince(request: APIRequestContext, since: number) {
  const response = await request.get('/v1/jobs?limit=100');
  expect(response.ok()).toBe(true);
  const { data } = (await response.json()) as { data: { id: string; created_at: number; state: string }[] };
  return data.filter((job) => job.created_at >= since);
}

/** A job sent straight to the server (the `local` tenant), as another device would; its id. */
async function submitElsewhere(page: Page, request: APIRequestContext): Promise<string> {
  const image = await page.evaluate(() => {
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = 32;
    return canvas.toDataURL('image/jpeg');
  });
  const response = await request.post('/v1/jobs', {
    data: { type: 'medgemma.analyze', input: { images: [{ url: image }], prompt: 'From another device' } },
    headers: { 'idempotency-key': `e2e-${crypto.randomUUID()}` }
  });
  expect(response.ok()).toBe(true);
  return ((await response.json()) as { id: string }).id;
}

/**
 * An answer in the history about a fixed image. Not a camera frame: the fake camera's frame depends
 * on when it is grabbed, and the random-weight model then sometimes ends the server's analysis
 * after a token or two, too fast for its running state to be seen.
 */
async function observe(page: Page): Promise<void> {
  await installTestModel(page, 'wasm-fp32');
  await page.goto('/');
  await page.getByRole('button', { name: 'Use an image' }).click();
  await page
    .getByTestId('image-input')
    .setInputFiles({ name: 'leaf.png', mimeType: 'image/png', buffer: Buffer.from(await pngBytes(page)) });
  await expect(page.getByRole('img', { name: 'Still frame your questions are about' })).toBeVisible();
  await askAndExpectStream(page, 'WASM (CPU)', { needsCamera: false });
}

test('an observation sent to the edge server shows live progress, then its findings and report', async ({
  page,
  request
}) => {
  const started = Date.now();
  await observe(page);
  const item = page.getByTestId('history').locator('li').first();
  await watchJobs(page);
  await item.getByRole('button', { name: SEND }).click();

  const job = item.getByTestId('edge-job');
  await expect(job).toHaveAttribute('data-state', 'completed');
  const result = job.getByTestId('edge-job-result');
  await expect(result).toContainText('Summary (tiny-smolvlm)');
  const seen = await page.evaluate(
    () => (window as unknown as { jobsSeen: { states: string[]; progressBar: boolean } }).jobsSeen
  );
  expect(seen.states.at(-1)).toBe('completed');
  expect(seen.states, 'states before the end were shown as they happened').toContain('running');
  expect(seen.progressBar, 'a progress bar was shown while it ran').toBe(true);

  const download = page.waitForEvent('download');
  await job.getByRole('button', { name: 'Download report' }).click();
  const file = await download;
  const report = await (await file.createReadStream()).toArray();
  expect(Buffer.concat(report).toString()).toContain('# MedGemma analysis');

  const jobs = await serverJobsSince(request, started);
  expect(jobs.map((j) => j.state)).toEqual(['completed']);

  // The Status page lists it with the same result, once the server's list is in.
  const label = (await job.getAttribute('aria-label'))!.replace(/^Server job: /, '');
  const listing = page.waitForResponse((response) => response.url().includes('/v1/jobs?'));
  await page.getByRole('link', { name: 'Status' }).click();
  await listing;
  const section = page.getByRole('region', { name: 'Edge server' });
  const row = (name: string) => section.getByRole('article', { name: `Server job: ${name}`, exact: true });
  const mine = row(label);
  // The server's copy of it, as the list would show it if it came back "sent from elsewhere".
  const serverCopy = row(`medgemma.analyze · ${jobs[0]!.id.slice(0, 8)}`);
  await expect(mine).toHaveAttribute('data-state', 'completed');
  await expect(mine.getByTestId('edge-job-result')).toContainText('Summary (tiny-smolvlm)');
  await expect(serverCopy).toHaveCount(0);

  // Finished, it can be removed from the list and brought back, alone or with every finished job
  // (the server keeps jobs of earlier runs: those are listed as sent from elsewhere, and go too).
  await mine.getByRole('button', { name: `Remove job: ${label}` }).click();
  const removed = section.getByRole('status').filter({ hasText: 'Job removed.' });
  await expect(removed).toBeVisible();
  await expect(mine).toHaveCount(0);
  await expect(removed.getByRole('button', { name: 'Undo' })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(removed).toHaveCount(0);
  await expect(mine.getByTestId('edge-job-result')).toContainText('Summary (tiny-smolvlm)');

  const anyRemoved = section.getByRole('status').filter({ hasText: /^\s*(Job|\d+ jobs) removed\./ });
  await section.getByRole('button', { name: 'Remove finished' }).click();
  await expect(mine).toHaveCount(0);
  await expect(section.getByRole('button', { name: /^Remove job: / })).toHaveCount(0);
  await anyRemoved.getByRole('button', { name: 'Undo' }).click();
  await expect(mine).toHaveAttribute('data-state', 'completed');
  await page.reload();
  await expect(mine.getByTestId('edge-job-result')).toContainText('Summary (tiny-smolvlm)');

  // Removed, it stays away after a reload: neither this device's record nor the server's copy comes back.
  // A job another device sends meanwhile shows when the server's list is in.
  const other = await submitElsewhere(page, request);
  await mine.getByRole('button', { name: `Remove job: ${label}` }).click();
  await expect(removed).toBeVisible();
  await page.reload();
  await expect(row(`medgemma.analyze · ${other.slice(0, 8)}`)).toBeVisible();
  await expect(mine).toHaveCount(0);
  await expect(serverCopy).toHaveCount(0);
});

test.describe('a server without a model for the analysis', () => {
  // The app's service worker answers GET requests itself, where page.route cannot see them.
  test.use({ serviceWorkers: 'block' });
  const listing = (data: object[]) => ({ json: { object: 'list', data } });

  test('no vision model: the analysis is offered disabled, with the reason in plain words', async ({ page }) => {
    await page.route('**/v1/models', (route) => route.fulfill(listing([])));
    await observe(page);
    const item = page.getByTestId('history').locator('li').first();
    const send = item.getByRole('button', { name: SEND });
    await expect(send).toBeDisabled();
    await expect(send).toHaveAccessibleDescription('The edge server has no model for detailed analysis.');
  });

  test('a job the server refuses looks failed, says why in plain words and can be tried again', async ({ page }) => {
    // A model the server lists but cannot run (its upstream went away): the job is refused.
    const gone = {
      id: 'gone-vision-model',
      object: 'model',
      created: 0,
      owned_by: 'x',
      capabilities: ['chat', 'vision']
    };
    await page.route('**/v1/models', (route) => route.fulfill(listing([gone])));
    await observe(page);
    const item = page.getByTestId('history').locator('li').first();
    await item.getByRole('button', { name: SEND }).click();

    const job = item.getByTestId('edge-job');
    await expect(job).toHaveAttribute('data-state', 'refused');
    await expect(job.getByTestId('edge-job-status')).toContainText('Failed');
    await expect(job).toContainText('The edge server has no model for detailed analysis.');
    await expect(job).not.toContainText('UPSTREAMS');
    const [border, danger] = await job.evaluate((card) => {
      const probe = document.createElement('span');
      probe.style.color = 'var(--danger)';
      card.append(probe);
      const colours = [getComputedStyle(card).borderLeftColor, getComputedStyle(probe).color];
      probe.remove();
      return colours;
    });
    expect(border).toBe(danger);
    // Not offered twice: the card's own retry, and no second "send" beside it.
    await expect(item.getByRole('button', { name: SEND })).toHaveCount(0);
    await job.getByRole('button', { name: 'Try again' }).click();
    await expect(item.getByTestId('edge-job')).toHaveAttribute('data-state', 'refused');
  });
});

test('sent while offline: queued, kept across a reload, sent exactly once when back online', async ({
  page,
  context,
  request
}) => {
  const started = Date.now();
  await observe(page);
  // The service worker must hold the app shell so the page reloads offline.
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
  });

  await context.setOffline(true);
  const item = page.getByTestId('history').locator('li').first();
  await item.getByRole('button', { name: SEND }).click();
  const status = item.getByTestId('edge-job-status');
  await expect(status).toHaveText('Queued — will send when online');
  await page.reload();
  await expect(status).toHaveText('Queued — will send when online');
  await expect(item.getByRole('button', { name: SEND })).toHaveCount(0);
  expect(await serverJobsSince(request, started)).toEqual([]);

  await context.setOffline(false);
  await expect(item.getByTestId('edge-job')).toHaveAttribute('data-state', 'completed');
  await expect(item.getByTestId('edge-job-result')).toContainText('Summary (tiny-smolvlm)');
  const jobs = await serverJobsSince(request, started);
  expect(jobs).toHaveLength(1);
  expect(jobs[0]!.state).toBe('completed');
});

test('the Status page tests the connection, keeps a credential masked and clears it', async ({ page }) => {
  await page.goto('/status');
  const section = page.getByRole('region', { name: 'Edge server' });
  await section.getByRole('button', { name: 'Test connection' }).click();
  await expect(section.getByTestId('edge-test')).toContainText('Connected: ok, version');
  await expect(section.getByTestId('edge-test')).toContainText('tiny-smolvlm (chat, vision)');

  const key = `vh_${'k'.repeat(39)}abcd`;
  await section.getByLabel('API key or token').fill(key);
  await section.getByRole('button', { name: 'Save' }).click();
  await expect(section.getByTestId('edge-credential')).toContainText('vh_••••abcd');
  await expect(section.getByLabel('API key or token')).toHaveValue('');
  await expect(section).not.toContainText(key);

  await page.reload();
  await expect(section.getByTestId('edge-credential')).toContainText('vh_••••abcd');
  // The job list asked the server with the saved key and was refused; so is the test.
  await expect(section.getByRole('alert').filter({ hasText: 'refused the credentials' }).first()).toBeVisible();
  await section.getByRole('button', { name: 'Test connection' }).click();
  await expect(section.getByTestId('edge-test')).toContainText('refused the credentials');

  await section.getByRole('button', { name: 'Clear credentials' }).click();
  await expect(section.getByTestId('edge-credential')).toContainText('None saved');
  await expect(section.getByRole('alert')).toHaveCount(0);
  await section.getByRole('button', { name: 'Test connection' }).click();
  await expect(section.getByTestId('edge-test')).toContainText('Connected');
});

test('the Status page keeps a server URL, says when it is not the edge API, and goes back to its own server', async ({
  page
}) => {
  await page.goto('/status');
  const section = page.getByRole('region', { name: 'Edge server' });
  const field = section.getByLabel('Server URL');
  await expect(field).toHaveValue('');
  // A page of the app rather than the API: a wrong path is the likeliest wrong URL.
  const wrong = `${new URL(page.url()).origin}/not-the-api`;
  await field.fill(wrong);
  await section.getByRole('button', { name: 'Test connection' }).click();
  await expect(section.getByTestId('edge-test')).toContainText('did not answer like the edge API');
  await section.getByRole('button', { name: 'Save' }).click();

  await page.reload();
  await expect(field).toHaveValue(wrong);
  await expect(section.getByRole('alert').filter({ hasText: 'Check the server URL' }).first()).toBeVisible();

  await field.fill('');
  await section.getByRole('button', { name: 'Save' }).click();
  await expect(section.getByRole('alert')).toHaveCount(0);
  await section.getByRole('button', { name: 'Test connection' }).click();
  await expect(section.getByTestId('edge-test')).toContainText('Connected: ok');
  await page.reload();
  await expect(field).toHaveValue('');
});
