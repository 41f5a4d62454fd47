import { commands } from 'vitest/browser';
import { expect, it } from 'vitest';
import { EmbedBridge } from '#lib/workers/embed-bridge.ts';
import { BENCH_MINILM, benchEmbedRequest, installBenchModel } from './bench-model.ts';
import { benchPassages } from './passages.ts';
import { round, type BenchRow } from './stats.ts';

/** Passages per device; WebGPU here is SwiftShader (a GPU emulated on the CPU), hence fewer. */
const PASSAGES = { wasm: 64, webgpu: Number(import.meta.env.VITE_BENCH_WEBGPU_PASSAGES ?? 16) };
const NOTE = 'architecture-faithful MiniLM-L6 (384-d), random weights; ~120-word passages, batches of 16';

it('embedding throughput: passages per second on WASM and WebGPU', { timeout: 1_800_000 }, async () => {
  await installBenchModel(BENCH_MINILM);
  const rows: BenchRow[] = [];
  for (const device of (['wasm', 'webgpu'] as const).filter((d) => PASSAGES[d] > 0)) {
    const bridge = new EmbedBridge();
    try {
      const { loadMs, dim } = await bridge.load(benchEmbedRequest(device), () => undefined);
      // Warm-up compiles kernels/shaders; measured separately from the throughput.
      await bridge.embed(benchPassages(16));
      const passages = benchPassages(PASSAGES[device]);
      const { vectors, ms } = await bridge.embed(passages);
      expect(vectors.length).toBe(passages.length * dim);
      const rate = (passages.length * 1000) / ms;
      console.log(`[bench embedding] ${device}: ${passages.length} passages in ${round(ms, 0)} ms`);
      const label = device === 'webgpu' ? 'webgpu (SwiftShader)' : 'wasm';
      rows.push(
        { bench: 'embedding', case: label, metric: 'load', value: round(loadMs, 0), unit: 'ms', note: NOTE },
        { bench: 'embedding', case: label, metric: 'throughput', value: round(rate, 1), unit: 'passages/s', note: NOTE }
      );
    } finally {
      bridge.dispose();
    }
  }
  await commands.writeFile('tests/bench/results/embedding.json', JSON.stringify(rows, null, 2));
});
