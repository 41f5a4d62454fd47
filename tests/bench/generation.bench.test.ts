import { commands } from 'vitest/browser';
import { expect, it } from 'vitest';
import type { GenerationStats } from '#lib/core/vlm-types.ts';
import { VlmBridge } from '#lib/workers/vlm-bridge.ts';
import { BENCH_SMOLVLM, benchLoadRequest, installBenchModel } from './bench-model.ts';
import { percentile, round, type BenchRow } from './stats.ts';

const RUNS = Number(import.meta.env.VITE_BENCH_RUNS ?? 3);
const NEW_TOKENS = 16;
const NOTE = 'architecture-faithful SmolVLM-256M, random weights (speed only; answers are noise)';

async function frame(): Promise<ImageBitmap> {
  const canvas = new OffscreenCanvas(640, 480);
  const context = canvas.getContext('2d')!;
  context.fillStyle = '#2563eb';
  context.fillRect(0, 0, 640, 480);
  return createImageBitmap(canvas);
}

it(
  'generation: time to first token (preprocess / vision / prefill) and decode speed',
  { timeout: 1_800_000 },
  async () => {
    await installBenchModel();
    const rows: BenchRow[] = [];
    for (const device of ['wasm', 'webgpu'] as const) {
      const bridge = new VlmBridge();
      const { loadMs } = await bridge.load(benchLoadRequest(device), () => undefined);
      const runs: GenerationStats[] = [];
      // The first request compiles kernels/shaders; it is reported as warm-up, not in the medians.
      const warmup = await bridge.generate(
        await frame(),
        'What do you see?',
        { imageSize: BENCH_SMOLVLM.imageSize, maxNewTokens: NEW_TOKENS },
        () => undefined
      );
      for (let i = 0; i < RUNS; i += 1) {
        runs.push(
          await bridge.generate(
            await frame(),
            'What do you see?',
            { imageSize: BENCH_SMOLVLM.imageSize, maxNewTokens: NEW_TOKENS },
            () => undefined
          )
        );
      }
      bridge.dispose();
      expect(runs.every((r) => r.device === device)).toBe(true);
      const median = (pick: (s: GenerationStats) => number) => round(percentile(runs.map(pick), 50), 1);
      const row = (metric: string, value: number, unit: string): BenchRow => ({
        bench: 'generation',
        case: device,
        metric,
        value,
        unit,
        note: NOTE
      });
      rows.push(
        row('load', round(loadMs, 0), 'ms'),
        row('first request TTFT (warm-up)', round(warmup.timeToFirstTokenMs, 0), 'ms'),
        row(
          'TTFT p50',
          median((s) => s.timeToFirstTokenMs),
          'ms'
        ),
        row(
          'preprocess p50',
          median((s) => s.preprocessMs),
          'ms'
        ),
        row(
          'vision p50',
          median((s) => s.visionMs),
          'ms'
        ),
        row(
          'prefill p50',
          median((s) => s.prefillMs),
          'ms'
        ),
        row(
          'decode p50',
          median((s) => s.tokensPerSecond),
          'tokens/s'
        )
      );
    }
    await commands.writeFile('tests/bench/results/generation.json', JSON.stringify(rows, null, 2));
  }
);
