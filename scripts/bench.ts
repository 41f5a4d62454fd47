// `npm run bench`: generates the architecture-faithful models, runs the browser benchmarks,
// measures the home page's initial JavaScript, Lighthouse on every page and the edge API, then
// prints one table and writes JSON.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { BenchRow } from '../tests/bench/stats.ts';

const RESULTS = 'tests/bench/results';
const run = (command: string, args: string[]) => execFileSync(command, args, { stdio: 'inherit' });

/** What the home page may preload before any interaction (README, Benchmarks). */
const INITIAL_JS_BUDGET_KB = 120;

/** Gzip bytes of every script the prerendered home page preloads (what loads before any interaction). */
function initialJavaScript(): BenchRow[] {
  const html = readFileSync('build/index.html', 'utf8');
  const scripts = [...html.matchAll(/href="\.\/(_app\/[^"]+\.js)"/g)].map((m) => m[1]!);
  const gzip = scripts.reduce((sum, file) => sum + gzipSync(readFileSync(join('build', file)), { level: 9 }).length, 0);
  const workerRuntime = scripts.some((file) => readFileSync(join('build', file), 'utf8').includes('onnxruntime'));
  const kb = Math.round(gzip / 102.4) / 10;
  const verdict = kb <= INITIAL_JS_BUDGET_KB ? 'within' : 'OVER';
  console.log(
    `initial JavaScript, home page: ${kb} KB gzip in ${scripts.length} files — budget ${INITIAL_JS_BUDGET_KB} KB, ${verdict}`
  );
  return [
    {
      bench: 'initial-js',
      case: 'home page',
      metric: 'gzip',
      value: kb,
      unit: 'KB',
      target: `≤ ${INITIAL_JS_BUDGET_KB} KB`,
      note: `${kb} KB of the ${INITIAL_JS_BUDGET_KB} KB budget: ${verdict}`
    },
    {
      bench: 'initial-js',
      case: 'home page',
      metric: 'files',
      value: scripts.length,
      unit: 'scripts',
      note: workerRuntime ? 'model runtime on the page!' : 'model runtimes only in workers'
    }
  ];
}

/** How close in-browser embedding gets to the same model on onnxruntime-node. */
function nativeRatio(rows: BenchRow[]): BenchRow[] {
  const rate = (c: string) =>
    rows.find((r) => r.bench === 'embedding' && r.case === c && r.metric === 'throughput')?.value;
  const native = rate('onnxruntime-node (native CPU)');
  return (['wasm', 'webgpu (SwiftShader)'] as const).flatMap((c) => {
    const browser = rate(c);
    return browser && native
      ? [
          {
            bench: 'embedding',
            case: `${c} / native`,
            metric: 'ratio',
            value: Math.round((browser / native) * 100) / 100,
            unit: '×'
          }
        ]
      : [];
  });
}

mkdirSync(RESULTS, { recursive: true });
run('node', ['scripts/generate-tiny-models.ts', '--faithful']);
// A minute of espeak-ng speech for the speech-analysis bench and its native reference.
run('node', ['tests/bench/speech-recording.ts']);
run('vite', ['build']);
const rows: BenchRow[] = initialJavaScript();
// Lighthouse (mobile) over every page of this build, served by the edge API as `npm start` does.
run('node', ['tests/bench/lighthouse.bench.ts']);
run('vitest', ['run', '--project', 'bench']);
run('node', ['scripts/embedding-native-bench.ts']);
// After the browser's: it adds the WASM / native ratio of the Florence-2 detection.
run('node', ['scripts/florence-native-bench.ts']);
// Praat on the same recording, and the speech worker's ratio to it.
run('node', ['scripts/speech-native-bench.ts']);
// The edge API on Node: gateway overhead, and the job queue with both adapters (starts its own redis-server).
run('node', ['tests/bench/edge/gateway.bench.ts']);
run('node', ['tests/bench/edge/job-queue.bench.ts']);
for (const file of readdirSync(RESULTS).filter((f) => f.endsWith('.json') && f !== 'summary.json')) {
  rows.push(...(JSON.parse(readFileSync(join(RESULTS, file), 'utf8')) as BenchRow[]));
}
rows.push(...nativeRatio(rows));
const environment = {
  date: new Date().toISOString(),
  node: process.version,
  cpus: (await import('node:os')).cpus().length
};
writeFileSync(join(RESULTS, 'summary.json'), JSON.stringify({ environment, rows }, null, 2));
console.table(
  rows.map(({ bench, case: c, metric, value, unit, target }) => ({
    bench,
    case: c,
    metric,
    value,
    unit,
    target: target ?? ''
  }))
);
const notes = [...new Set(rows.flatMap((r) => (r.note ? [`${r.bench}: ${r.note}`] : [])))];
notes.forEach((note) => console.log(`note — ${note}`));
console.log(
  `JSON: ${join(RESULTS, 'summary.json')}${existsSync('.cache/models/vision-hub-dev') ? '' : ' (no models generated!)'}`
);
