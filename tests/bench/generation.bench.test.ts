import { commands } from 'vitest/browser';
import { expect, it } from 'vitest';
import type { GenerationStats } from '#lib/core/engine-types.ts';
import { VlmBridge } from '#lib/workers/vlm-bridge.ts';
import { BENCH_SMOLVLM, benchLoadRequest, installBenchModel } from './bench-model.ts';
import { percentile, round, rowsOf, type BenchRow } from './stats.ts';

/**
 * Measured runs per device after one warm-up; 0 skips the device. WebGPU here is SwiftShader (a
 * GPU emulated on the CPU): one SmolVLM-256M request there takes about ten minutes.
 */
const RUNS = {
  wasm: Number(import.meta.env.VITE_BENCH_RUNS ?? 3),
  webgpu: Number(import.meta.env.VITE_BENCH_WEBGPU_RUNS ?? 1)
};
const NEW_TOKENS = 16;
const NOTE = 'architecture-faithful SmolVLM-256M, random weights (speed only; answers are noise)';
const OPTIONS = { maxNewTokens: NEW_TOKENS };

async function frame(): Promise<ImageBitmap> {
  const canvas = new OffscreenCanvas(640, 480);
  const context = canvas.getContext('2d')!;
  context.fillStyle = '#2563eb';
  context.fillRect(0, 0, 640, 480);
  return createImageBitmap(canvas);
}

/** Progress on the terminal: a full run takes many minutes and should never look stuck. */
function progress(device: string, step: string, stats?: GenerationStats): void {
  const detail = stats
    ? ` TTFT ${round(stats.timeToFirstTokenMs, 0)} ms (vision ${round(stats.visionMs, 0)}), ${round(stats.tokensPerSecond, 1)} tok/s`
    : '';
  console.log(`[bench generation] ${device}: ${step}${detail}`);
}

async function measure(device: 'wasm' | 'webgpu'): Promise<BenchRow[]> {
  const bridge = new VlmBridge();
  try {
    progress(device, 'loading');
    const { loadMs } = await bridge.load(benchLoadRequest(device), () => undefined);
    progress(device, `loaded in ${round(loadMs / 1000, 1)} s; warm-up request`);
    // The first request compiles kernels/shaders; it is reported on its own, not in the medians.
    const warmup = await bridge.generate(await frame(), 'What do you see?', OPTIONS, () => undefined);
    progress(device, 'warm-up done:', warmup);
    const runs: GenerationStats[] = [];
    for (let i = 0; i < RUNS[device]; i += 1) {
      runs.push(await bridge.generate(await frame(), 'What do you see?', OPTIONS, () => undefined));
      progress(device, `run ${i + 1}/${RUNS[device]}:`, runs.at(-1));
    }
    expect(runs.every((r) => r.device === device)).toBe(true);
    const median = (pick: (s: GenerationStats) => number) => round(percentile(runs.map(pick), 50), 1);
    const row = rowsOf({
      bench: 'generation',
      case: device === 'webgpu' ? 'webgpu (SwiftShader)' : 'wasm',
      note: `${NOTE}; ${RUNS[device]} run(s) after warm-up, ${NEW_TOKENS} new tokens, ${BENCH_SMOLVLM.imageSize}² image`
    });
    return [
      row('load', round(loadMs, 0), 'ms'),
      row('warm-up TTFT', round(warmup.timeToFirstTokenMs, 0), 'ms'),
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
    ];
  } finally {
    bridge.dispose();
  }
}

it(
  'generation: time to first token (preprocess / vision / prefill) and decode speed',
  { timeout: 3_600_000 },
  async () => {
    await installBenchModel();
    const rows: BenchRow[] = [];
    for (const device of (['wasm', 'webgpu'] as const).filter((d) => RUNS[d] > 0)) {
      rows.push(...(await measure(device)));
    }
    await commands.writeFile('tests/bench/results/generation.json', JSON.stringify(rows, null, 2));
  }
);
