import { readFile } from 'node:fs/promises';
import { expect, test, type Locator, type Page } from '@playwright/test';
import { askAndExpectStream, installTestModel } from './helpers.ts';

/** The figure an answer's stats show under `label` ("First token": "412 ms"). */
async function statOf(stats: Locator, label: string): Promise<string> {
  return (await stats
    .locator('div', { has: stats.page().getByText(label, { exact: true }) })
    .locator('dd')
    .textContent())!.trim();
}

async function metric(page: Page, name: string): Promise<Locator> {
  const card = page.getByTestId(`metric-${name}`);
  await expect(card).toBeVisible();
  return card;
}

test('the Status page charts the answers given, logs a failure, exports it, and clears it with undo', async ({
  page
}) => {
  await installTestModel(page, 'wasm-fp32');
  // Opened first, then left through the navigation: the figures are recorded across pages.
  await page.goto('/status');
  await expect(page.getByTestId('perf-empty')).toBeVisible();
  await expect(page.getByTestId('errors-empty')).toBeVisible();
  await page.getByRole('link', { name: 'Camera' }).click();

  const firstTokens: string[] = [];
  const speeds: string[] = [];
  const stats = page.getByTestId('answer-stats');
  const answers = page.getByRole('button', { name: /^Delete answer/ });
  await askAndExpectStream(page, 'WASM (CPU)');
  for (let answer = 0; answer < 3; answer += 1) {
    if (answer > 0) {
      await page.getByRole('button', { name: 'What do you see?', exact: true }).click();
    }
    // Stored in the history once finished: the stats shown are then this answer's.
    await expect(answers).toHaveCount(answer + 1);
    firstTokens.push(await statOf(stats, 'First token'));
    speeds.push(await statOf(stats, 'Speed'));
  }

  // A task file that is not JSON: the task guide reports it, and the log records it.
  const panel = page.getByRole('region', { name: 'Task guide' });
  await panel
    .getByTestId('task-input')
    .setInputFiles({ name: 'broken.json', mimeType: 'application/json', buffer: Buffer.from('{ "id": ') });
  await expect(panel.getByRole('alert')).toContainText('"broken.json" is not valid JSON');

  await page.getByRole('link', { name: 'Status' }).click();
  const byValue = (figures: string[]) => [...figures].sort((a, b) => parseFloat(a) - parseFloat(b));
  const checkFigures = async () => {
    const firstToken = await metric(page, 'first-token-ms');
    await expect(firstToken.getByTestId('count')).toHaveText('3');
    await expect(firstToken.getByTestId('latest')).toHaveText(firstTokens[2]!);
    // The median of three figures is the middle one, exactly as the answer showed it.
    await expect(firstToken.getByTestId('p50')).toHaveText(byValue(firstTokens)[1]!);
    await expect(firstToken.getByRole('img')).toBeVisible();
    const speed = await metric(page, 'tokens-per-second');
    await expect(speed.getByTestId('count')).toHaveText('3');
    await expect(speed.getByTestId('latest')).toHaveText(speeds[2]!);
    await expect(speed.getByTestId('p50')).toHaveText(byValue(speeds)[1]!);
  };
  await checkFigures();
  // Kept across reloads, once written: each answer's figures are written together, so three
  // first-token rows mean every figure shown is in IndexedDB.
  await expect
    .poll(() =>
      page.evaluate(
        () =>
          new Promise<number>((resolve, reject) => {
            const open = indexedDB.open('vision-hub');
            open.onerror = () => reject(open.error);
            open.onsuccess = () => {
              const count = open.result
                .transaction('perfSamples')
                .objectStore('perfSamples')
                .index('metric')
                .count('first-token-ms');
              count.onsuccess = () => resolve(count.result);
              count.onerror = () => reject(count.error);
            };
          })
      )
    )
    .toBe(3);
  await page.reload();
  await checkFigures();

  const log = page.getByTestId('error-log');
  await expect(log).toContainText('"broken.json" is not valid JSON');
  await expect(log).toContainText('Task guide');

  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export' }).click();
  const file = await (await download).path();
  const report = JSON.parse(await readFile(file, 'utf8')) as {
    environment: { userAgent: string; appVersion: string };
    errors: { where: string; message: string }[];
  };
  expect(report.environment.userAgent).toContain('Chrome');
  expect(report.environment.appVersion).toBeTruthy();
  expect(report.errors).toContainEqual(
    expect.objectContaining({
      where: 'Task guide',
      message: expect.stringContaining('"broken.json" is not valid JSON')
    })
  );

  await page.getByRole('button', { name: 'Clear' }).click();
  await expect(page.getByTestId('errors-empty')).toBeVisible();
  await page.getByRole('button', { name: 'Undo' }).click();
  await expect(log).toContainText('"broken.json" is not valid JSON');
  await page.reload();
  await expect(log).toContainText('"broken.json" is not valid JSON');
});

test('on a 390 px phone nothing on the Status page runs off the side', async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto('/status');
  await expect(page.getByTestId('webgpu')).toBeVisible();
  await expect(page.getByTestId('server-health').getByTestId('queue')).toBeVisible();
  const overflowing = await page.evaluate(() => {
    const root = document.documentElement;
    // Cut inside its cell, or pushed past its card or the screen: either way a value is not all there.
    const cells = [...document.querySelectorAll('dd, dt')].filter((cell) => {
      const box = cell.getBoundingClientRect();
      const card = cell.closest('section')!.getBoundingClientRect();
      return cell.scrollWidth > cell.clientWidth + 1 || box.right > Math.min(card.right, innerWidth) + 1;
    });
    return {
      page: root.scrollWidth > root.clientWidth,
      cells: cells.map((cell) => `${cell.tagName}: ${cell.textContent?.trim()}`)
    };
  });
  expect(overflowing).toEqual({ page: false, cells: [] });
});

test('an http:// server the page may not call is said to be blocked by the browser, not unreachable', async ({
  page
}) => {
  await page.goto('/status');
  const section = page.getByRole('region', { name: 'Edge server' });
  await section.getByLabel('Server URL').fill('http://10.255.255.1:8787');
  await section.getByRole('button', { name: 'Test connection' }).click();
  const result = section.getByTestId('edge-test');
  await expect(result).toContainText('The browser blocked http://10.255.255.1:8787');
  await expect(result).toContainText('open the app from the edge server itself');
  await expect(result).not.toContainText('Could not reach');
});
