import { commands } from 'vitest/browser';
import { expect, it } from 'vitest';
import { VlmBridge } from '#lib/workers/vlm-bridge.ts';
import { installBenchModel, BENCH_SMOLVLM, benchLoadRequest } from './bench-model.ts';
import { percentile, round, type BenchRow } from './stats.ts';

const RUNS = 60;
const WARMUP = 5;

/** A camera-like source: a canvas redrawn per frame so nothing is cached between runs. */
function source(width: number, height: number): (i: number) => OffscreenCanvas {
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext('2d')!;
  return (i) => {
    context.fillStyle = `hsl(${(i * 37) % 360} 70% 50%)`;
    context.fillRect(0, 0, width, height);
    context.fillStyle = '#fff';
    context.fillRect((i * 13) % width, (i * 7) % height, width / 4, height / 4);
    return canvas;
  };
}

it('frame hand-off: camera frame → model-ready tensor in the worker', async () => {
  await installBenchModel();
  const bridge = new VlmBridge();
  await bridge.load(benchLoadRequest('wasm'), () => undefined);
  const rows: BenchRow[] = [];
  for (const [width, height] of [
    [512, 512],
    [1920, 1080]
  ] as const) {
    const frame = source(width, height);
    const totals: number[] = [];
    const inWorker: number[] = [];
    let shape: number[] = [];
    for (let i = 0; i < WARMUP + RUNS; i += 1) {
      const canvas = frame(i);
      const started = performance.now();
      const bitmap = await createImageBitmap(canvas);
      const result = await bridge.benchPreprocess(bitmap);
      if (i >= WARMUP) {
        totals.push(performance.now() - started);
        inWorker.push(result.ms);
        shape = result.shape;
      }
    }
    const label = `${width}×${height}`;
    expect(shape.at(-1)).toBe(BENCH_SMOLVLM.imageSize);
    rows.push(
      { bench: 'frame-handoff', case: label, metric: 'p50', value: round(percentile(totals, 50)), unit: 'ms' },
      {
        bench: 'frame-handoff',
        case: label,
        metric: 'p95',
        value: round(percentile(totals, 95)),
        unit: 'ms',
        target: width === 512 ? '≤ 5 ms' : undefined
      },
      {
        bench: 'frame-handoff',
        case: label,
        metric: 'p95 in worker',
        value: round(percentile(inWorker, 95)),
        unit: 'ms'
      },
      {
        bench: 'frame-handoff',
        case: label,
        metric: 'tensor',
        value: shape.reduce((a, b) => a * b, 1),
        unit: 'floats',
        note: `[${shape.join(', ')}]`
      }
    );
  }
  bridge.dispose();
  await commands.writeFile('tests/bench/results/frame-handoff.json', JSON.stringify(rows, null, 2));
});
