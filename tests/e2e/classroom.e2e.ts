import { expect, test, type Page } from '@playwright/test';
import { speak, wavFile } from '../unit/fixtures/speech-audio.ts';
import { FAKE_MICROPHONE_TEXT } from './camera-clip.ts';

const PASSAGE =
  'The little dog ran across the green field to find his ball. Then he sat under a tall tree and waited for the children to come home from school.';

function passageWav(): Buffer {
  const { samples, sampleRate } = speak(PASSAGE, ['-s', '150']);
  return Buffer.from(wavFile(samples, sampleRate));
}

async function chooseRecording(page: Page, buffer: Buffer, name = 'reading.wav', mimeType = 'audio/wav') {
  await page.getByLabel('Choose a recording').setInputFiles({ name, mimeType, buffer });
}

test('a reading from a file is measured, scored against what was read, and kept per learner', async ({ page }) => {
  await page.goto('/classroom');
  await expect(page.getByText('No readings yet.')).toBeVisible();
  await page.getByLabel('Learner').fill('Ana');
  await page.getByLabel('What was read').fill(PASSAGE.replace('green ', '').replace('tall', 'small'));
  await chooseRecording(page, passageWav());

  const report = page.getByRole('region', { name: 'Ana · The little dog' });
  await expect(report).toBeVisible();
  // 29 words, one left out and one misread: 27 correct.
  await expect(report.getByText('93% of 29 words read right')).toBeVisible();
  await expect(report.getByText('green left out')).toBeVisible();
  await expect(report.getByText('tall read as “small”')).toBeVisible();
  const syllables = Number((await report.getByText(/^\d+ syllables, pauses included$/).textContent())!.split(' ')[0]);
  // 34 syllables by hand; the measure is within 10% of that.
  expect(Math.abs(syllables - 34)).toBeLessThanOrEqual(3);
  await expect(report.getByRole('img', { name: /^Pitch over \d+ seconds, from \d+ to \d+ Hz$/ })).toBeVisible();

  const progress = page.getByRole('region', { name: 'Progress' });
  await expect(progress.getByRole('row')).toHaveCount(2);
  await page.reload();
  await expect(
    page.getByRole('region', { name: 'Progress' }).getByRole('cell', { name: 'The little dog' })
  ).toBeVisible();

  // Deleted with undo.
  await page.getByRole('button', { name: /^Delete the reading of / }).click();
  await expect(page.getByText('No readings yet.')).toBeVisible();
  await page.getByRole('button', { name: 'Undo' }).click();
  await expect(
    page.getByRole('region', { name: 'Progress' }).getByRole('cell', { name: 'The little dog' })
  ).toBeVisible();
});

test('a reading recorded from the microphone is measured', async ({ page }) => {
  await page.goto('/classroom');
  // The page has started (its history read): the form's fields are live.
  await expect(page.getByText('No readings yet.')).toBeVisible();
  await page.getByLabel('Learner').fill('Ben');
  await page.getByLabel('Passage', { exact: true }).selectOption({ label: 'No passage (free speech)' });
  await page.getByRole('button', { name: 'Record', exact: true }).click();
  await expect(page.getByRole('timer')).toBeVisible();
  // The fake microphone reads its sentence once in about four seconds.
  await expect(page.getByRole('timer')).toHaveAccessibleName('Recording for 0:05', { timeout: 15_000 });
  await page.getByRole('button', { name: 'Stop and measure' }).click();
  const report = page.getByRole('region', { name: 'Ben · Free speech' });
  await expect(report).toBeVisible();
  const syllables = Number((await report.getByText(/^\d+ syllables, pauses included$/).textContent())!.split(' ')[0]);
  // At least one reading of the fake microphone's sentence (14 syllables, less the 10% the measure may miss).
  expect(FAKE_MICROPHONE_TEXT).toMatch(/^The little dog/);
  expect(syllables).toBeGreaterThanOrEqual(13);
});

test('leaving the page while recording turns the microphone off and keeps nothing', async ({ page }) => {
  // Every track the page is given, to see whether it was let go.
  await page.addInitScript(() => {
    const tracks: MediaStreamTrack[] = [];
    (window as unknown as { micTracks: MediaStreamTrack[] }).micTracks = tracks;
    const open = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
    navigator.mediaDevices.getUserMedia = async (constraints) => {
      const stream = await open(constraints);
      tracks.push(...stream.getTracks());
      return stream;
    };
  });
  await page.goto('/classroom');
  await expect(page.getByText('No readings yet.')).toBeVisible();
  await page.getByLabel('Learner').fill('Eli');
  await page.getByRole('button', { name: 'Record', exact: true }).click();
  await expect(page.getByRole('timer')).toBeVisible();
  const states = () =>
    page.evaluate(() => (window as unknown as { micTracks: MediaStreamTrack[] }).micTracks.map((t) => t.readyState));
  expect(await states()).toEqual(['live']);
  // Client-side navigation: the same window, so the tracks are still there to look at.
  await page.getByRole('link', { name: 'Status' }).first().click();
  await expect(page).toHaveURL(/\/status$/);
  await expect.poll(states).toEqual(['ended']);
  // Back on the page: no recording under way, nothing kept.
  await page.getByRole('link', { name: 'Classroom' }).first().click();
  await expect(page.getByText('No readings yet.')).toBeVisible();
  await expect(page.getByRole('timer')).toHaveCount(0);
  await page.getByLabel('Learner').fill('Eli');
  await expect(page.getByRole('button', { name: 'Record', exact: true })).toBeEnabled();
});

test('a file that is not audio is refused in plain words, and nothing is kept', async ({ page }) => {
  await page.goto('/classroom');
  // The page has started (its history read): the form's fields are live.
  await expect(page.getByText('No readings yet.')).toBeVisible();
  await page.getByLabel('Learner').fill('Cleo');
  await chooseRecording(page, Buffer.from('not audio at all'), 'notes.wav');
  await expect(page.getByRole('alert')).toContainText('This file is not audio the browser can read');
  await expect(page.getByText('No readings yet.')).toBeVisible();
});
