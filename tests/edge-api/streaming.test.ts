import { afterAll, beforeAll, expect, it } from 'vitest';
import { chunk, fakeUpstream, type FakeUpstream } from './support/fake-upstream.ts';
import { jsonHeaders, testServer, type TestServer } from './support/test-app.ts';

let upstream: FakeUpstream;
let gateway: TestServer;
/** Lets the upstream send the rest of its stream; set once the client has seen the first piece. */
let release!: () => void;
const released = new Promise<void>((resolve) => (release = resolve));

beforeAll(async () => {
  upstream = await fakeUpstream(async (_call, _req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(chunk('first'));
    await released;
    res.write(chunk(' second'));
    res.end('data: [DONE]\n\n');
  });
  gateway = await testServer({
    UPSTREAMS: JSON.stringify([{ model: 'gpu-model', url: upstream.url }]),
    LOCAL_MODELS: 'tiny-bert'
  });
});
afterAll(async () => {
  release();
  await gateway.close();
  await upstream.close();
});

/**
 * The gateway must pass each piece on as it comes, over real HTTP: the upstream holds back its
 * second piece until the client has read the first, so a buffering gateway never delivers the
 * first and this test times out instead of passing.
 */
it('relays SSE chunks through the gateway as they arrive, not buffered', async () => {
  const res = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: jsonHeaders(),
    body: JSON.stringify({ model: 'gpu-model', messages: [{ role: 'user', content: 'hi' }], stream: true })
  });
  expect(res.status).toBe(200);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let received = '';
  while (!received.includes('"first"')) {
    const { value, done } = await reader.read();
    expect(done).toBe(false);
    received += value;
  }
  expect(received).not.toContain('second');
  release();
  for (let next = await reader.read(); !next.done; next = await reader.read()) {
    received += next.value;
  }
  expect(received).toContain('" second"');
  expect(received.trimEnd().endsWith('data: [DONE]')).toBe(true);
});
