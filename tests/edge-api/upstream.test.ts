import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readSse } from '../../src/lib/core/sse.ts';
import type { JobView, MedgemmaAnalyzeResult } from '../../src/lib/core/edge-wire.ts';
import { jsonLogger, type Logger } from '../../edge-api/http/logger.ts';
import { completion, fakeUpstream, type FakeUpstream } from './support/fake-upstream.ts';
import { pngDataUrl } from './support/png.ts';
import { freePort } from './support/redis.ts';
import { auth, jsonHeaders, TENANTS, testApp, testServer, type TestApp, type TestServer } from './support/test-app.ts';

const MEDGEMMA = 'google/medgemma-4b-it';
const upstreamEntry = (url: string, extra: object = {}) => ({
  model: MEDGEMMA,
  url,
  upstreamModel: 'tiny-smolvlm',
  apiKey: TENANTS.alpha,
  ...extra
});
const gatewayEnv = (upstreams: object[], env: Record<string, string> = {}) => ({
  UPSTREAMS: JSON.stringify(upstreams),
  MEDGEMMA_MODEL: MEDGEMMA,
  // The gateway itself runs no vision model: every answer below came from an upstream.
  LOCAL_MODELS: 'tiny-bert',
  ...env
});

const question = (model: string, extra: object = {}) => ({
  model,
  messages: [
    {
      role: 'user',
      content: [
        { type: 'image_url', image_url: { url: pngDataUrl() } },
        { type: 'text', text: 'Describe it.' }
      ]
    }
  ],
  max_tokens: 6,
  ...extra
});

const chat = (target: { request: TestApp['app']['request'] } | string, body: unknown) =>
  typeof target === 'string'
    ? fetch(`${target}/v1/chat/completions`, { method: 'POST', headers: jsonHeaders(), body: JSON.stringify(body) })
    : target.request('/v1/chat/completions', { method: 'POST', headers: jsonHeaders(), body: JSON.stringify(body) });

const text = async (res: Response) =>
  ((await res.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content;

/** Runs a MedGemma job on one image to its end; returns its last view. */
async function runJob(gateway: TestApp): Promise<JobView> {
  const worker = gateway.runtime.work(1);
  try {
    const submitted = await gateway.app.request('/v1/jobs', {
      method: 'POST',
      headers: jsonHeaders(),
      body: JSON.stringify({ type: 'medgemma.analyze', input: { images: [{ url: pngDataUrl() }], max_tokens: 4 } })
    });
    let view = (await submitted.json()) as JobView;
    for await (const { data } of readSse(
      (await gateway.app.request(`/v1/jobs/${view.id}/events`, { headers: auth() })).body!
    )) {
      view = JSON.parse(data) as JobView;
    }
    return view;
  } finally {
    await worker.close();
  }
}

/** What clients and the public health report see of an upstream: neither its address nor the network error. */
function expectNoAddress(shown: string, upstreamUrl: string): void {
  expect(shown).not.toContain(new URL(upstreamUrl).host);
  expect(shown).not.toContain('127.0.0.1');
  expect(shown).not.toMatch(/ECONNREFUSED|fetch failed|socket/i);
}

describe('openai-compatible backend against a second edge API running the local backend', () => {
  let upstream: TestServer;
  let gateway: TestApp;
  beforeAll(async () => {
    upstream = await testServer();
    gateway = await testApp(gatewayEnv([upstreamEntry(`${upstream.url}/v1`)]));
  });
  afterAll(async () => {
    await gateway.close();
    await upstream.close();
  });

  it('lists the upstream model', async () => {
    const body = (await (await gateway.app.request('/v1/models', { headers: auth() })).json()) as {
      data: { id: string }[];
    };
    expect(body.data.map((model) => model.id)).toContain(MEDGEMMA);
    expect(body.data.map((model) => model.id)).not.toContain('tiny-smolvlm');
  });

  it('answers through the upstream exactly what the upstream answers directly', async () => {
    const direct = await chat(upstream.url, question('tiny-smolvlm'));
    const through = await chat(gateway.app, question(MEDGEMMA));
    expect(through.status).toBe(200);
    expect(await text(through)).toBe(await text(direct));
  });

  it('relays a stream chunk by chunk with the same text', async () => {
    const res = await chat(gateway.app, question(MEDGEMMA, { stream: true, stream_options: { include_usage: true } }));
    const data: string[] = [];
    for await (const { data: item } of readSse(res.body!)) {
      data.push(item);
    }
    expect(data.at(-1)).toBe('[DONE]');
    const chunks = data
      .slice(0, -1)
      .map((item) => JSON.parse(item) as { choices: { delta?: { content?: string } }[]; usage?: object });
    const streamed = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
    expect(streamed).toBe(await text(await chat(upstream.url, question('tiny-smolvlm'))));
    expect(chunks.at(-1)!.usage).toMatchObject({ completion_tokens: expect.any(Number) });
  });

  it('runs a MedGemma job on the upstream', async () => {
    const view = await runJob(gateway);
    expect(view.state).toBe('completed');
    expect((view.result as MedgemmaAnalyzeResult).model).toBe(MEDGEMMA);
  });

  it('reports the upstream healthy with its latency', async () => {
    const report = (await (await gateway.app.request('/health/detailed')).json()) as {
      backends: { kind: string; healthy: boolean; circuit: string; latency_ms: number }[];
    };
    expect(report.backends.find((backend) => backend.kind === 'openai-compatible')).toMatchObject({
      healthy: true,
      circuit: 'closed',
      latency_ms: expect.any(Number)
    });
  });
});

describe('openai-compatible backend when upstreams fail', () => {
  const servers: FakeUpstream[] = [];
  const apps: TestApp[] = [];
  const gatewayFor = async (upstreams: object[], env: Record<string, string> = {}, logger?: Logger) => {
    const app = await testApp(gatewayEnv(upstreams, env), logger);
    apps.push(app);
    return app;
  };
  const fake = async (respond: Parameters<typeof fakeUpstream>[0]) => {
    const server = await fakeUpstream(respond);
    servers.push(server);
    return server;
  };
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    await Promise.all(servers.map((server) => server.close()));
  });

  it('retries a 503 and answers with the next attempt', async () => {
    const flaky = await fake((call, _req, res) => {
      if (call === 1) {
        res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":{"message":"warming up"}}');
      } else {
        res.writeHead(200, { 'content-type': 'application/json' }).end(completion('after a retry'));
      }
    });
    const gateway = await gatewayFor([upstreamEntry(flaky.url)]);
    const res = await chat(gateway.app, question(MEDGEMMA));
    expect(res.status).toBe(200);
    expect(await text(res)).toBe('after a retry');
    expect(flaky.calls).toBe(2);
  });

  it('passes a refused request on as a 400 without retrying it', async () => {
    const strict = await fake((_call, _req, res) => {
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":{"message":"image too large"}}');
    });
    const gateway = await gatewayFor([upstreamEntry(strict.url)]);
    const res = await chat(gateway.app, question(MEDGEMMA));
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      error: { code: 'upstream_rejected', message: expect.stringContaining('image too large') }
    });
    expect(strict.calls).toBe(1);
  });

  it('answers 504 when the upstream does not answer in time', async () => {
    const silent = await fake(() => undefined);
    const gateway = await gatewayFor([upstreamEntry(silent.url)], { UPSTREAM_TIMEOUT_MS: '300' });
    const res = await chat(gateway.app, question(MEDGEMMA));
    expect(res.status).toBe(504);
    const body = await res.text();
    expect(JSON.parse(body)).toMatchObject({
      error: {
        code: 'upstream_timeout',
        type: 'timeout_error',
        message: `The model server for "${MEDGEMMA}" did not answer in time`
      }
    });
    expectNoAddress(body, silent.url);
  });

  it('answers a streaming request with the status of a failure before the upstream answered (503, 504)', async () => {
    const silent = await fake(() => undefined);
    const slow = await gatewayFor([upstreamEntry(silent.url)], { UPSTREAM_TIMEOUT_MS: '300' });
    const timedOut = await chat(slow.app, question(MEDGEMMA, { stream: true }));
    expect(timedOut.status).toBe(504);
    expect(await timedOut.json()).toMatchObject({ error: { code: 'upstream_timeout' } });

    const down = await gatewayFor([upstreamEntry(`http://127.0.0.1:${await freePort()}/v1`)]);
    const refused = await chat(down.app, question(MEDGEMMA, { stream: true }));
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await refused.json()).toMatchObject({ error: { code: 'upstream_unavailable' } });
  });

  it('ends a stream that breaks off after it began with an error event, then [DONE]', async () => {
    const breaking = await fake((_call, _req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: 'Half an' } }] })}\n\n`);
      setTimeout(() => res.destroy(), 50);
    });
    const gateway = await gatewayFor([upstreamEntry(breaking.url)]);
    const res = await chat(gateway.app, question(MEDGEMMA, { stream: true }));
    expect(res.status).toBe(200);
    const data: string[] = [];
    for await (const { data: item } of readSse(res.body!)) {
      data.push(item);
    }
    expect(data.at(-1)).toBe('[DONE]');
    expect(JSON.parse(data[1]!)).toMatchObject({ choices: [{ delta: { content: 'Half an' } }] });
    expect(JSON.parse(data.at(-2)!)).toMatchObject({ error: { type: expect.any(String), code: expect.any(String) } });
  });

  it('spreads calls over healthy upstreams: in turn when idle, to the least busy one under load', async () => {
    const answer = (text: string) => (res: ServerResponse) =>
      void res.writeHead(200, { 'content-type': 'application/json' }).end(completion(text));
    const first = await fake((_call, _req, res) => answer('first')(res));
    const second = await fake((_call, _req, res) => answer('second')(res));
    const gateway = await gatewayFor([upstreamEntry(first.url), upstreamEntry(second.url)]);
    for (let i = 0; i < 6; i++) {
      expect((await chat(gateway.app, question(MEDGEMMA))).status).toBe(200);
    }
    expect([first.calls, second.calls]).toEqual([3, 3]);

    // The first call to reach either server waits there until released; every other is answered at once.
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    let arrivals = 0;
    const holdingFirst = (res: ServerResponse) => {
      arrivals += 1;
      if (arrivals === 1) {
        void held.then(() => answer('held')(res));
      } else {
        answer('at once')(res);
      }
    };
    const a = await fake((_call, _req, res) => holdingFirst(res));
    const b = await fake((_call, _req, res) => holdingFirst(res));
    const loaded = await gatewayFor([upstreamEntry(a.url), upstreamEntry(b.url)]);
    const waiting = chat(loaded.app, question(MEDGEMMA));
    await vi.waitFor(() => expect(arrivals).toBe(1));
    const [busy, idle] = a.calls === 1 ? [a, b] : [b, a];
    for (let i = 0; i < 3; i++) {
      expect((await chat(loaded.app, question(MEDGEMMA))).status).toBe(200);
    }
    expect([busy.calls, idle.calls]).toEqual([1, 3]);
    release();
    expect((await waiting).status).toBe(200);
  });

  it('fails over to a healthy upstream and opens the circuit of the dead one', async () => {
    const healthy = await fake((_call, _req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(completion('from the healthy one'));
    });
    const dead = `http://127.0.0.1:${await freePort()}/v1`;
    const gateway = await gatewayFor([upstreamEntry(dead), upstreamEntry(healthy.url)]);
    for (let i = 0; i < 8; i++) {
      const res = await chat(gateway.app, question(MEDGEMMA));
      expect(res.status).toBe(200);
      expect(await text(res)).toBe('from the healthy one');
    }
    const shown = await (await gateway.app.request('/health/detailed')).text();
    const report = JSON.parse(shown) as { status: string; backends: { id: string }[] };
    expect(report.status).toBe('degraded');
    // Upstreams are named by their place in UPSTREAMS, the same in health and metrics.
    expect(report.backends.filter((backend) => backend.id !== 'local')).toEqual([
      expect.objectContaining({ id: `upstream-1#${MEDGEMMA}`, healthy: false, circuit: 'open', error: 'unreachable' }),
      expect.objectContaining({ id: `upstream-2#${MEDGEMMA}`, healthy: true, circuit: 'closed' })
    ]);
    expectNoAddress(shown, dead);
    expectNoAddress(shown, healthy.url);
    const metrics = await (await gateway.app.request('/metrics', { headers: auth() })).text();
    expect(metrics).toContain(`backend_circuit_state{backend="upstream-1#${MEDGEMMA}"} 2`);
    expect(metrics).toContain(`backend_circuit_state{backend="upstream-2#${MEDGEMMA}"} 0`);
    expect(metrics).not.toContain(new URL(dead).host);
    // Readiness holds: the model still has a healthy server.
    expect((await gateway.app.request('/health/ready')).status).toBe(200);
  });

  it('answers 503 with Retry-After when every upstream is down, and readiness fails', async () => {
    const lines: string[] = [];
    const dead = `http://127.0.0.1:${await freePort()}/v1`;
    const gateway = await gatewayFor(
      [upstreamEntry(dead)],
      {},
      jsonLogger('warn', (line) => lines.push(line))
    );
    const res = await chat(gateway.app, question(MEDGEMMA));
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    const body = await res.text();
    expect(JSON.parse(body)).toMatchObject({
      error: {
        code: 'upstream_unavailable',
        type: 'service_unavailable_error',
        message: `The model server for "${MEDGEMMA}" is unavailable; try again shortly`
      }
    });
    expectNoAddress(body, dead);
    // The server log has what the client does not.
    const failures = lines.map((line) => JSON.parse(line) as Record<string, string>);
    expect(failures).toContainEqual(
      expect.objectContaining({
        message: 'upstream call failed',
        request_id: res.headers.get('x-request-id'),
        upstream: `upstream-1#${MEDGEMMA}`,
        detail: expect.stringContaining(new URL(dead).port)
      })
    );
    const ready = await gateway.app.request('/health/ready');
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ unserved_models: [MEDGEMMA] });
  });

  it('fails a job with a message naming the model, not what its server said', async () => {
    // Not a fault the circuit counts, so every attempt reaches the server and fails the same way.
    const garbled = await fake((_call, _req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end('GPU 10.1.2.3 crashed');
    });
    const view = await runJob(await gatewayFor([upstreamEntry(garbled.url)]));
    expect(view).toMatchObject({
      state: 'failed',
      error: { code: 'upstream_invalid', message: `The model server for "${MEDGEMMA}" sent an unreadable answer` }
    });
    expectNoAddress(JSON.stringify(view.error), garbled.url);
  });

  it('probes upstreams once for health checks close together, yet shows each circuit as it is now', async () => {
    const busy = await fake((_call, _req, res) => {
      res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":{"message":"busy"}}');
    });
    const gateway = await gatewayFor([upstreamEntry(busy.url)]);
    const circuit = async (path: string) => {
      const report = (await (await gateway.app.request(path)).json()) as {
        backends?: { id: string; circuit: string }[];
      };
      return report.backends?.find((backend) => backend.id === `upstream-1#${MEDGEMMA}`)?.circuit;
    };
    const reports = await Promise.all([circuit('/health/detailed'), circuit('/health/detailed')]);
    expect(reports).toEqual(['closed', 'closed']);
    await gateway.app.request('/health/ready');
    expect(busy.probes).toBe(1);

    // Two calls of three tries each open the circuit (five failures in a row).
    for (let i = 0; i < 2; i++) {
      expect((await chat(gateway.app, question(MEDGEMMA))).status).toBe(503);
    }
    expect(await circuit('/health/detailed')).toBe('open');
    expect(busy.probes).toBe(1);
  });
});
