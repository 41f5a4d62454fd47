// Child process for the gateway benchmark: starts one server and prints its URL, so the servers
// and the load generator do not share one event loop. `node bench-servers.ts <kind> [upstream]`,
// kind: upstream, plain-proxy, hono-proxy or gateway.
import { createServer, request, Agent } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { undiciHttp } from '../../../edge-api/backends/undici-http.ts';
import { loadConfig } from '../../../edge-api/config.ts';
import { jsonLogger } from '../../../edge-api/http/logger.ts';
import { startServer } from '../../../edge-api/server.ts';

/** What a GPU server answers, minus the GPU: a fixed completion, as fast as Node can send it. */
const COMPLETION = JSON.stringify({
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  created: 0,
  model: 'bench',
  choices: [{ index: 0, message: { role: 'assistant', content: 'A short answer.' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 10, completion_tokens: 4, total_tokens: 14 }
});

const [kind = 'upstream', upstream = ''] = process.argv.slice(2);
const listen = (server: ReturnType<typeof createServer>) =>
  server.listen(0, '127.0.0.1', () => console.log(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));

if (kind === 'upstream') {
  // BENCH_UPSTREAM_DELAY_MS: a server that takes a while per answer, as any real model server does.
  const delayMs = Number(process.env.BENCH_UPSTREAM_DELAY_MS ?? 0);
  listen(
    createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const answer = () => res.writeHead(200, { 'content-type': 'application/json' }).end(COMPLETION);
        if (delayMs > 0) {
          setTimeout(answer, delayMs);
        } else {
          answer();
        }
      });
    })
  );
} else if (kind === 'plain-proxy') {
  // The floor for any Node proxy: node:http in, node:http out, no parsing, no checks.
  const target = new URL(upstream);
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  listen(
    createServer((req, res) => {
      const out = request(
        { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers, agent },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        }
      );
      req.pipe(out);
    })
  );
} else if (kind === 'hono-proxy') {
  // The framework's floor: Hono on @hono/node-server relaying through the gateway's own upstream
  // client, with none of the gateway's work (auth, limits, validation, metrics, OpenAI shapes).
  const { http } = undiciHttp();
  const app = new Hono().post('/v1/chat/completions', async (c) => {
    const reply = await http(`${upstream}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: await c.req.text(),
      signal: c.req.raw.signal,
      timeoutMs: 30_000
    });
    return c.body(await reply.text(), reply.status as 200, { 'content-type': 'application/json' });
  });
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) =>
    console.log(`http://127.0.0.1:${info.port}`)
  );
  void server;
} else {
  const key = process.env.BENCH_API_KEY_HASH!;
  const config = loadConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    DATA_DIR: process.env.BENCH_DATA_DIR!,
    STATIC_DIR: '',
    LOG_LEVEL: 'silent',
    API_KEYS: `bench:load:${key}`,
    ALLOW_ANONYMOUS: 'false',
    RATE_LIMIT_BURST: '1000000',
    RATE_LIMIT_PER_SECOND: '1000000',
    UPSTREAMS: JSON.stringify([{ model: 'gpu-model', url: `${upstream}/v1` }]),
    LOCAL_MODELS: 'none',
    JOB_CONCURRENCY: '0'
  });
  const running = await startServer(config, jsonLogger('silent'));
  console.log(`http://127.0.0.1:${running.port}`);
}
