import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSse } from '../../src/lib/core/sse.ts';
import { pngDataUrl } from './support/png.ts';
import { jsonHeaders, testApp, type TestApp } from './support/test-app.ts';

let t: TestApp;
beforeAll(async () => {
  t = await testApp({ IMAGE_URL_HOSTS: 'images.example' });
});
afterAll(() => t.close());

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  t.app.request(path, { method: 'POST', headers: { ...jsonHeaders(), ...headers }, body: JSON.stringify(body) });

const visionRequest = (extra: object = {}) => ({
  model: 'tiny-smolvlm',
  messages: [
    {
      role: 'user',
      content: [
        { type: 'image_url', image_url: { url: pngDataUrl() } },
        { type: 'text', text: 'What is in this image?' }
      ]
    }
  ],
  max_tokens: 6,
  ...extra
});

interface Chunk {
  id: string;
  object: string;
  choices: { delta: { role?: string; content?: string }; finish_reason: string | null }[];
  usage?: { completion_tokens: number };
}

async function events(res: Response): Promise<string[]> {
  const data: string[] = [];
  for await (const { data: item } of readSse(res.body!)) {
    data.push(item);
  }
  return data;
}

describe('POST /v1/chat/completions', () => {
  it('answers a question about an image in the OpenAI shape', async () => {
    const res = await post('/v1/chat/completions', visionRequest());
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      id: expect.stringMatching(/^chatcmpl-/),
      object: 'chat.completion',
      model: 'tiny-smolvlm',
      choices: [{ index: 0, message: { role: 'assistant', content: expect.any(String) } }],
      usage: { prompt_tokens: expect.any(Number), completion_tokens: expect.any(Number) }
    });
    const usage = body.usage as { prompt_tokens: number; completion_tokens: number; total_tokens: number };
    // The image tokens are part of the prompt: far more than the words of the question.
    expect(usage.prompt_tokens).toBeGreaterThan(20);
    expect(usage.completion_tokens).toBeLessThanOrEqual(6);
    expect(usage.total_tokens).toBe(usage.prompt_tokens + usage.completion_tokens);
  });

  it('streams chat.completion.chunk events, a usage chunk when asked, then [DONE]', async () => {
    const res = await post(
      '/v1/chat/completions',
      visionRequest({ stream: true, stream_options: { include_usage: true } })
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const data = await events(res);
    expect(data.at(-1)).toBe('[DONE]');
    const chunks = data.slice(0, -1).map((item) => JSON.parse(item) as Chunk);
    expect(chunks.every((chunk) => chunk.object === 'chat.completion.chunk')).toBe(true);
    expect(new Set(chunks.map((chunk) => chunk.id)).size).toBe(1);
    expect(chunks[0]!.choices[0]!.delta.role).toBe('assistant');
    const usage = chunks.at(-1)!;
    expect(usage.choices).toEqual([]);
    expect(usage.usage!.completion_tokens).toBeGreaterThan(0);
    const finish = chunks.at(-2)!;
    expect(['stop', 'length']).toContain(finish.choices[0]!.finish_reason);
  });

  it('streams the same text it answers without streaming (greedy decoding)', async () => {
    const whole = (await (await post('/v1/chat/completions', visionRequest())).json()) as {
      choices: { message: { content: string } }[];
    };
    const data = await events(await post('/v1/chat/completions', visionRequest({ stream: true })));
    const streamed = data
      .slice(0, -1)
      .map(
        (item) => (JSON.parse(item) as { choices: { delta: { content?: string } }[] }).choices[0]?.delta.content ?? ''
      )
      .join('');
    expect(streamed).toBe(whole.choices[0]!.message.content);
  });

  it('answers text-only models too', async () => {
    const res = await post('/v1/chat/completions', {
      model: 'tiny-llama',
      messages: [{ role: 'user', content: 'Hello' }],
      max_tokens: 4
    });
    expect(res.status).toBe(200);
  });

  it('takes null for an optional field, and the values of unsupported options that change nothing', async () => {
    const res = await post('/v1/chat/completions', {
      model: 'tiny-llama',
      messages: [{ role: 'user', content: 'Hello' }],
      max_tokens: null,
      max_completion_tokens: 2,
      temperature: null,
      stop: null,
      n: null,
      tools: [],
      tool_choice: 'none',
      top_logprobs: 0,
      modalities: ['text'],
      audio: null
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ usage: { completion_tokens: 2 } });
  });

  it('answers a text-only turn with a vision model', async () => {
    const res = await post('/v1/chat/completions', {
      model: 'tiny-smolvlm',
      messages: [{ role: 'user', content: 'Summarise the findings so far.' }],
      max_tokens: 3
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ usage: { completion_tokens: 3 } });
  });

  it('refuses an image for a text-only model (400)', async () => {
    const res = await post('/v1/chat/completions', visionRequest({ model: 'tiny-llama' }));
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: 'model_not_multimodal' } });
  });

  // The route checks its body itself, for speed (see openAiJsonBody): each refusal must stay the
  // one the openapi() validators gave.
  it('refuses a body of another type (415), unparseable JSON and a schema mismatch (400) as before', async () => {
    const send = async (contentType: string, body: string) => {
      const res = await t.app.request('/v1/chat/completions', {
        method: 'POST',
        headers: { ...jsonHeaders(), 'content-type': contentType },
        body
      });
      return { status: res.status, body: (await res.json()) as unknown };
    };
    const valid = JSON.stringify(visionRequest());
    const error = (message: string, code: string, param: string | null = null) => ({
      error: { message, type: 'invalid_request_error', param, code }
    });
    expect(await send('text/plain', valid)).toEqual({
      status: 415,
      body: error('Send the request body as application/json', 'unsupported_media_type')
    });
    expect(await send('application/json-seq', valid)).toEqual({
      status: 415,
      body: error('Unsupported Media Type', 'unsupported_media_type')
    });
    expect(await send('application/json', '{"model": ')).toEqual({
      status: 400,
      body: error('Malformed JSON in request body', 'bad_request')
    });
    expect(await send('application/json', '{}')).toEqual({
      status: 400,
      body: error(
        "Invalid request body at 'model': Invalid input: expected string, received undefined",
        'validation_failed',
        'model'
      )
    });
    expect(await send('application/vnd.openai+json; charset=utf-8', JSON.stringify(visionRequest({ n: 2 })))).toEqual({
      status: 400,
      body: error('`n` other than 1 is not supported: one choice is generated', 'unsupported_parameter', 'n')
    });
  });

  it('refuses an unknown model (404) and an embedding model (400)', async () => {
    expect((await post('/v1/chat/completions', visionRequest({ model: 'nope' }))).status).toBe(404);
    const embedder = await post('/v1/chat/completions', visionRequest({ model: 'tiny-bert' }));
    expect(embedder.status).toBe(400);
    expect(await embedder.json()).toMatchObject({ error: { code: 'model_not_capable', param: 'model' } });
  });

  it('accepts http(s) images only from allowed hosts, and data: URLs only of images', async () => {
    const withUrl = (url: string) =>
      visionRequest({
        messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url } }] }]
      });
    const internal = await post('/v1/chat/completions', withUrl('http://169.254.169.254/latest/meta-data'));
    expect(internal.status).toBe(400);
    expect(await internal.json()).toMatchObject({
      error: {
        type: 'invalid_request_error',
        code: 'image_url_not_allowed',
        param: 'messages[0].content[0].image_url.url'
      }
    });
    const html = await post('/v1/chat/completions', withUrl('data:text/html;base64,PHNjcmlwdD4='));
    expect(html.status).toBe(400);
    expect(await html.json()).toMatchObject({ error: { code: 'invalid_image_url' } });
  });

  it('answers a broken image with 400, not a crash', async () => {
    const res = await post(
      '/v1/chat/completions',
      visionRequest({
        messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }] }]
      })
    );
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: 'invalid_image' } });
  });

  it('answers a streaming request refused before generation with its status, not a 200 with an error event', async () => {
    const broken = await post(
      '/v1/chat/completions',
      visionRequest({
        stream: true,
        messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }] }]
      })
    );
    expect(broken.status).toBe(400);
    expect(broken.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await broken.json()).toMatchObject({ error: { code: 'invalid_image' } });
    const textOnly = await post('/v1/chat/completions', visionRequest({ model: 'tiny-llama', stream: true }));
    expect(textOnly.status).toBe(400);
    expect(await textOnly.json()).toMatchObject({ error: { code: 'model_not_multimodal' } });
  });

  it('replays the first answer for a repeated Idempotency-Key and refuses the key for another body', async () => {
    const key = { 'idempotency-key': `chat-${Date.now()}` };
    const first = await post('/v1/chat/completions', visionRequest(), key);
    const again = await post('/v1/chat/completions', visionRequest(), key);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await again.text()).toBe(await first.text());
    const other = await post('/v1/chat/completions', visionRequest({ max_tokens: 3 }), key);
    expect(other.status).toBe(422);
    expect(await other.json()).toMatchObject({ error: { code: 'idempotency_key_reused' } });
  });
});

describe('POST /v1/embeddings', () => {
  it('embeds each input as a unit vector, in order', async () => {
    const res = await post('/v1/embeddings', { model: 'tiny-bert', input: ['first passage', 'second one'] });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      data: { index: number; embedding: number[] }[];
      usage: { prompt_tokens: number };
    };
    expect(body.data.map((item) => item.index)).toEqual([0, 1]);
    for (const { embedding } of body.data) {
      expect(Math.hypot(...embedding)).toBeCloseTo(1, 4);
    }
    expect(body.data[0]!.embedding).not.toEqual(body.data[1]!.embedding);
    expect(body.usage.prompt_tokens).toBeGreaterThan(2);
  });

  it('refuses a chat model for embeddings (400)', async () => {
    const res = await post('/v1/embeddings', { model: 'tiny-llama', input: 'x' });
    expect(res.status).toBe(400);
  });
});
