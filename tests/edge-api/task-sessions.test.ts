import { readFileSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pngDataUrl } from './support/png.ts';
import { jsonLogger } from '../../edge-api/http/logger.ts';
import { createNodeApp, type NodeApp } from '../../edge-api/server.ts';
import { auth, jsonHeaders, testApp, testConfig, type TestApp } from './support/test-app.ts';

const handWashing = JSON.parse(readFileSync('static/tasks/hand-washing.json', 'utf8')) as {
  id: string;
  steps: Array<{ title: string; description: string; visualCues: string[] }>;
};

let t: TestApp;
beforeAll(async () => {
  t = await testApp();
});
afterAll(() => t.close());

const post = (path: string, body: unknown, headers = jsonHeaders()) =>
  t.app.request(path, { method: 'POST', headers, body: JSON.stringify(body) });

interface Session {
  id: string;
  status: string;
  task_id: string;
  current_state: { step_index: number; current_step: number; step_title: string };
}

async function startSession(body: unknown = { task_id: 'hand-washing' }, tenant: 'alpha' | 'beta' = 'alpha') {
  const res = await post('/api/v1/sessions', body, jsonHeaders(tenant));
  expect(res.status).toBe(201);
  return (await res.json()) as Session;
}

/** The seed's request, verbatim (SEED-CONTRACTS.md, "Vision assistant"). */
const SEED_QUERY = { query: 'What step am I on?', include_history: true, max_history: 5 };
/** The seed's answer, verbatim: what a client written from it reads. */
const SEED_ANSWER = {
  status: 'success',
  response_text: 'You are currently on step 3 of the coffee brewing task',
  query_type: 'CURRENT_STEP',
  confidence: 0.85,
  processing_time_ms: 45,
  current_state: {
    task_name: 'coffee_brewing',
    current_step: 3,
    step_title: 'Grind Coffee Beans',
    confidence: 0.85,
    timestamp: '2025-02-08T10:30:00Z'
  },
  history: [{ step: 2, title: 'Measure Coffee Beans', timestamp: '2025-02-08T10:25:00Z' }]
};

/** Same keys and value types as `seed`, recursively (arrays: each entry like the seed's first). */
function expectSeedShape(actual: unknown, seed: unknown, path = 'answer'): void {
  if (Array.isArray(seed)) {
    expect(Array.isArray(actual), path).toBe(true);
    for (const [i, entry] of (actual as unknown[]).entries()) {
      expectSeedShape(entry, seed[0], `${path}[${i}]`);
    }
  } else if (seed !== null && typeof seed === 'object') {
    for (const [key, value] of Object.entries(seed)) {
      expect(actual, path).toHaveProperty(key);
      expectSeedShape((actual as Record<string, unknown>)[key], value, `${path}.${key}`);
    }
  } else {
    expect(typeof actual, path).toBe(typeof seed);
  }
}

describe('task sessions', () => {
  it('answers the seed request verbatim in the seed shape, from the latest session', async () => {
    const session = await startSession();
    // An observation first, as the camera would send.
    await post('/api/v1/sessions/' + session.id + '/observations', {
      text: `${handWashing.steps[1]!.title}. ${handWashing.steps[1]!.description}`
    });
    const res = await post('/api/v1/state/query', SEED_QUERY);
    expect(res.status).toBe(200);
    const answer = (await res.json()) as Record<string, unknown>;
    expectSeedShape(answer, SEED_ANSWER);
    expect(answer).toMatchObject({
      status: 'success',
      session_id: session.id,
      query_type: 'CURRENT_STEP',
      current_state: { task_name: 'hand-washing', task_id: 'hand-washing' }
    });
    expect(new Date((answer.current_state as { timestamp: string }).timestamp).toISOString()).toBeTruthy();
  });

  it('creates from a task definition or a stored task; refuses both, neither, or an unknown one', async () => {
    const own = await startSession({ task: handWashing });
    expect(own).toMatchObject({
      status: 'active',
      task_id: 'hand-washing',
      current_state: { step_index: 0, current_step: 1 }
    });
    expect((await post('/api/v1/sessions', { task: handWashing, task_id: 'hand-washing' })).status).toBe(422);
    expect((await post('/api/v1/sessions', {})).status).toBe(422);
    const unknown = await post('/api/v1/sessions', { task_id: 'no-such-task' });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: 'task_not_found' } });
    const invalid = await post('/api/v1/sessions', { task: { id: 'x', steps: [] } });
    expect(invalid.status).toBe(422);
    expect(await invalid.json()).toMatchObject({ error: { code: 'task_invalid', param: 'task' } });
  });

  it('matches text observations with the embeddings model and keeps the state', async () => {
    const session = await startSession();
    const res = await post(`/api/v1/sessions/${session.id}/observations`, {
      text: 'hands under running water with soap'
    });
    expect(res.status).toBe(200);
    const result = (await res.json()) as {
      object: string;
      text: string;
      session: Session & { state: { observations: number; ignored: number } };
    };
    expect(result).toMatchObject({ object: 'task_observation', text: 'hands under running water with soap' });
    // Counted either way: as an observation, or as one that matched no step well enough.
    expect(result.session.state.observations + result.session.state.ignored).toBe(1);
    const got = await t.app.request(`/api/v1/sessions/${session.id}`, { headers: auth() });
    expect(((await got.json()) as typeof result.session).state).toEqual(result.session.state);
  });

  it('describes an image observation with the vision model first', { timeout: 60_000 }, async () => {
    const session = await startSession();
    const res = await post(`/api/v1/sessions/${session.id}/observations`, { image_url: pngDataUrl() });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { text: string }).text).toEqual(expect.any(String));
  });

  it('ends a session: it still answers, takes no more observations, and refuses go back (409)', async () => {
    const session = await startSession();
    const ended = await post(`/api/v1/sessions/${session.id}/end`, {});
    expect(ended.status).toBe(200);
    expect(await ended.json()).toMatchObject({ status: 'ended', ended_at: expect.any(Number) });
    expect((await post(`/api/v1/sessions/${session.id}/observations`, { text: 'soap' })).status).toBe(409);
    const asked = await post('/api/v1/state/query', { query: 'What step am I on?', session_id: session.id });
    expect(asked.status).toBe(200);
    const back = await post('/api/v1/state/query', { query: 'Go back', session_id: session.id });
    expect(back.status).toBe(409);
  });

  it('takes the session from the body, else X-Session-Id, else the latest; "go back" moves it', async () => {
    const first = await startSession();
    await startSession();
    const byHeader = await post(
      '/api/v1/state/query',
      { query: 'What step am I on?' },
      { ...jsonHeaders(), 'x-session-id': first.id }
    );
    expect(((await byHeader.json()) as { session_id: string }).session_id).toBe(first.id);
    const restart = await post('/api/v1/state/query', { query: 'Start over', session_id: first.id });
    expect(((await restart.json()) as { query_type: string }).query_type).toBe('START_OVER');
    // Changed last, so now the latest.
    const latest = await post('/api/v1/state/query', { query: 'What step am I on?', include_history: false });
    const answer = (await latest.json()) as { session_id: string; history: unknown[] };
    expect(answer).toMatchObject({ session_id: first.id, history: [] });
  });

  it("keeps tenants apart: another tenant's session is a 404 everywhere", async () => {
    const session = await startSession();
    const beta = jsonHeaders('beta');
    expect((await t.app.request(`/api/v1/sessions/${session.id}`, { headers: auth('beta') })).status).toBe(404);
    expect((await post(`/api/v1/sessions/${session.id}/observations`, { text: 'soap' }, beta)).status).toBe(404);
    expect((await post(`/api/v1/sessions/${session.id}/end`, {}, beta)).status).toBe(404);
    const query = await post('/api/v1/state/query', { query: 'What step am I on?', session_id: session.id }, beta);
    expect(query.status).toBe(404);
    expect(await query.json()).toMatchObject({ error: { code: 'session_not_found' } });
    const list = (await (await t.app.request('/api/v1/sessions', { headers: auth('beta') })).json()) as {
      data: Session[];
    };
    expect(list.data.map((s) => s.id)).not.toContain(session.id);
  });

  it("lists the caller's sessions newest first, in pages", async () => {
    const a = await startSession();
    const b = await startSession();
    const page = (await (await t.app.request('/api/v1/sessions?limit=1', { headers: auth() })).json()) as {
      data: Session[];
      next_cursor: string;
    };
    expect(page.data.map((s) => s.id)).toEqual([b.id]);
    const next = (await (
      await t.app.request(`/api/v1/sessions?limit=1&cursor=${page.next_cursor}`, { headers: auth() })
    ).json()) as { data: Session[] };
    expect(next.data.map((s) => s.id)).toEqual([a.id]);
  });

  it('is in the OpenAPI document', async () => {
    const doc = (await (await t.app.request('/openapi.json')).json()) as { paths: Record<string, unknown> };
    for (const path of [
      '/api/v1/sessions',
      '/api/v1/sessions/{id}',
      '/api/v1/sessions/{id}/observations',
      '/api/v1/sessions/{id}/end'
    ]) {
      expect(doc.paths).toHaveProperty([path]);
    }
  });
});

describe('task sessions across a restart (SQLite)', () => {
  it('reads a session back after the app is built again on the same data folder', async () => {
    const config = testConfig();
    const request = (app: NodeApp['app'], path: string, body?: unknown) =>
      app.request(
        path,
        body === undefined
          ? { headers: auth() }
          : { method: 'POST', headers: jsonHeaders(), body: JSON.stringify(body) }
      );
    try {
      const first = await createNodeApp(config, jsonLogger('silent'));
      const session = (await (
        await request(first.app, '/api/v1/sessions', { task_id: 'brewing-coffee' })
      ).json()) as Session;
      await first.close();

      const second = await createNodeApp(config, jsonLogger('silent'));
      try {
        const got = await request(second.app, `/api/v1/sessions/${session.id}`);
        expect(got.status).toBe(200);
        expect(await got.json()).toMatchObject({ id: session.id, task_id: 'brewing-coffee' });
        const answer = await request(second.app, '/api/v1/state/query', SEED_QUERY);
        expect(await answer.json()).toMatchObject({ status: 'success', session_id: session.id });
      } finally {
        await second.close();
      }
    } finally {
      rmSync(config.DATA_DIR, { recursive: true, force: true });
    }
  });
});
