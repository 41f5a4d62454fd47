// Lighthouse over every page of the production build, served by the real edge API, with
// Lighthouse's default mobile emulation (Moto G Power screen, simulated slow 4G and 4× CPU).
// `node tests/bench/lighthouse.bench.ts` after `vite build`; BENCH_LIGHTHOUSE_URL measures a
// server that is already running instead, BENCH_LIGHTHOUSE_PAGES a comma-separated subset,
// BENCH_LIGHTHOUSE_STATIC_DIR another build folder (a copy, while someone else rebuilds build/),
// BENCH_LIGHTHOUSE_REPORTS a folder for each page's full report (the diagnostics behind a score),
// BENCH_LIGHTHOUSE_RUNS how many runs per page (default 3; the median one counts).
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launch } from 'chrome-launcher';
import lighthouse, { type RunnerResult } from 'lighthouse';
import { chromiumArgs, findChromium } from '../../scripts/chromium.ts';
import { round, type BenchRow } from './stats.ts';

const PAGES = (process.env.BENCH_LIGHTHOUSE_PAGES ?? '/,/knowledge,/video,/studio,/models,/classroom,/status').split(
  ','
);
// Three by default: on a shared 2-core machine one run's score moves by up to ten points.
const RUNS = Number(process.env.BENCH_LIGHTHOUSE_RUNS ?? 3);
const CATEGORIES = ['performance', 'accessibility', 'best-practices', 'seo'] as const;
const METRICS = [
  ['largest-contentful-paint', 'LCP', 'ms', 0],
  ['total-blocking-time', 'TBT', 'ms', 0],
  ['cumulative-layout-shift', 'CLS', '', 3]
] as const;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** `npm start`'s server in its own process, so Lighthouse's work does not slow its answers. */
async function startEdgeApi(): Promise<{ url: string; stop(): void }> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'lighthouse-'));
  const child = spawn(process.execPath, ['edge-api/server.ts'], {
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: String(port),
      STATIC_DIR: process.env.BENCH_LIGHTHOUSE_STATIC_DIR ?? 'build',
      MODELS_DIR: '.cache/models',
      DATA_DIR: dataDir,
      JOB_CONCURRENCY: '0',
      LOG_LEVEL: 'silent'
    },
    stdio: 'inherit'
  });
  const url = `http://127.0.0.1:${port}`;
  for (let tries = 0; ; tries++) {
    try {
      if ((await fetch(url)).ok) {
        break;
      }
    } catch (error) {
      if (tries > 100 || child.exitCode !== null) {
        throw new Error('The edge API did not start', { cause: error });
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return {
    url,
    stop() {
      child.kill();
      rmSync(dataDir, { recursive: true, force: true });
    }
  };
}

const server = process.env.BENCH_LIGHTHOUSE_URL ? null : await startEdgeApi();
const origin = process.env.BENCH_LIGHTHOUSE_URL ?? server!.url;
const chrome = await launch({ chromePath: findChromium(), chromeFlags: [...chromiumArgs, '--headless=new'] });
const rows: BenchRow[] = [];

/** One Lighthouse run; a run whose trace came out broken (a busy machine) is tried again. */
async function measure(page: string): Promise<RunnerResult> {
  for (let attempt = 1; ; attempt++) {
    // One page at a time: Lighthouse's simulated throttling assumes nothing else runs.
    const result = await lighthouse(`${origin}${page}`, {
      port: chrome.port,
      output: 'json',
      logLevel: 'error',
      onlyCategories: [...CATEGORIES]
    });
    if (!result) {
      throw new Error(`Lighthouse returned nothing for ${page}`);
    }
    if (!result.lhr.runtimeError || attempt === 3) {
      return result;
    }
  }
}

/** Of RUNS runs, the one with the median performance score, as Lighthouse advises for noisy machines. */
async function medianRun(page: string): Promise<RunnerResult> {
  const results: RunnerResult[] = [];
  for (let run = 0; run < RUNS; run++) {
    results.push(await measure(page));
  }
  const score = (result: RunnerResult) => result.lhr.categories.performance?.score ?? -1;
  return results.sort((a, b) => score(a) - score(b))[Math.floor((results.length - 1) / 2)]!;
}

try {
  for (const page of PAGES) {
    const result = await medianRun(page);
    const { categories, audits, runtimeError } = result.lhr;
    if (process.env.BENCH_LIGHTHOUSE_REPORTS) {
      mkdirSync(process.env.BENCH_LIGHTHOUSE_REPORTS, { recursive: true });
      const name = page === '/' ? 'home' : page.replace(/^\//, '').replaceAll('/', '-');
      writeFileSync(join(process.env.BENCH_LIGHTHOUSE_REPORTS, `${name}.json`), JSON.stringify(result.lhr));
    }
    for (const id of CATEGORIES) {
      const score = categories[id]?.score;
      rows.push({
        bench: 'lighthouse',
        case: page,
        metric: id,
        value: score == null ? Number.NaN : Math.round(score * 100),
        unit: 'score',
        ...(runtimeError ? { note: `${page}: ${runtimeError.message}` } : {})
      });
    }
    for (const [id, metric, unit, digits] of METRICS) {
      rows.push({
        bench: 'lighthouse',
        case: page,
        metric,
        value: round(audits[id]?.numericValue ?? Number.NaN, digits),
        unit
      });
    }
  }
} finally {
  chrome.kill();
  server?.stop();
}

console.table(
  PAGES.map((page) =>
    Object.fromEntries([
      ['page', page],
      ...rows.filter((r) => r.case === page).map((r) => [r.metric, r.unit === 'ms' ? `${r.value} ms` : r.value])
    ])
  )
);
mkdirSync('tests/bench/results', { recursive: true });
writeFileSync('tests/bench/results/lighthouse.json', JSON.stringify(rows, null, 2));
