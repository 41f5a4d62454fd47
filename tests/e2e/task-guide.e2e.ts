import { expect, test } from '@playwright/test';
import { installTestModel } from './helpers.ts';

test('the task guide: start a sample task, move through it, ask about it, resume after reload', async ({ page }) => {
  await page.goto('/');
  const panel = page.getByRole('region', { name: 'Task guide' });
  await panel
    .getByRole('combobox', { name: 'Task', exact: true })
    .selectOption({ label: 'Washing hands (WHO method)' });
  await panel.getByRole('button', { name: 'Start' }).click();
  // Nothing was seen yet: the guide claims no confidence in the step.
  await expect(panel.getByTestId('task-progress')).toHaveText('Step 1 of 9');
  await expect(panel.locator('[aria-current=step]')).toHaveText('Wet hands and apply soap');

  await panel.getByRole('button', { name: 'Next step' }).click();
  await expect(panel.getByTestId('task-progress')).toContainText('Step 2 of 9');
  await panel.getByRole('button', { name: 'How many steps left?' }).click();
  // The question stands with its answer; the timing is a line of its own, not glued to the answer.
  await expect(panel.getByTestId('task-question')).toHaveText('How many steps left?');
  await expect(panel.getByTestId('task-answer')).toHaveText(
    "You're on step 2 of 9: Rub palms together. 7 steps left after this one."
  );
  await expect(panel.getByTestId('task-answer-details')).toHaveText(/^From the task steps in \d+\.\d\d ms$/);
  await panel.getByRole('button', { name: 'What did I just do?' }).click();
  await expect(panel.getByTestId('task-answer')).toContainText('You just finished');

  // Typed questions are classified too; "go back" moves the task.
  await panel.getByLabel('Question about the task').fill('go back a step');
  await panel.getByRole('button', { name: 'Ask', exact: true }).click();
  await expect(panel.getByTestId('task-answer')).toContainText('Okay, back to');
  await expect(panel.getByTestId('task-progress')).toContainText('Step 1 of 9');
  await panel.getByRole('button', { name: 'Next step' }).click();
  // Shown once stored: reloading before that would race the write, not test the resume.
  await expect(panel.getByTestId('task-progress')).toContainText('Step 2 of 9');

  // The session lives in IndexedDB: a reload resumes it where it was.
  await page.reload();
  await expect(panel.getByTestId('task-progress')).toContainText('Step 2 of 9');
  await expect(panel.locator('[aria-current=step]')).toHaveText('Rub palms together');
  await expect(panel.getByRole('combobox', { name: 'Task', exact: true })).toHaveValue('hand-washing');

  // Ended, it is not resumed; Undo brings it back where it was.
  await panel.getByRole('button', { name: 'End task' }).click();
  await expect(panel.getByTestId('task-progress')).toBeHidden();
  await page.getByRole('button', { name: 'Undo' }).click();
  await expect(panel.getByTestId('task-progress')).toHaveText('Step 2 of 9');
  await panel.getByRole('button', { name: 'End task' }).click();
  await expect(panel.getByTestId('task-progress')).toBeHidden();
  await page.reload();
  await expect(panel.getByText('Pick a task to get step-by-step guidance')).toBeVisible();
  await expect(panel.getByTestId('task-progress')).toBeHidden();
});

test('a task file that is not valid JSON or not a task gives a clear error', async ({ page }) => {
  await page.goto('/');
  const panel = page.getByRole('region', { name: 'Task guide' });
  const input = panel.getByTestId('task-input');
  await expect(input).toBeEnabled();
  await input.setInputFiles({ name: 'broken.json', mimeType: 'application/json', buffer: Buffer.from('{ "id": ') });
  await expect(panel.getByRole('alert')).toContainText('"broken.json" is not valid JSON.');
  const noSteps = JSON.stringify({ title: 'Empty', steps: [] });
  await input.setInputFiles({ name: 'empty.json', mimeType: 'application/json', buffer: Buffer.from(noSteps) });
  await expect(panel.getByRole('alert')).toContainText(
    '"empty.json" can\'t be used as a task. The task needs an id and at least one step.'
  );

  const task = {
    id: 'tea',
    title: 'Making tea',
    steps: [
      { id: 'boil', title: 'Boil water', description: 'Boil the kettle.', visualCues: ['steam'], tips: [] },
      { id: 'steep', title: 'Steep', description: 'Steep for 3 minutes.', visualCues: ['tea bag in a cup'], tips: [] }
    ]
  };
  await input.setInputFiles({
    name: 'tea.json',
    mimeType: 'application/json',
    buffer: Buffer.from(JSON.stringify(task))
  });
  await expect(panel.getByRole('heading', { name: 'Making tea' })).toBeVisible();
  await expect(panel.getByTestId('task-progress')).toContainText('Step 1 of 2');
});

test('an answer the task state cannot settle is asked of the model, with the task as context', async ({ page }) => {
  await page.goto('/');
  const panel = page.getByRole('region', { name: 'Task guide' });
  await panel.getByRole('combobox', { name: 'Task', exact: true }).selectOption({ label: 'Brewing pour-over coffee' });
  await panel.getByRole('button', { name: 'Start' }).click();
  const question = 'Is my kettle too loud?';
  await panel.getByLabel('Question about the task').fill(question);
  await panel.getByRole('button', { name: 'Ask', exact: true }).click();
  // No model to ask: the template answer says it is unsure, and how to do better.
  await expect(panel.getByTestId('task-answer-details')).toContainText(' ms · not sure of this answer');
  await expect(panel.getByRole('link', { name: 'install a vision-language model' })).toBeVisible();

  await installTestModel(page, 'wasm-fp32');
  await page.getByRole('link', { name: 'Camera' }).click();
  await panel.getByLabel('Question about the task').fill(question);
  await panel.getByRole('button', { name: 'Ask', exact: true }).click();
  const fallback = panel.getByTestId('task-fallback');
  await expect(fallback.getByRole('heading', { name: 'Asked the model' })).toBeVisible();
  // While it asks, the guide says so and offers to stop (the camera's buttons wait on the same engine).
  await expect(fallback.getByTestId('engine-activity')).toHaveText(
    /The task guide is (loading|asking) Tiny SmolVLM \(test\)…\s*Stop/
  );
  // The camera's answer sheet says it too, since its questions wait for it.
  await expect(page.getByRole('region', { name: 'Answer and questions' }).getByTestId('engine-activity')).toHaveText(
    /The task guide is (loading|asking) Tiny SmolVLM \(test\)…\s*Stop/
  );
  await expect(fallback).toHaveAttribute('aria-busy', 'false', { timeout: 60_000 });
  await expect(fallback.getByTestId('cited-answer')).not.toBeEmpty();
  // A fallback answer is not an observation of the scene: it neither enters the history nor moves the task.
  await expect(page.getByText('Answers you get are kept here')).toBeVisible();
  await expect(panel.getByTestId('task-progress')).toContainText('Step 1 of');
});
