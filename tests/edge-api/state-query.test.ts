import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonHeaders, testApp, type TestApp } from './support/test-app.ts';

const task = (name: string) => JSON.parse(readFileSync(`static/tasks/${name}.json`, 'utf8')) as Record<string, unknown>;
const handWashing = task('hand-washing');

let t: TestApp;
beforeAll(async () => {
  t = await testApp();
});
afterAll(() => t.close());

const query = (body: unknown) =>
  t.app.request('/api/v1/state/query', { method: 'POST', headers: jsonHeaders(), body: JSON.stringify(body) });

interface Answer {
  response_text: string;
  query_type: string;
  needs_fallback: boolean;
  current_state: { task_id: string; step_index: number; total_steps: number; step_title: string };
  state: Record<string, unknown>;
}

describe('POST /api/v1/state/query', () => {
  it('starts the task and answers from the same tracker the app runs', async () => {
    const res = await query({ query: 'What step am I on?', task: handWashing });
    expect(res.status).toBe(200);
    const answer = (await res.json()) as Answer;
    expect(answer).toMatchObject({
      status: 'success',
      session_id: null,
      query_type: 'CURRENT_STEP',
      current_state: { task_id: 'hand-washing', step_index: 0, step_title: 'Wet hands and apply soap' },
      processing_time_ms: expect.any(Number),
      history: expect.any(Array)
    });
    expect(answer.current_state.total_steps).toBe((handWashing.steps as unknown[]).length);
    expect(answer.response_text).toContain('Wet hands and apply soap');
  });

  it('carries the state between queries: "start over" on a resumed state keeps the task', async () => {
    const first = (await (await query({ query: 'How many steps are left?', task: handWashing })).json()) as Answer;
    const next = await query({ query: 'Start over', task: handWashing, state: first.state });
    expect(next.status).toBe(200);
    const answer = (await next.json()) as Answer;
    expect(answer.query_type).toBe('START_OVER');
    expect(answer.current_state.step_index).toBe(0);
  });

  it('refuses an invalid task (422 on "task") and a state of another task (422 on "state")', async () => {
    const badTask = await query({ query: 'What step am I on?', task: { id: 'x', steps: [] } });
    expect(badTask.status).toBe(422);
    expect(await badTask.json()).toMatchObject({ error: { code: 'task_invalid', param: 'task' } });

    const coffee = (await (
      await query({ query: 'What step am I on?', task: task('brewing-coffee') })
    ).json()) as Answer;
    const mixed = await query({ query: 'What step am I on?', task: handWashing, state: coffee.state });
    expect(mixed.status).toBe(422);
    expect(await mixed.json()).toMatchObject({ error: { code: 'tracker_state_invalid', param: 'state' } });
  });

  it('refuses an empty question (422)', async () => {
    const res = await query({ query: '', task: handWashing });
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({ error: { param: 'query' } });
  });
});
