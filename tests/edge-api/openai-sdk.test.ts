import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI, { AuthenticationError, BadRequestError, NotFoundError, RateLimitError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../edge-api/security/api-keys.ts';
import { pngDataUrl } from './support/png.ts';
import { EMBEDDING_MODEL, TENANTS, TEXT_MODEL, testServer, VISION_MODEL, type TestServer } from './support/test-app.ts';

/**
 * The official OpenAI Node SDK against the real server over HTTP, as a new user points it: base URL
 * `…/v1`, and a key (a placeholder when the server has none). Retries off, so each refusal is the
 * server's first answer.
 */
const client = (server: TestServer, apiKey: string) =>
  new OpenAI({ baseURL: `${server.url}/v1`, apiKey, maxRetries: 0 });

/** `npm start` on loopback as it ships: no API keys, no JWT settings, anonymous access on. */
function keylessServer(): Promise<TestServer> {
  return testServer(
    { ALLOW_ANONYMOUS: 'true' },
    { API_KEYS: '', JWT_SECRET: undefined, JWT_ISSUER: undefined, JWT_AUDIENCE: undefined }
  );
}

/** What the SDK throws, for assertions on its class and fields. */
async function failure(call: Promise<unknown>): Promise<unknown> {
  return call.then(
    () => expect.fail('expected the call to fail'),
    (error: unknown) => error
  );
}

describe('the OpenAI SDK on a keyless local server, with a placeholder key', () => {
  let server: TestServer;
  let openai: OpenAI;
  beforeAll(async () => {
    server = await keylessServer();
    openai = client(server, 'sk-no-key-required');
  });
  afterAll(() => server.close());

  it('lists the models and retrieves one', async () => {
    const ids: string[] = [];
    for await (const model of openai.models.list()) {
      ids.push(model.id);
    }
    expect(ids).toEqual(expect.arrayContaining([VISION_MODEL, TEXT_MODEL, EMBEDDING_MODEL]));
    expect(await openai.models.retrieve(EMBEDDING_MODEL)).toMatchObject({ id: EMBEDDING_MODEL, object: 'model' });
  });

  it('chats, with the fields clients send routinely that change nothing here', async () => {
    const completion = await openai.chat.completions.create({
      model: TEXT_MODEL,
      messages: [
        { role: 'developer', content: 'Answer briefly.' },
        { role: 'user', content: 'Hello' }
      ],
      max_completion_tokens: 3,
      max_tokens: 5,
      n: 1,
      seed: 7,
      user: 'someone',
      presence_penalty: 0,
      frequency_penalty: 0,
      metadata: { app: 'tests' },
      store: false,
      parallel_tool_calls: false,
      response_format: { type: 'text' },
      logprobs: false
    });
    expect(completion.object).toBe('chat.completion');
    expect(completion.choices).toHaveLength(1);
    expect(typeof completion.choices[0]!.message.content).toBe('string');
    // The smaller of max_completion_tokens and max_tokens holds.
    expect(completion.usage?.completion_tokens).toBeLessThanOrEqual(3);
  });

  it('streams, with a usage chunk when stream_options.include_usage is set', async () => {
    const stream = await openai.chat.completions.create({
      model: TEXT_MODEL,
      messages: [{ role: 'user', content: 'Hello' }],
      max_completion_tokens: 4,
      stream: true,
      stream_options: { include_usage: true }
    });
    const chunks = [];
    for await (const chunk of stream) {
      chunks.push(chunk);
    }
    expect(chunks.every((chunk) => chunk.object === 'chat.completion.chunk')).toBe(true);
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toMatchObject({ completion_tokens: expect.any(Number), total_tokens: expect.any(Number) });
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toMatch(/^(stop|length)$/);
  });

  it('reads an image part sent as a data: URL', async () => {
    const completion = await openai.chat.completions.create({
      model: VISION_MODEL,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image_url', image_url: { url: pngDataUrl(), detail: 'low' } },
            { type: 'text', text: 'What is in this image?' }
          ]
        }
      ],
      max_tokens: 3
    });
    expect(completion.usage?.prompt_tokens).toBeGreaterThan(0);
  });

  it('embeds in base64, which the SDK asks by default and decodes, as in floats', async () => {
    const input = ['a chest X-ray', 'a fundus photograph'];
    const decoded = await openai.embeddings.create({ model: EMBEDDING_MODEL, input });
    const floats = await openai.embeddings.create({ model: EMBEDDING_MODEL, input, encoding_format: 'float' });
    expect(decoded.data).toHaveLength(2);
    for (const [i, item] of decoded.data.entries()) {
      const expected = floats.data[i]!.embedding;
      expect(item.embedding.length).toBe(expected.length);
      // base64 carries float32: the same numbers, rounded to float32.
      expect(Array.from(item.embedding)).toEqual(expected.map((value) => Math.fround(value)));
    }
    expect(decoded.usage.prompt_tokens).toBeGreaterThan(0);
  });

  it('refuses dimensions for a model not trained to shorten its vectors, naming the parameter', async () => {
    const size = (await openai.embeddings.create({ model: EMBEDDING_MODEL, input: 'x', encoding_format: 'float' }))
      .data[0]!.embedding.length;
    const same = await openai.embeddings.create({ model: EMBEDDING_MODEL, input: 'x', dimensions: size });
    expect(same.data[0]!.embedding).toHaveLength(size);
    const error = await failure(openai.embeddings.create({ model: EMBEDDING_MODEL, input: 'x', dimensions: 8 }));
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error).toMatchObject({ status: 400, param: 'dimensions', code: 'dimensions_not_supported' });
  });

  it('raises NotFoundError for an unknown model', async () => {
    const chat = openai.chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'Hi' }] });
    expect(await failure(chat)).toBeInstanceOf(NotFoundError);
    expect(await failure(openai.models.retrieve('nope'))).toBeInstanceOf(NotFoundError);
  });

  it('raises BadRequestError with .param for a malformed request', async () => {
    const error = await failure(
      openai.chat.completions.create({
        model: TEXT_MODEL,
        // What a client that builds the body by hand may send: a number where text belongs.
        messages: [{ role: 'user', content: 42 as unknown as string }]
      })
    );
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error).toMatchObject({ status: 400, type: 'invalid_request_error', param: 'messages[0].content' });
  });

  it('raises BadRequestError naming each option that would change the answer and is not supported', async () => {
    const base = { model: TEXT_MODEL, messages: [{ role: 'user' as const, content: 'Hi' }] };
    const refused: [string, object][] = [
      ['n', { n: 2 }],
      ['tools', { tools: [{ type: 'function', function: { name: 'f', parameters: {} } }] }],
      ['tool_choice', { tool_choice: 'required' }],
      ['response_format', { response_format: { type: 'json_object' } }],
      ['logprobs', { logprobs: true }],
      ['top_logprobs', { top_logprobs: 2 }],
      ['modalities', { modalities: ['text', 'audio'] }],
      ['audio', { audio: { voice: 'alloy', format: 'mp3' } }],
      ['prediction', { prediction: { type: 'content', content: 'x' } }]
    ];
    for (const [param, extra] of refused) {
      const error = await failure(openai.chat.completions.create({ ...base, ...extra } as typeof base));
      expect(error, param).toBeInstanceOf(BadRequestError);
      expect(error, param).toMatchObject({ param, code: 'unsupported_parameter' });
      expect((error as BadRequestError).message, param).toMatch(/not supported/);
    }
  });
});

describe('the OpenAI SDK on a server with API keys', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await testServer({ RATE_LIMIT_BURST: '3', RATE_LIMIT_PER_SECOND: '0.001' });
  });
  afterAll(() => server.close());

  it('raises AuthenticationError for a wrong key or a placeholder', async () => {
    for (const key of [(await createApiKey()).key, 'sk-no-key-required']) {
      const error = await failure(client(server, key).models.list());
      expect(error).toBeInstanceOf(AuthenticationError);
      expect(error).toMatchObject({ status: 401, type: 'authentication_error' });
    }
  });

  it('raises RateLimitError once the tenant has spent its bucket', async () => {
    const openai = client(server, TENANTS.beta);
    for (let i = 0; i < 3; i += 1) {
      await openai.models.list();
    }
    const error = await failure(openai.models.list());
    expect(error).toBeInstanceOf(RateLimitError);
    expect((error as RateLimitError).headers.get('retry-after')).toMatch(/^\d+$/);
    // The bucket is the tenant's: another tenant is served.
    expect((await client(server, TENANTS.alpha).models.list()).data.length).toBeGreaterThan(0);
  });
});

/**
 * A model server for two embedding models: `matryoshka` shortens its 8-dimensional vectors to
 * `dimensions` (truncate, renormalize: what a model trained for it allows), `plain` ignores the
 * parameter, as a server for a model not trained for it may.
 */
async function embeddingUpstream(): Promise<{ url: string; asked: unknown[]; server: Server }> {
  const asked: unknown[] = [];
  const server = createServer((req, res) => {
    if (req.url === '/v1/models') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"object":"list","data":[]}');
      return;
    }
    let text = '';
    req.on('data', (part: Buffer) => (text += part.toString()));
    req.on('end', () => {
      const body = JSON.parse(text) as { model: string; input: string[]; dimensions?: number };
      asked.push(body.dimensions);
      const size = body.model === 'matryoshka' ? (body.dimensions ?? 8) : 8;
      const vector = Array.from({ length: size }, () => 1 / Math.sqrt(size));
      const data = body.input.map((_, index) => ({ object: 'embedding', index, embedding: vector }));
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ object: 'list', data, usage: { prompt_tokens: 2, total_tokens: 2 } }));
    });
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, asked, server };
}

describe('the OpenAI SDK asking an upstream model for shorter embeddings', () => {
  let upstream: Awaited<ReturnType<typeof embeddingUpstream>>;
  let server: TestServer;
  let openai: OpenAI;
  beforeAll(async () => {
    upstream = await embeddingUpstream();
    const entry = (model: string) => ({ model, url: upstream.url, capabilities: ['embeddings'] });
    server = await testServer({ UPSTREAMS: JSON.stringify([entry('matryoshka'), entry('plain')]) });
    openai = client(server, TENANTS.alpha);
  });
  afterAll(async () => {
    await server.close();
    upstream.server.close();
  });

  it('passes dimensions on to the model server, which shortens the vectors', async () => {
    const result = await openai.embeddings.create({ model: 'matryoshka', input: ['a', 'b'], dimensions: 4 });
    expect(upstream.asked.at(-1)).toBe(4);
    expect(result.data.map((item) => Array.from(item.embedding))).toEqual([
      [0.5, 0.5, 0.5, 0.5],
      [0.5, 0.5, 0.5, 0.5]
    ]);
  });

  it('refuses with 400 naming dimensions when the model server does not shorten them', async () => {
    const error = await failure(openai.embeddings.create({ model: 'plain', input: 'a', dimensions: 4 }));
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error).toMatchObject({ param: 'dimensions', code: 'dimensions_not_supported' });
  });
});
