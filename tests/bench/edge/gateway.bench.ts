// Gateway overhead: the same chat request sent to a trivial OpenAI-compatible upstream directly,
// through a plain node:http proxy (the floor for any Node proxy), through a bare Hono proxy (the
// framework's floor), through the edge API (auth, rate limit, validation, metrics, breaker) and
// through Portkey's open-source AI gateway (the peer a user would pick; also a Hono app), all in
// one run. `node tests/bench/edge/gateway.bench.ts`.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { createApiKey } from '../../../edge-api/security/api-keys.ts';
import { percentile, round, type BenchRow } from '../stats.ts';

const LATENCY_REQUESTS = Number(process.env.BENCH_LATENCY_REQUESTS ?? 3_000);
// Per path and round; the rounds interleave the paths, as the latency rounds do.
const LOAD_SECONDS = Number(process.env.BENCH_LOAD_SECONDS ?? 4);
const LOAD_ROUNDS = 3;
const CONNECTIONS = 50;
const BODY = JSON.stringify({
  model: 'gpu-model',
  messages: [{ role: 'user', content: 'What is in the picture?' }],
  max_tokens: 16
});

const PATHS = ['direct', 'proxy', 'hono', 'gateway', 'portkey'] as const;
type Path = (typeof PATHS)[number];

const children: ChildProcess[] = [];
/** Each server's process id by its URL, to read the CPU time it spent. */
const pids = new Map<string, number>();
function start(kind: string, env: Record<string, string> = {}, upstream = ''): Promise<string> {
  const child = spawn(process.execPath, [join(import.meta.dirname, 'bench-servers.ts'), kind, upstream], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit']
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', (chunk: Buffer) => {
      const url = chunk.toString().trim();
      pids.set(url, child.pid!);
      resolve(url);
    });
    child.once('exit', (code) => reject(new Error(`${kind} exited with ${code}`)));
  });
}

/**
 * CPU seconds (user and system) a process has spent, from Linux's /proc; null elsewhere. Clock
 * ticks are 1/100 s on every Linux this runs on (USER_HZ).
 */
function cpuSeconds(pid: number | undefined): number | null {
  if (pid === undefined) {
    return null;
  }
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

/** A port free a moment ago, for a server that cannot be told to pick its own. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Portkey's gateway as its README starts it (its `patch-package` postinstall not run: it relays
 * OpenAI-shaped calls to a custom host without it). It prints a banner once it listens.
 */
async function startPortkey(): Promise<string> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    ['node_modules/@portkey-ai/gateway/build/start-server.js', `--port=${port}`, '--headless'],
    { stdio: ['ignore', 'pipe', 'inherit'] }
  );
  children.push(child);
  pids.set(`http://127.0.0.1:${port}`, child.pid!);
  await new Promise<void>((resolve, reject) => {
    let printed = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      printed += chunk.toString();
      if (printed.includes('Ready for connections')) {
        child.stdout!.resume();
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`Portkey's gateway exited with ${code}`)));
  });
  return `http://127.0.0.1:${port}`;
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

/**
 * Requests per second at {@link CONNECTIONS} connections, and the CPU time the server's own
 * process spent per request meanwhile: on a machine whose cores the load generator, the upstream
 * and the server share, that figure depends far less on what else runs than the rate does.
 */
async function throughput(
  url: string,
  headers: Record<string, string>
): Promise<{ rate: number; cpuUs: number | null }> {
  const cpuBefore = cpuSeconds(pids.get(url));
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
  const cpuAfter = cpuSeconds(pids.get(url));
  const cpuUs = cpuBefore === null || cpuAfter === null ? null : ((cpuAfter - cpuBefore) * 1e6) / result.requests.total;
  return { rate: result.requests.average, cpuUs };
}

const dataDir = mkdtempSync(join(tmpdir(), 'gateway-bench-'));
try {
  const { key, hash } = await createApiKey();
  const auth = { authorization: `Bearer ${key}` };
  const upstream = await start('upstream');
  const proxy = await start('plain-proxy', {}, upstream);
  const hono = await start('hono-proxy', {}, upstream);
  const gateway = await start('gateway', { BENCH_API_KEY_HASH: hash, BENCH_DATA_DIR: dataDir }, upstream);
  const portkey = await startPortkey();

  // Interleaved rounds, so a noisy moment on this shared machine hits every path alike.
  const targets: Record<Path, [url: string, headers: Record<string, string>]> = {
    direct: [upstream, {}],
    proxy: [proxy, {}],
    hono: [hono, {}],
    gateway: [gateway, auth],
    // Its own routing headers; the key is passed on to the upstream, which ignores it.
    portkey: [
      portkey,
      { authorization: 'Bearer sk-bench', 'x-portkey-provider': 'openai', 'x-portkey-custom-host': `${upstream}/v1` }
    ]
  };
  const samples: Record<Path, number[]> = { direct: [], proxy: [], hono: [], gateway: [], portkey: [] };
  const rates: Record<Path, number> = { direct: 0, proxy: 0, hono: 0, gateway: 0, portkey: 0 };
  for (let round = 0; round < 3; round++) {
    for (const path of PATHS) {
      samples[path].push(...(await latencies(...targets[path])));
    }
  }
  const served: Record<Path, number[]> = { direct: [], proxy: [], hono: [], gateway: [], portkey: [] };
  const spent: Record<Path, number[]> = { direct: [], proxy: [], hono: [], gateway: [], portkey: [] };
  for (let round = 0; round < LOAD_ROUNDS; round++) {
    for (const path of PATHS) {
      const { rate, cpuUs } = await throughput(...targets[path]);
      served[path].push(rate);
      if (cpuUs !== null) {
        spent[path].push(cpuUs);
      }
    }
  }
  const cpuUs: Record<Path, number> = { direct: 0, proxy: 0, hono: 0, gateway: 0, portkey: 0 };
  for (const path of PATHS) {
    rates[path] = percentile(served[path], 50);
    cpuUs[path] = percentile(spent[path], 50);
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
      },
      // NaN (no /proc) is left out rather than written as null.
      ...(Number.isNaN(cpuUs[path])
        ? []
        : [
            {
              bench: 'gateway',
              case: `${path}, ${CONNECTIONS} connections`,
              metric: 'CPU per request',
              value: Math.round(cpuUs[path]),
              unit: 'µs',
              note: 'user + system time of the server process itself, median of the rounds'
            }
          ])
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
      target: '≤ 1 ms'
    },
    {
      bench: 'gateway',
      case: 'added by Portkey',
      metric: 'p50',
      value: round(p('portkey', 50) - p('direct', 50), 3),
      unit: 'ms',
      note: 'DESIGN §9: +0.75 ms p50 measured earlier'
    },
    {
      bench: 'gateway',
      case: 'added by Portkey',
      metric: 'p99',
      value: round(p('portkey', 99) - p('direct', 99), 3),
      unit: 'ms'
    },
    {
      bench: 'gateway',
      case: 'gateway / Portkey gateway',
      metric: 'throughput ratio',
      value: round(rates.gateway / rates.portkey),
      unit: '×',
      target: '≥ 4',
      note: 'ours with auth, rate limit, validation and metrics on; Portkey as started by its README'
    },
    {
      bench: 'gateway',
      case: 'gateway / plain node:http proxy',
      metric: 'throughput ratio',
      value: round(rates.gateway / rates.proxy),
      unit: '×',
      target: '≥ 0.6',
      note: 'the plain node:http proxy is the floor for any Node proxy (DESIGN §8)'
    },
    ...(Number.isNaN(cpuUs.gateway)
      ? []
      : [
          {
            bench: 'gateway',
            case: 'gateway / plain node:http proxy',
            metric: 'CPU per request ratio',
            value: round(cpuUs.gateway / cpuUs.proxy),
            unit: '×',
            note:
              'the throughput ratios’ cause, and far less sensitive to what else shares the cores; where the ' +
              'server’s own core is the bottleneck, ≥ 0.6× the throughput means ≤ 1.67× the CPU'
          },
          {
            bench: 'gateway',
            case: 'Portkey gateway / gateway',
            metric: 'CPU per request ratio',
            value: round(cpuUs.portkey / cpuUs.gateway),
            unit: '×',
            note: 'where each server’s own core is the bottleneck, ≥ 4× Portkey’s throughput means ≥ 4 here'
          },
          {
            bench: 'gateway',
            case: 'gateway / bare Hono proxy',
            metric: 'CPU per request ratio',
            value: round(cpuUs.gateway / cpuUs.hono),
            unit: '×'
          }
        ]),
    {
      bench: 'gateway',
      case: 'Portkey gateway / plain node:http proxy',
      metric: 'throughput ratio',
      value: round(rates.portkey / rates.proxy),
      unit: '×'
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
  const slowDirect = (await throughput(slowUpstream, {})).rate;
  const slowThrough = (await throughput(slowGateway, auth)).rate;
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
