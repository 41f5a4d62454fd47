// Gateway overhead: the same chat request sent to a trivial OpenAI-compatible upstream directly,
// through a plain node:http proxy (the floor for any Node proxy), through a bare Hono proxy (the
// framework's floor) and through the edge API (auth, rate limit, validation, metrics, breaker). `node tests/bench/edge/gateway.bench.ts`.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { createApiKey } from '../../../edge-api/security/api-keys.ts';
import { percentile, round, type BenchRow } from '../stats.ts';

const LATENCY_REQUESTS = Number(process.env.BENCH_LATENCY_REQUESTS ?? 3_000);
const LOAD_SECONDS = Number(process.env.BENCH_LOAD_SECONDS ?? 8);
const CONNECTIONS = 50;
const BODY = JSON.stringify({
  model: 'gpu-model',
  messages: [{ role: 'user', content: 'What is in the picture?' }],
  max_tokens: 16
});

const PATHS = ['direct', 'proxy', 'hono', 'gateway'] as const;
type Path = (typeof PATHS)[number];

const children: ChildProcess[] = [];
function start(kind: string, env: Record<string, string> = {}, upstream = ''): Promise<string> {
  const child = spawn(process.execPath, [join(import.meta.dirname, 'bench-servers.ts'), kind, upstream], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit']
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', (chunk: Buffer) => resolve(chunk.toString().trim()));
    child.once('exit', (code) => reject(new Error(`${kind} exited with ${code}`)));
  });
}

/** One request at a time on a kept-alive connection: sub-millisecond timings, no queueing. */
async function latencies(url: string, headers: Record<string, string>): Promise<number[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const target = new URL(`${url}/v1/chat/completions`);
  const once = () =>
    new Promise<number>((resolve, reject) => {
      const started = performance.now();
      const req = request(
        target,
        { method: 'POST', agent, headers: { 'content-type': 'application/json', ...headers } },
        (res) => {
          res.resume();
          res.on('end', () =>
            res.statusCode === 200 ? resolve(performance.now() - started) : reject(new Error(`HTTP ${res.statusCode}`))
          );
        }
      );
      req.on('error', reject);
      req.end(BODY);
    });
  for (let i = 0; i < 200; i++) {
    await once();
  }
  const samples: number[] = [];
  for (let i = 0; i < LATENCY_REQUESTS; i++) {
    samples.push(await once());
  }
  agent.destroy();
  return samples;
}

async function throughput(url: string, headers: Record<string, string>): Promise<number> {
  const result = await autocannon({
    url: `${url}/v1/chat/completions`,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: BODY,
    connections: CONNECTIONS,
    duration: LOAD_SECONDS
  });
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`${url}: ${result.non2xx} non-2xx and ${result.errors} errors under load`);
  }
  return result.requests.average;
}

const dataDir = mkdtempSync(join(tmpdir(), 'gateway-bench-'));
try {
  const { key, hash } = await createApiKey();
  const auth = { authorization: `Bearer ${key}` };
  const upstream = await start('upstream');
  const proxy = await start('plain-proxy', {}, upstream);
  const hono = await start('hono-proxy', {}, upstream);
  const gateway = await start('gateway', { BENCH_API_KEY_HASH: hash, BENCH_DATA_DIR: dataDir }, upstream);

  // Interleaved rounds, so a noisy moment on this shared machine hits every path alike.
  const targets: Record<Path, [url: string, headers: Record<string, string>]> = {
    direct: [upstream, {}],
    proxy: [proxy, {}],
    hono: [hono, {}],
    gateway: [gateway, auth]
  };
  const samples: Record<Path, number[]> = { direct: [], proxy: [], hono: [], gateway: [] };
  const rates: Record<Path, number> = { direct: 0, proxy: 0, hono: 0, gateway: 0 };
  for (let round = 0; round < 3; round++) {
    for (const path of PATHS) {
      samples[path].push(...(await latencies(...targets[path])));
    }
  }
  for (const path of PATHS) {
    rates[path] = await throughput(...targets[path]);
  }

  const p = (path: Path, q: number) => percentile(samples[path], q);
  const rows: BenchRow[] = [
    ...PATHS.flatMap((path) => [
      { bench: 'gateway', case: `${path}, 1 connection`, metric: 'p50', value: round(p(path, 50), 3), unit: 'ms' },
      { bench: 'gateway', case: `${path}, 1 connection`, metric: 'p99', value: round(p(path, 99), 3), unit: 'ms' },
      {
        bench: 'gateway',
        case: `${path}, ${CONNECTIONS} connections`,
        metric: 'throughput',
        value: Math.round(rates[path]),
        unit: 'req/s'
      }
    ]),
    {
      bench: 'gateway',
      case: 'added by the gateway',
      metric: 'p50',
      value: round(p('gateway', 50) - p('direct', 50), 3),
      unit: 'ms',
      target: '≤ 1 ms'
    },
    {
      bench: 'gateway',
      case: 'added by the gateway',
      metric: 'p99',
      value: round(p('gateway', 99) - p('direct', 99), 3),
      unit: 'ms',
      target: '≤ 5 ms'
    },
    {
      bench: 'gateway',
      case: 'gateway / plain node:http proxy',
      metric: 'throughput ratio',
      value: round(rates.gateway / rates.proxy),
      unit: '×',
      target: '≥ 0.8',
      note: 'the target is read against the plain node:http proxy (DESIGN §8); vs the bare upstream in the next row'
    },
    {
      bench: 'gateway',
      case: 'bare Hono proxy / plain node:http proxy',
      metric: 'throughput ratio',
      value: round(rates.hono / rates.proxy),
      unit: '×',
      note: 'the framework floor: Hono relaying through the same upstream client, doing none of the gateway’s work'
    },
    {
      bench: 'gateway',
      case: 'gateway / bare Hono proxy',
      metric: 'throughput ratio',
      value: round(rates.gateway / rates.hono),
      unit: '×'
    },
    {
      bench: 'gateway',
      case: 'gateway / direct upstream',
      metric: 'throughput ratio',
      value: round(rates.gateway / rates.direct),
      unit: '×'
    }
  ];
  // The same comparison with an upstream that takes 50 ms per answer (a real generation takes far
  // longer): the gateway's own cost then no longer limits throughput.
  const slowUpstream = await start('upstream', { BENCH_UPSTREAM_DELAY_MS: '50' });
  const slowGateway = await start('gateway', { BENCH_API_KEY_HASH: hash, BENCH_DATA_DIR: dataDir }, slowUpstream);
  const slowDirect = await throughput(slowUpstream, {});
  const slowThrough = await throughput(slowGateway, auth);
  rows.push(
    {
      bench: 'gateway',
      case: 'upstream taking 50 ms, 50 connections',
      metric: 'throughput direct / through gateway',
      value: Math.round(slowDirect),
      unit: 'req/s',
      note: `${Math.round(slowThrough)} req/s through the gateway`
    },
    {
      bench: 'gateway',
      case: 'upstream taking 50 ms: gateway / direct',
      metric: 'throughput ratio',
      value: round(slowThrough / slowDirect),
      unit: '×'
    }
  );
  mkdirSync('tests/bench/results', { recursive: true });
  writeFileSync('tests/bench/results/edge-gateway.json', JSON.stringify(rows, null, 2));
  console.table(rows.map(({ note: _note, ...row }) => row));
} finally {
  for (const child of children) {
    child.kill('SIGTERM');
  }
  rmSync(dataDir, { recursive: true, force: true });
}
