import { commands } from 'vitest/browser';
import { expect, it } from 'vitest';
import type { GenerationStats } from '#lib/core/engine-types.ts';
import { VlmBridge } from '#lib/workers/vlm-bridge.ts';
import { BENCH_FLORENCE2, benchLoadRequest, installBenchModel } from './bench-model.ts';
import { FLORENCE_BENCH, florenceRuns } from './florence-request.ts';
import { percentile, round, rowsOf } from './stats.ts';

const RUNS = florenceRuns(import.meta.env.VITE_BENCH_FLORENCE_RUNS);

async function frame(): Promise<ImageBitmap> {
  const canvas = new OffscreenCanvas(FLORENCE_BENCH.side, FLORENCE_BENCH.side);
  const context = canvas.getContext('2d')!;
  context.fillStyle = `rgb(${FLORENCE_BENCH.rgb.join(' ')})`;
  context.fillRect(0, 0, FLORENCE_BENCH.side, FLORENCE_BENCH.side);
  return createImageBitmap(canvas);
}

function progress(step: string, stats?: GenerationStats): void {
  const detail = stats
    ? ` TTFT ${round(stats.timeToFirstTokenMs, 0)} ms (vision ${round(stats.visionMs, 0)}), total ${round(stats.totalMs, 0)} ms, ${stats.tokens} tokens`
    : '';
  console.log(`[bench florence-detection] wasm: ${step}${detail}`);
}

it(
  "florence-detection: an '<OD>' answer on a 768² frame through the VLM worker (WASM)",
  { timeout: 3_600_000 },
  async () => {
    await installBenchModel(BENCH_FLORENCE2);
    const bridge = new VlmBridge();
    try {
      progress('loading');
      const { loadMs } = await bridge.load(benchLoadRequest('wasm', BENCH_FLORENCE2), () => undefined);
      const options = { maxNewTokens: FLORENCE_BENCH.maxNewTokens };
      const ask = async () => bridge.generate(await frame(), FLORENCE_BENCH.question, options, () => undefined);
      // The first request allocates the sessions' buffers; it is reported on its own, not in the medians.
      const warmup = await ask();
      progress(`loaded in ${round(loadMs / 1000, 1)} s; warm-up:`, warmup);
      const runs: GenerationStats[] = [];
      for (let i = 0; i < RUNS; i += 1) {
        runs.push(await ask());
        progress(`run ${i + 1}/${RUNS}:`, runs.at(-1));
      }
      // The answer is the detection's: boxes drawn over the frame, not free text.
      expect(runs.every((r) => r.device === 'wasm' && r.annotations?.items.length)).toBe(true);
      const median = (pick: (s: GenerationStats) => number) => round(percentile(runs.map(pick), 50), 0);
      const note = `${FLORENCE_BENCH.note}; ${RUNS} run(s) after warm-up; ${navigator.hardwareConcurrency} cores, ORT Web's default WASM threads (min(4, cores / 2))`;
      const row = rowsOf({ bench: 'florence-detection', case: 'wasm', note });
      const rows = [
        row('load', round(loadMs, 0), 'ms'),
        row('warm-up total', round(warmup.totalMs, 0), 'ms'),
        row(
          'TTFT p50',
          median((s) => s.timeToFirstTokenMs),
          'ms'
        ),
        row(
          'vision p50',
          median((s) => s.visionMs),
          'ms'
        ),
        row(
          'total p50',
          median((s) => s.totalMs),
          'ms'
        ),
        row(
          'tokens',
          median((s) => s.tokens),
          'tokens'
        ),
        row(
          'decode p50',
          round(
            percentile(
              runs.map((s) => s.tokensPerSecond),
              50
            ),
            1
          ),
          'tokens/s'
        )
      ];
      await commands.writeFile('tests/bench/results/florence-detection.json', JSON.stringify(rows, null, 2));
    } finally {
      bridge.dispose();
    }
  }
);
