import { setTimeout as sleep } from 'node:timers/promises';
import { Hono } from 'hono';
import { upgradeWebSocket } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, type RawData } from 'ws';
import { listen } from '../../edge-api/listen.ts';
import type { FrameAnalysis, SessionStatus } from '../../edge-api/realtime/messages.ts';
import { nodeWebSockets } from '../../edge-api/realtime/node-websockets.ts';
import { RealtimeSession } from '../../edge-api/realtime/session.ts';
import { jsonLogger } from '../../edge-api/http/logger.ts';
import { completion, fakeUpstream, type FakeUpstream } from './support/fake-upstream.ts';
import { gradientPng, pngDataUrl } from './support/png.ts';
import { auth, jsonHeaders, TENANTS, testServer, type TestServer } from './support/test-app.ts';

/** The fake model answers each frame after this long: slower than frames come. */
const SLOW_MS = 300;
const SLOW_MODEL = 'slow-vlm';

let upstream: FakeUpstream;
let server: TestServer;
let wsUrl: string;

beforeAll(async () => {
  upstream = await fakeUpstream(async (call, _req, res) => {
    await sleep(SLOW_MS);
    res.writeHead(200, { 'content-type': 'application/json' }).end(completion(`answer ${call}`));
  });
  server = await testServer({
    UPSTREAMS: JSON.stringify([{ model: SLOW_MODEL, url: upstream.url }]),
    BODY_LIMIT_MB: '1'
  });
  wsUrl = server.url.replace(/^http/, 'ws');
});

afterAll(async () => {
  await server.close();
  await upstream.close();
});

interface Message {
  type: string;
  status?: SessionStatus | string;
  response?: FrameAnalysis;
  task_session_id?: string;
  ended?: boolean;
  state?: Record<string, unknown>;
  error?: { code: string; message: string };
}

/** A `ws` client that keeps every message it gets, and waits for the ones a test expects. */
function client(path = '/ws', headers: Record<string, string> = auth()) {
  const socket = new WebSocket(`${wsUrl}${path}`, { headers });
  const received: Message[] = [];
  const waiters = new Set<() => void>();
  socket.on('message', (data: RawData) => {
    received.push(JSON.parse(data.toString()) as Message);
    waiters.forEach((wake) => wake());
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() }))
  );
  /** Resolves with the first message (from the start) that `matches`. */
  const next = (matches: (message: Message) => boolean, timeoutMs = 15_000) =>
    new Promise<Message>((resolve, reject) => {
      const check = () => {
        const found = received.find(matches);
        if (found) {
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
        }
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no matching message; got ${JSON.stringify(received.map((m) => m.type))}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  const status = async () => (await next((m) => m.type === 'system_status')).status as SessionStatus;
  const answer = async (frameId: number) =>
    (await next((m) => m.type === 'vlm_response' && m.response?.frame_id === frameId)).response!;
  const opened = new Promise<void>((resolve) => socket.once('open', () => resolve()));
  const send = async (message: unknown) => {
    await opened;
    socket.send(JSON.stringify(message));
  };
  return { socket, received, next, status, answer, send, closed };
}

const frame = (image = pngDataUrl()) => ({ type: 'frame', image });

describe('/ws live sessions', () => {
  it('pushes each answer to every client on the session, whichever way they authenticated', async () => {
    const first = client();
    const { session_id, resumed, model } = await first.status();
    expect(resumed).toBe(false);
    expect(model).toBe('tiny-smolvlm');

    // A browser cannot set headers: its first message carries the token.
    const second = client(`/ws?session_id=${session_id}`, {});
    await second.send({ type: 'auth', token: TENANTS.alpha });
    const joined = await second.status();
    expect(joined).toMatchObject({ session_id, resumed: true, connections: 2 });

    await first.send(frame());
    const [a, b] = await Promise.all([first.answer(1), second.answer(1)]);
    expect(a).toEqual(b);
    expect(a).toMatchObject({ frame_id: 1, model: 'tiny-smolvlm' });
    expect(typeof a.text).toBe('string');
    first.socket.close();
    second.socket.close();
  });

  it('analyses the newest frame when frames come faster than the model answers: one waits, the rest are dropped', async () => {
    const callsBefore = upstream.calls;
    const live = client(`/ws?model=${SLOW_MODEL}`);
    const { session_id } = await live.status();
    const sent = 12;
    // Binary frames too: the camera's bytes as they are.
    for (let i = 1; i <= sent; i += 1) {
      if (i % 2) {
        await live.send(frame());
      } else {
        live.socket.send(gradientPng());
      }
      await sleep(50);
    }
    // The newest frame is always analysed, last.
    await live.answer(sent);
    const answers = live.received.filter((m) => m.type === 'vlm_response').map((m) => m.response!.frame_id);
    // 12 frames over ~600 ms against 300 ms per answer: the first, then whichever was newest each time.
    expect(answers[0]).toBe(1);
    expect(answers.at(-1)).toBe(sent);
    expect(answers.length).toBeLessThanOrEqual(5);
    expect(upstream.calls - callsBefore).toBe(answers.length);

    const analysis = await fetch(`${server.url}/api/v1/realtime/analysis?session_id=${session_id}`, {
      headers: auth()
    });
    expect(analysis.status).toBe(200);
    const body = (await analysis.json()) as { frames: SessionStatus['frames']; latest: FrameAnalysis };
    expect(body.frames).toMatchObject({ received: sent, analysed: answers.length, failed: 0 });
    expect(body.frames.replaced).toBe(sent - answers.length);
    expect(body.latest.frame_id).toBe(sent);
    live.socket.close();
  });

  it('resumes a session after a dropped connection, with the answer given while it was away', async () => {
    const live = client(`/ws?model=${SLOW_MODEL}`);
    const { session_id } = await live.status();
    await live.send(frame());
    await sleep(50);
    live.socket.terminate();

    await sleep(SLOW_MS + 100);
    const back = client(`/ws?session_id=${session_id}`);
    expect(await back.status()).toMatchObject({ session_id, resumed: true, connections: 1 });
    expect((await back.answer(1)).text).toMatch(/^answer \d+$/);
    await back.send(frame());
    expect((await back.answer(2)).frame_id).toBe(2);
    back.socket.close();
  });

  it("asks a frame's own question in place of the session's prompt", async () => {
    const asked: string[] = [];
    const session = new RealtimeSession({
      id: 'prompted',
      tenant: 'alpha',
      model: SLOW_MODEL,
      prompt: 'the session prompt',
      taskSessionId: null,
      analyse: async ({ prompt }) => (asked.push(prompt), `answer to ${prompt}`),
      logger: jsonLogger('error')
    });
    session.submit(pngDataUrl(), null, 'What is red here?');
    await session.idle();
    session.submit(pngDataUrl(), null);
    await session.idle();
    expect(asked).toEqual(['What is red here?', 'the session prompt']);

    // Over /ws the question travels in the frame message.
    const live = client(`/ws?model=${SLOW_MODEL}`);
    await live.status();
    await live.send({ ...frame(), prompt: 'What is red here?', timestamp_ms: 42 });
    expect(await live.answer(1)).toMatchObject({ timestamp_ms: 42, text: expect.stringMatching(/^answer \d+$/) });
    live.socket.close();
  });

  it('closes with a clear code: 4400 bad JSON or message, 1009 too large, 4401 bad credentials', async () => {
    const badJson = client();
    await badJson.status();
    badJson.socket.send('{not json');
    expect(await badJson.closed).toEqual({ code: 4400, reason: 'Bad JSON' });

    const badMessage = client();
    await badMessage.status();
    await badMessage.send({ type: 'frame', image: 'data:text/html;base64,PGI+' });
    expect((await badMessage.closed).code).toBe(4400);

    const tooBig = client();
    await tooBig.status();
    await tooBig.send(frame(`data:image/jpeg;base64,${'A'.repeat(2 * 1024 * 1024)}`));
    expect((await tooBig.closed).code).toBe(1009);

    const badKey = client('/ws', { authorization: 'Bearer vh_not-a-real-key' });
    expect((await badKey.closed).code).toBe(4401);

    const badToken = client('/ws', {});
    await badToken.send({ type: 'auth', token: 'not-a-jwt' });
    expect((await badToken.closed).code).toBe(4401);

    // Anonymous access is off on this server: a first message other than `auth` is refused.
    const noCredentials = client('/ws', {});
    await noCredentials.send(frame());
    expect((await noCredentials.closed).code).toBe(4401);
    expect(noCredentials.received).toEqual([]);
  });

  it('keeps tenants apart: another tenant cannot join, send to or read a session', async () => {
    const owner = client();
    const { session_id } = await owner.status();

    const intruder = client(`/ws?session_id=${session_id}`, auth('beta'));
    expect((await intruder.closed).code).toBe(4404);
    const unknown = client('/ws?session_id=no-such-session');
    expect((await unknown.closed).code).toBe(4404);

    const read = await fetch(`${server.url}/api/v1/realtime/analysis?session_id=${session_id}`, {
      headers: auth('beta')
    });
    expect(read.status).toBe(404);
    const post = await fetch(`${server.url}/api/v1/realtime/frame`, {
      method: 'POST',
      headers: jsonHeaders('beta'),
      body: JSON.stringify({ session_id, image: pngDataUrl() })
    });
    expect(post.status).toBe(404);
    owner.socket.close();
  });

  it('refuses a plain GET (426) and a browser page from another origin (403)', async () => {
    expect((await fetch(`${server.url}/ws`, { headers: auth() })).status).toBe(426);
    const foreign = new WebSocket(`${wsUrl}/ws`, { headers: { ...auth(), origin: 'https://evil.example' } });
    const status = await new Promise<number>((resolve) =>
      foreign.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0))
    );
    expect(status).toBe(403);
  });
});

describe('/api/v1/realtime (seed 003, for clients without WebSockets)', () => {
  it('starts a session, takes frames and answers, over the pipeline /ws follows', async () => {
    const created = await fetch(`${server.url}/api/v1/realtime/session`, {
      method: 'POST',
      headers: jsonHeaders(),
      body: JSON.stringify({ model: SLOW_MODEL, prompt: 'What is on the bench?' })
    });
    expect(created.status).toBe(201);
    const session = (await created.json()) as { session_id: string; model: string; websocket: string };
    expect(session).toMatchObject({ model: SLOW_MODEL, websocket: `/ws?session_id=${session.session_id}` });

    const watcher = client(session.websocket);
    await watcher.status();
    const post = (image: string) =>
      fetch(`${server.url}/api/v1/realtime/frame`, {
        method: 'POST',
        headers: jsonHeaders(),
        body: JSON.stringify({ session_id: session.session_id, image, timestamp_ms: 1_000 })
      });
    const accepted = await Promise.all([post(pngDataUrl()), post(pngDataUrl()), post(pngDataUrl())]);
    const outcomes = await Promise.all(accepted.map(async (r) => ({ status: r.status, ...(await r.json()) })));
    expect(outcomes.map((o) => o.status)).toEqual([202, 202, 202]);
    expect(outcomes.map((o) => o.outcome).sort()).toEqual(['replaced', 'started', 'waiting']);

    const last = await watcher.answer(3);
    expect(last.timestamp_ms).toBe(1_000);
    const analysis = await fetch(`${server.url}/api/v1/realtime/analysis?session_id=${session.session_id}`, {
      headers: auth()
    });
    const body = (await analysis.json()) as { latest: FrameAnalysis; recent: FrameAnalysis[] };
    expect(body.latest).toEqual(last);
    expect(body.recent.map((a) => a.frame_id)).toEqual([1, 3]);

    expect((await post('data:text/plain;base64,aGk=')).status).toBe(422);
    const unknownModel = await fetch(`${server.url}/api/v1/realtime/session`, {
      method: 'POST',
      headers: jsonHeaders(),
      body: JSON.stringify({ model: 'no-such-model' })
    });
    expect(unknownModel.status).toBe(404);
    watcher.socket.close();
  });
});

describe('WebSocket connections on Node', () => {
  it('tells clients 1001 on shutdown', async () => {
    const own = await testServer();
    const socket = new WebSocket(`${own.url.replace(/^http/, 'ws')}/ws`, { headers: auth() });
    await new Promise((resolve) => socket.once('message', resolve));
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    await own.close();
    expect(await closed).toBe(1001);
  });

  it('cuts a peer that stops answering pings', async () => {
    const sockets = nodeWebSockets({ maxPayloadBytes: 1024, heartbeatMs: 100 });
    const app = new Hono().get(
      '/ws',
      upgradeWebSocket(() => ({}))
    );
    const { server: http, port } = await listen(app.fetch, 0, '127.0.0.1', sockets.server);
    try {
      const alive = new WebSocket(`ws://127.0.0.1:${port}/ws`);
      const dead = new WebSocket(`ws://127.0.0.1:${port}/ws`, { autoPong: false });
      const deadClosed = new Promise<number>((resolve) => dead.once('close', (code) => resolve(code)));
      // 1006: no close frame, the server dropped the connection.
      expect(await deadClosed).toBe(1006);
      expect(alive.readyState).toBe(WebSocket.OPEN);
      alive.close();
    } finally {
      await sockets.close(100);
      await new Promise((resolve) => http.close(resolve));
    }
  });
});

/** A task session of `tenant`'s, on the hand-washing sample task. */
async function taskSession(tenant: 'alpha' | 'beta' = 'alpha') {
  const res = await fetch(`${server.url}/api/v1/sessions`, {
    method: 'POST',
    headers: jsonHeaders(tenant),
    body: JSON.stringify({ task_id: 'hand-washing' })
  });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; current_state: Record<string, unknown> };
}

const stateUpdates = (live: ReturnType<typeof client>) => live.received.filter((m) => m.type === 'state_update');

describe('/ws linked to a task session (seed 000)', () => {
  it('observes each answer of a linked session, pushes the change as state_update, answers state_query in the seed shape', async () => {
    const task = await taskSession();
    const live = client(`/ws?model=${SLOW_MODEL}&task_session_id=${task.id}`);
    expect(await live.status()).toMatchObject({ task_session_id: task.id, resumed: false });
    // Where the task stands on joining, before anything was observed.
    const joined = await live.next((m) => m.type === 'state_update');
    expect(joined).toMatchObject({ task_session_id: task.id, ended: false, state: task.current_state });

    await live.send(frame());
    await live.answer(1);
    const update = await live.next((m) => m.type === 'state_update' && m !== joined);
    expect(update).toMatchObject({
      task_session_id: task.id,
      ended: false,
      state: { task_name: 'hand-washing', current_step: expect.any(Number), step_title: expect.any(String) }
    });
    // The answer went through the observation path: the task session counted it.
    const stored = (await (await fetch(`${server.url}/api/v1/sessions/${task.id}`, { headers: auth() })).json()) as {
      state: { observations: number; ignored: number };
      current_state: Record<string, unknown>;
    };
    expect(stored.state.observations + stored.state.ignored).toBe(1);
    expect(update.state).toEqual(stored.current_state);

    await live.send({ type: 'state_query', query: 'What step am I on?', include_history: true, max_history: 5 });
    const answer = await live.next((m) => m.type === 'state_response');
    expect(answer).toMatchObject({
      type: 'state_response',
      status: 'success',
      session_id: task.id,
      query_type: 'CURRENT_STEP',
      response_text: expect.any(String),
      confidence: expect.any(Number),
      processing_time_ms: expect.any(Number),
      current_state: {
        task_name: 'hand-washing',
        current_step: expect.any(Number),
        step_title: expect.any(String),
        confidence: expect.any(Number),
        timestamp: expect.any(String)
      },
      history: expect.any(Array)
    });
    live.socket.close();
  });

  it('pushes an HTTP observation of the task session to the sockets linked to it (browser auth message)', async () => {
    const task = await taskSession();
    const live = client('/ws', {});
    await live.send({ type: 'auth', token: TENANTS.alpha, task_session_id: task.id });
    expect((await live.status()).task_session_id).toBe(task.id);
    const joined = await live.next((m) => m.type === 'state_update');
    const unlinked = client();
    await unlinked.status();

    const observed = await fetch(`${server.url}/api/v1/sessions/${task.id}/observations`, {
      method: 'POST',
      headers: jsonHeaders(),
      body: JSON.stringify({ text: 'hands under running water with soap' })
    });
    expect(observed.status).toBe(200);
    const { session } = (await observed.json()) as { session: { current_state: Record<string, unknown> } };
    const update = await live.next((m) => m.type === 'state_update' && m !== joined);
    expect(update).toMatchObject({ task_session_id: task.id, state: session.current_state });

    // Ending it is a change too; a socket on no task session hears nothing of it.
    await fetch(`${server.url}/api/v1/sessions/${task.id}/end`, { method: 'POST', headers: auth() });
    expect(await live.next((m) => m.type === 'state_update' && m.ended === true)).toBeTruthy();
    expect(stateUpdates(unlinked)).toEqual([]);
    live.socket.close();
    unlinked.socket.close();
  });

  it("refuses another tenant's task session or an unknown one: 4404 on /ws, 404 over HTTP", async () => {
    const task = await taskSession('beta');
    const intruder = client(`/ws?task_session_id=${task.id}`);
    expect((await intruder.closed).code).toBe(4404);
    const unknown = client('/ws', {});
    await unknown.send({ type: 'auth', token: TENANTS.alpha, task_session_id: 'no-such-task-session' });
    expect((await unknown.closed).code).toBe(4404);

    const start = (tenant: 'alpha' | 'beta') =>
      fetch(`${server.url}/api/v1/realtime/session`, {
        method: 'POST',
        headers: jsonHeaders(tenant),
        body: JSON.stringify({ model: SLOW_MODEL, task_session_id: task.id })
      });
    const refused = await start('alpha');
    expect(refused.status).toBe(404);
    expect(await refused.json()).toMatchObject({ error: { code: 'session_not_found' } });
    const own = await start('beta');
    expect(own.status).toBe(201);
    expect(await own.json()).toMatchObject({ task_session_id: task.id });
  });

  it('answers state_query on a session with no task session with a clear error, and stays open', async () => {
    const live = client();
    expect((await live.status()).task_session_id).toBeNull();
    await live.send({ type: 'state_query', query: 'What step am I on?' });
    const answer = await live.next((m) => m.type === 'state_response');
    expect(answer).toMatchObject({ status: 'error', error: { code: 'no_task_session' } });
    expect(answer.error?.message).toMatch(/task_session_id/);
    await sleep(50);
    expect(live.socket.readyState).toBe(WebSocket.OPEN);
    live.socket.close();
  });
});
