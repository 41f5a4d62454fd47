import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { JobView } from '#lib/core/edge-wire.ts';
import { EdgeAuthError, EdgeRequestError, EdgeUnavailableError } from '#lib/core/errors.ts';
import { EdgeClient, type EdgeClientOptions } from '#lib/services/edge-client.ts';
import { jobView } from './fixtures/job-view.ts';

/**
 * The client's retry, timeout and reconnection rules against scripted answers: each call to the
 * fake fetch takes the next step. Talking to the real server is the browser tests' job.
 */
type Step = (request: Request) => Response | Promise<Response>;

function scripted(steps: Step[], options: EdgeClientOptions = {}) {
  const requests: Request[] = [];
  const client = new EdgeClient(
    { baseUrl: 'http://edge.test/api', credential: 'vh_secret' },
    {
      backoff: { baseMs: 1, maxMs: 2 },
      ...options,
      fetch: async (input, init) => {
        const request = new Request(input, init);
        requests.push(request);
        const step = steps.shift();
        if (!step) {
          throw new Error(`unexpected request ${request.method} ${request.url}`);
        }
        return step(request);
      }
    }
  );
  return { client, requests };
}

const job = (state: JobView['state'], fraction = 0): JobView =>
  jobView(state, { progress: { fraction, message: null } });
const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  Response.json(body, { status, headers: { 'x-request-id': 'req-1', ...headers } });
const apiError = (status: number, code: string, headers: Record<string, string> = {}) =>
  json({ error: { message: `failed: ${code}`, type: 'x', param: null, code } }, status, headers);
const offline = () => Promise.reject(new TypeError('Failed to fetch'));
const sse = (...chunks: string[]) =>
  new Response(
    new ReadableStream({
      start(controller) {
        chunks.forEach((chunk) => controller.enqueue(new TextEncoder().encode(chunk)));
        controller.close();
      }
    }),
    { headers: { 'content-type': 'text/event-stream' } }
  );
const event = (name: string, view: JobView) => `event: ${name}\ndata: ${JSON.stringify(view)}\n\n`;

describe('edge client', () => {
  it('sends the credential, the key and JSON under the base path', async () => {
    const { client, requests } = scripted([() => json(job('queued'), 202)]);
    await client.submitJob({ type: 'medgemma.analyze', input: { images: [] } }, 'key-1');
    const [request] = requests;
    expect(request!.url).toBe('http://edge.test/api/v1/jobs');
    expect(request!.headers.get('authorization')).toBe('Bearer vh_secret');
    expect(request!.headers.get('idempotency-key')).toBe('key-1');
    expect(await request!.json()).toEqual({ type: 'medgemma.analyze', input: { images: [] } });
  });

  it('retries a keyed POST and a GET on network errors, 429, 502, 503 and 504, then succeeds', async () => {
    const { client, requests } = scripted(
      [offline, () => apiError(503, 'unavailable'), () => apiError(502, 'bad_gateway'), () => json(job('queued'), 202)],
      { retries: 3 }
    );
    const { job: view } = await client.submitJob({ type: 'medgemma.analyze', input: {} }, 'key-1');
    expect(view.state).toBe('queued');
    expect(requests.map((r) => r.headers.get('idempotency-key'))).toEqual(['key-1', 'key-1', 'key-1', 'key-1']);
  });

  it('never repeats a POST without a key, nor a request the server refused', async () => {
    const unkeyed = scripted([() => apiError(503, 'unavailable')]);
    await expect(unkeyed.client.cancelJob('job_1')).rejects.toBeInstanceOf(EdgeUnavailableError);
    expect(unkeyed.requests).toHaveLength(1);

    const refused = scripted([() => apiError(422, 'validation_failed')]);
    const error = await refused.client.getJob('job_1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EdgeRequestError);
    expect(error).toMatchObject({ status: 422, code: 'validation_failed', requestId: 'req-1' });
    expect(refused.requests).toHaveLength(1);

    const unauthorised = scripted([() => apiError(401, 'invalid_credentials')]);
    await expect(unauthorised.client.getJob('job_1')).rejects.toBeInstanceOf(EdgeAuthError);
    expect(unauthorised.requests).toHaveLength(1);
  });

  it('waits what Retry-After asks, and hands a wait longer than it sits through to the caller', async () => {
    const { client } = scripted([
      () => apiError(429, 'rate_limited', { 'retry-after': '1' }),
      () => json(job('queued'))
    ]);
    const started = performance.now();
    await client.getJob('job_1');
    expect(performance.now() - started).toBeGreaterThanOrEqual(990);

    const long = scripted([() => apiError(429, 'rate_limited', { 'retry-after': '120' })], { maxWaitMs: 10_000 });
    const error = await long.client.getJob('job_1').catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'EdgeUnavailableError', status: 429, retryAfterMs: 120_000 });
    expect(long.requests).toHaveLength(1);
  });

  it('gives up after its retries and times out a server that does not answer', async () => {
    const down = scripted([offline, offline, offline], { retries: 2 });
    await expect(down.client.health()).rejects.toMatchObject({ name: 'EdgeUnavailableError', status: 0 });
    expect(down.requests).toHaveLength(3);

    const hanging = (request: Request) =>
      new Promise<Response>((_, reject) =>
        request.signal.addEventListener('abort', () => reject(request.signal.reason))
      );
    const slow = scripted([hanging], { retries: 0, timeoutMs: 50 });
    await expect(slow.client.health()).rejects.toThrow('did not answer within');
  });

  it('stops at once when the caller aborts, with an AbortError', async () => {
    const controller = new AbortController();
    const { client } = scripted([offline, offline], { backoff: { baseMs: 60_000, maxMs: 60_000 }, maxWaitMs: 120_000 });
    const pending = client.health(controller.signal);
    setTimeout(() => controller.abort(), 20);
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('follows events to the final state, even when the stream is cut into odd pieces', async () => {
    const text =
      event('state', job('running')) + event('progress', job('running', 0.5)) + event('state', job('completed', 1));
    const { client } = scripted([() => sse(text.slice(0, 7), text.slice(7, 300), text.slice(300))]);
    const seen: number[] = [];
    const final = await client.followJob('job_1', (view) => seen.push(view.progress.fraction));
    expect(final.state).toBe('completed');
    expect(seen).toEqual([0, 0.5, 1]);
  });

  it('when the stream breaks off, asks for the job and reconnects; a job finished meanwhile ends it', async () => {
    const { client, requests } = scripted([
      () => sse(event('state', job('running'))),
      () => json(job('running', 0.3)),
      () => sse(': keep-alive\n\n', event('progress', job('running', 0.6))),
      offline,
      () => json(job('completed', 1))
    ]);
    const seen: number[] = [];
    const final = await client.followJob('job_1', (view) => seen.push(view.progress.fraction));
    expect(final.state).toBe('completed');
    expect(seen).toEqual([0, 0.3, 0.6, 1]);
    expect(requests.map((r) => new URL(r.url).pathname)).toEqual([
      '/api/v1/jobs/job_1/events',
      '/api/v1/jobs/job_1',
      '/api/v1/jobs/job_1/events',
      '/api/v1/jobs/job_1',
      '/api/v1/jobs/job_1'
    ]);
  });

  it('a stream that stays silent is dropped and the job asked for directly', async () => {
    const silent = () => new Response(new ReadableStream(), { headers: { 'content-type': 'text/event-stream' } });
    const { client } = scripted([silent, () => json(job('failed'))], { streamIdleMs: 50 });
    await expect(client.followJob('job_1', () => undefined)).resolves.toMatchObject({ state: 'failed' });
  });

  it('reports an unknown job at once instead of reconnecting', async () => {
    const { client, requests } = scripted([() => apiError(404, 'job_not_found')]);
    await expect(client.followJob('job_1', () => undefined)).rejects.toMatchObject({ status: 404 });
    expect(requests).toHaveLength(1);
  });

  it('calls a server that does not answer like the edge API "unavailable", not a refusal of the job', async () => {
    const html = () => new Response('<!doctype html><p>Welcome</p>', { headers: { 'content-type': 'text/html' } });
    const page = scripted([html]);
    const error = await page.client.models().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EdgeUnavailableError);
    expect((error as Error).message).toContain('did not answer like the edge API (HTTP 200, text/html)');
    expect(page.requests).toHaveLength(1);

    const missing = scripted([() => new Response('Not Found', { status: 404 })]);
    await expect(missing.client.submitJob({ type: 'x', input: {} }, 'key-1')).rejects.toMatchObject({
      name: 'EdgeUnavailableError',
      status: 404
    });
    expect(missing.requests).toHaveLength(1);
  });
});

/**
 * `POST /v1/chat/completions` with `stream: true` against a real HTTP server on this machine that
 * speaks the protocol as the edge API does: what goes over the socket (chunked SSE, a socket that
 * closes midway, a peer that goes away) is the real thing, not a scripted Response.
 */
describe('edge client: streamed chat', () => {
  type Reply = (
    response: ServerResponse,
    request: { body: Record<string, unknown>; headers: IncomingHttpHeaders }
  ) => void | Promise<void>;
  let reply: Reply = () => undefined;
  const seen: { body: Record<string, unknown>; headers: IncomingHttpHeaders; closed: Promise<void> }[] = [];
  const server = createServer((request, response) => {
    let text = '';
    request.setEncoding('utf8');
    request.on('data', (part: string) => (text += part));
    request.on('end', () => {
      const call = {
        body: JSON.parse(text || '{}') as Record<string, unknown>,
        headers: request.headers,
        closed: new Promise<void>((resolve) => response.on('close', resolve))
      };
      seen.push(call);
      void reply(response, call);
    });
  });
  let base = '';
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  afterEach(() => {
    seen.length = 0;
  });

  const client = (options: EdgeClientOptions = {}) =>
    new EdgeClient({ baseUrl: base, credential: 'vh_secret' }, { retries: 3, ...options });
  const chunk = (choices: unknown[], extra: object = {}) =>
    `data: ${JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'google/medgemma-4b-it', choices, ...extra })}\n\n`;
  const delta = (content: string) => chunk([{ index: 0, delta: { content }, finish_reason: null }]);
  const opening = chunk([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }]);
  const openStream = (response: ServerResponse) =>
    response.writeHead(200, { 'content-type': 'text/event-stream', 'x-request-id': 'req-9' }).flushHeaders();
  const request = {
    model: 'google/medgemma-4b-it',
    messages: [
      {
        role: 'user' as const,
        content: [
          { type: 'image_url' as const, image_url: { url: 'data:image/jpeg;base64,AA==' } },
          { type: 'text' as const, text: 'Does this rash look infected?' }
        ]
      }
    ],
    max_tokens: 64
  };

  it('streams the answer piece by piece, however the bytes are cut, and counts it', async () => {
    const text =
      opening +
      delta('No ') +
      delta('sign ') +
      delta('of infection.') +
      chunk([{ index: 0, delta: {}, finish_reason: 'stop' }]) +
      chunk([], { usage: { prompt_tokens: 70, completion_tokens: 5, total_tokens: 75 } }) +
      'data: [DONE]\n\n';
    const firstBreak = text.indexOf('\n\n') + 1;
    // Cut inside a field name, between the two line breaks that end an event, and inside the JSON.
    const cuts = [3, firstBreak, firstBreak + 40, text.length];
    reply = async (response) => {
      openStream(response);
      let from = 0;
      for (const to of cuts) {
        response.write(text.slice(from, to));
        from = to;
        // Apart in time, so that they arrive as separate pieces rather than one.
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      response.end();
    };
    const tokens: string[] = [];
    const result = await client().chat(request, (token) => tokens.push(token));
    expect(tokens).toEqual(['No ', 'sign ', 'of infection.']);
    expect(result).toMatchObject({
      text: 'No sign of infection.',
      model: 'google/medgemma-4b-it',
      tokens: 5,
      finishReason: 'stop'
    });
    expect(result.firstTokenMs).toBeGreaterThan(0);
    expect(result.totalMs).toBeGreaterThanOrEqual(result.firstTokenMs);
    const [call] = seen;
    expect(call!.headers.authorization).toBe('Bearer vh_secret');
    expect(call!.headers.accept).toBe('text/event-stream');
    expect(call!.body).toEqual({ ...request, stream: true, stream_options: { include_usage: true } });
  });

  it('without a usage chunk, counts the pieces; a cut-off answer says so', async () => {
    reply = (response) => {
      openStream(response);
      response.end(
        opening +
          delta('a') +
          delta('b') +
          chunk([{ index: 0, delta: {}, finish_reason: 'length' }]) +
          'data: [DONE]\n\n'
      );
    };
    await expect(client().chat(request, () => undefined)).resolves.toMatchObject({
      text: 'ab',
      tokens: 2,
      finishReason: 'length'
    });
  });

  it('a refusal keeps its class, status and code, and is sent once, however transient', async () => {
    const refuse = (status: number, code: string) => (response: ServerResponse) => {
      response
        .writeHead(status, { 'content-type': 'application/json', 'x-request-id': 'req-2' })
        .end(JSON.stringify({ error: { message: `refused: ${code}`, type: 'x', param: null, code } }));
    };
    for (const [status, code, name] of [
      [401, 'invalid_credentials', 'EdgeAuthError'],
      [404, 'model_not_found', 'EdgeRequestError'],
      [503, 'upstream_unavailable', 'EdgeUnavailableError']
    ] as const) {
      reply = refuse(status, code);
      const error = await client()
        .chat(request, () => undefined)
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ name, status, code, requestId: 'req-2', message: `refused: ${code}` });
    }
    expect(seen).toHaveLength(3);
  });

  it('a failure the server reports midway ends the answer with its message; the words so far were shown', async () => {
    reply = (response) => {
      openStream(response);
      response.end(
        opening +
          delta('Partly ') +
          `data: ${JSON.stringify({ error: { message: 'The model stopped with an error', type: 'server_error', param: null, code: 'generation_failed' } })}\n\n` +
          'data: [DONE]\n\n'
      );
    };
    const tokens: string[] = [];
    const error = await client()
      .chat(request, (token) => tokens.push(token))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EdgeUnavailableError);
    expect(error).toMatchObject({ code: 'generation_failed', message: 'The model stopped with an error' });
    expect(tokens).toEqual(['Partly ']);
  });

  it('a server that goes away midway, ends early, or falls silent is unavailable, not an answer', async () => {
    reply = (response) => {
      openStream(response);
      response.write(opening + delta('Half'));
      setTimeout(() => response.socket?.destroy(), 20);
    };
    await expect(client().chat(request, () => undefined)).rejects.toMatchObject({
      name: 'EdgeUnavailableError',
      message: 'The edge server’s answer broke off'
    });

    reply = (response) => {
      openStream(response);
      response.end(opening + delta('Half'));
    };
    await expect(client().chat(request, () => undefined)).rejects.toMatchObject({
      name: 'EdgeUnavailableError',
      message: 'The edge server stopped before the answer was complete'
    });

    reply = (response) => {
      openStream(response);
      response.write(opening);
    };
    await expect(client({ streamIdleMs: 100 }).chat(request, () => undefined)).rejects.toMatchObject({
      name: 'EdgeUnavailableError'
    });
    await seen.at(-1)!.closed;

    const closed = await new Promise<AddressInfo>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const address = probe.address() as AddressInfo;
        probe.close(() => resolve(address));
      });
    });
    const nobody = new EdgeClient({ baseUrl: `http://127.0.0.1:${closed.port}`, credential: null });
    await expect(nobody.chat(request, () => undefined)).rejects.toMatchObject({
      name: 'EdgeUnavailableError',
      status: 0
    });
  });

  it("the caller's stop is an AbortError, and the server sees the request go", async () => {
    reply = (response) => {
      openStream(response);
      response.write(opening + delta('Still '));
    };
    const controller = new AbortController();
    const pending = client().chat(request, () => controller.abort(), controller.signal);
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    await seen[0]!.closed;
  });
});
