import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { pngDataUrl } from './support/png.ts';
import { TENANTS, testApp, type TestApp } from './support/test-app.ts';

/** Deterministic (mulberry32): a failure names its seed and request number and can be replayed. */
function random(seed: number) {
  let a = seed;
  const next = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  return { next, int, pick };
}

const SEED = Number(process.env.FUZZ_SEED ?? 20261125);
const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 3_000);

const task = JSON.parse(readFileSync('static/tasks/hand-washing.json', 'utf8')) as unknown;
const VALID_BODIES: Record<string, unknown> = {
  '/v1/chat/completions': {
    model: 'tiny-smolvlm',
    messages: [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'hi' },
          { type: 'image_url', image_url: { url: pngDataUrl(8, 8) } }
        ]
      }
    ],
    max_tokens: 1
  },
  '/v1/embeddings': { model: 'tiny-bert', input: ['a', 'b'] },
  '/v1/jobs': { type: 'medgemma.analyze', input: { images: [{ url: pngDataUrl(8, 8) }], max_tokens: 1 } },
  '/api/v1/state/query': { query: 'What step am I on?', task }
};
const OPENAI_ROUTES = /^\/v1\/(chat\/completions|embeddings|models)\b/;
const PATHS = [
  ...Object.keys(VALID_BODIES),
  '/v1/models',
  '/v1/jobs/abc',
  '/v1/jobs/abc/cancel',
  '/v1/jobs/abc/events',
  '/v1/jobs/abc/artifacts/report.md',
  '/v1/jobs/../../etc/passwd',
  '/v1/jobs/%00',
  '/v1/jobs/%E0%A4%A',
  '/v1/jobs?limit=-1&cursor=%FF',
  '/v1/jobs?cursor=' + 'z'.repeat(500),
  '/models/a/b/resolve/main/..%2F..%2Fpackage.json',
  '/health/detailed',
  '/metrics',
  '/openapi.json',
  '/' + 'x'.repeat(5_000),
  '/v1/' + '€'.repeat(50)
];
const METHODS = ['GET', 'POST', 'POST', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'];
const CONTENT_TYPES = [
  'application/json',
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'multipart/form-data; boundary=x',
  'application/vnd.api+json',
  ''
];

type Rng = ReturnType<typeof random>;

function junkValue(rng: Rng, depth = 0): unknown {
  switch (rng.int(depth > 3 ? 6 : 9)) {
    case 0:
      return null;
    case 1:
      return rng.pick([0, -1, 1e308, -1e-308, 2 ** 53 + 1, 3.5, NaN]);
    case 2:
      return rng.pick(['', 'x'.repeat(rng.int(20_000)), '\u0000\uffff', 'data:image/png;base64,AAAA', '<script>']);
    case 3:
      return rng.next() < 0.5;
    case 4:
      return 'http://169.254.169.254/';
    case 5:
      return { __proto__: { polluted: true }, constructor: { prototype: { polluted: true } } };
    case 6:
      return Array.from({ length: rng.int(5) }, () => junkValue(rng, depth + 1));
    case 7:
      return Object.fromEntries(Array.from({ length: rng.int(4) }, (_, i) => [`k${i}`, junkValue(rng, depth + 1)]));
    default:
      return -0;
  }
}

/** Replaces, removes or adds one field somewhere in a copy of a valid body. */
function mutate(rng: Rng, value: unknown): unknown {
  if (Array.isArray(value)) {
    const copy = [...value];
    if (copy.length > 0 && rng.next() < 0.7) {
      const i = rng.int(copy.length);
      copy[i] = mutate(rng, copy[i]);
    } else {
      copy.push(junkValue(rng));
    }
    return copy;
  }
  if (value && typeof value === 'object') {
    const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
    const keys = Object.keys(copy);
    const roll = rng.next();
    if (keys.length > 0 && roll < 0.6) {
      const key = rng.pick(keys);
      copy[key] = rng.next() < 0.5 ? mutate(rng, copy[key]) : junkValue(rng);
    } else if (keys.length > 0 && roll < 0.8) {
      delete copy[rng.pick(keys)];
    } else {
      copy[rng.pick(['extra', 'stream', 'n', 'priority', '__proto__'])] = junkValue(rng);
    }
    return copy;
  }
  return junkValue(rng);
}

function body(rng: Rng, path: string): string | undefined {
  const valid = VALID_BODIES[path.split('?')[0]!];
  switch (rng.int(8)) {
    case 0:
      return undefined;
    case 1:
      return String.fromCharCode(...Array.from({ length: rng.int(300) }, () => rng.int(65_536)));
    case 2:
      return JSON.stringify(valid ?? {}).slice(0, rng.int(40));
    case 3:
      return '['.repeat(50_000) + ']'.repeat(50_000);
    case 4:
      return JSON.stringify(junkValue(rng));
    case 5:
      return JSON.stringify(valid ?? junkValue(rng));
    default:
      return JSON.stringify(valid ? mutate(rng, rng.next() < 0.5 ? valid : mutate(rng, valid)) : junkValue(rng));
  }
}

function headers(rng: Rng): Record<string, string> {
  const result: Record<string, string> = {};
  // Mostly valid credentials, so most requests get past authentication to the routes themselves.
  const auth =
    rng.next() < 0.75
      ? `Bearer ${rng.next() < 0.8 ? TENANTS.alpha : TENANTS.beta}`
      : rng.pick([
          '',
          'Bearer ',
          'Basic dXNlcjpwYXNz',
          'Bearer vh_' + 'A'.repeat(43),
          'Bearer eyJhbGciOiJub25lIn0.eyJ0ZW5hbnQiOiJ4In0.',
          'Bearer a.b.c',
          `Bearer ${'x'.repeat(8_000)}`
        ]);
  if (auth) {
    result.authorization = auth;
  }
  const type = rng.pick(CONTENT_TYPES);
  if (type) {
    result['content-type'] = type;
  }
  if (rng.next() < 0.2) {
    result['idempotency-key'] = rng.pick(['k1', 'has space', 'é', 'x'.repeat(300), String(rng.int(5))]);
  }
  if (rng.next() < 0.1) {
    result['content-length'] = String(rng.int(10));
  }
  if (rng.next() < 0.1) {
    result.range = rng.pick(['bytes=0-1', 'bytes=-', 'bytes=9-1', 'bytes=0-1,5-9']);
  }
  return result;
}

let t: TestApp;
beforeAll(async () => {
  // No job workers (queued jobs stay queued) and a high rate limit, so every request reaches its route.
  t = await testApp({
    RATE_LIMIT_BURST: '100000',
    RATE_LIMIT_PER_SECOND: '100000',
    JOB_MAX_QUEUED_PER_TENANT: '100000'
  });
});
afterAll(() => t.close());

it(
  `answers ${REQUESTS} random and malformed requests without a 5xx, and stays healthy`,
  { timeout: 300_000 },
  async () => {
    const rng = random(SEED);
    const statuses = new Map<number, number>();
    for (let i = 0; i < REQUESTS; i++) {
      // Half the requests aim at the routes that take a body, where most of the parsing is.
      const path = rng.next() < 0.5 ? rng.pick(Object.keys(VALID_BODIES)) : rng.pick(PATHS);
      const method = rng.pick(METHODS);
      const init: RequestInit = { method, headers: headers(rng) };
      if (method !== 'GET' && method !== 'HEAD') {
        init.body = body(rng, path);
      }
      const res = await t.app.request(path, init);
      const text = await res.text();
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      const where = `seed ${SEED}, request ${i}: ${method} ${path.slice(0, 80)} → ${res.status} ${text.slice(0, 200)}`;
      expect(res.status, where).toBeLessThan(500);
      if (res.status >= 400 && method !== 'HEAD') {
        const { error } = JSON.parse(text) as { error: { code: string } };
        expect(error, where).toMatchObject({ message: expect.any(String), code: expect.any(String) });
        // OpenAI routes refuse a malformed request with 400, as OpenAI does; 422 is the job routes'.
        if (OPENAI_ROUTES.test(path) && res.status === 422) {
          expect(error.code, where).toBe('idempotency_key_reused');
        }
      }
      expect(text, where).not.toMatch(/\n\s+at .+:\d+:\d+/);
    }
    // The fuzzer reached past validation: some requests succeeded, many were refused for many reasons.
    expect(statuses.get(200) ?? 0).toBeGreaterThan(0);
    expect([...statuses.keys()].filter((status) => status >= 400).length).toBeGreaterThanOrEqual(5);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();

    const ready = await t.app.request('/health/ready');
    expect(ready.status).toBe(200);
    const detailed = (await (await t.app.request('/health/detailed')).json()) as { status: string };
    expect(detailed.status).toBe('ok');
  }
);
