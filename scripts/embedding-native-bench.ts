// The native reference for the embedding benchmark: the same faithful MiniLM and the same
// passages through transformers.js on onnxruntime-node (CPU), written next to the browser's results.
import { writeFileSync } from 'node:fs';
import { env, pipeline } from '@huggingface/transformers';
import { benchPassages } from '../tests/bench/passages.ts';
import type { BenchRow } from '../tests/bench/stats.ts';

env.localModelPath = '.cache/models/';
env.allowRemoteModels = false;

const extractor = await pipeline('feature-extraction', 'vision-hub-dev/minilm-l6-faithful', {
  device: 'cpu',
  dtype: 'fp32'
});
const embed = async (texts: string[]) => {
  for (let i = 0; i < texts.length; i += 16) {
    (await extractor(texts.slice(i, i + 16), { pooling: 'mean', normalize: true })).dispose();
  }
};
await embed(benchPassages(16));
const passages = benchPassages(64);
const started = performance.now();
await embed(passages);
const rate = (passages.length * 1000) / (performance.now() - started);
const rows: BenchRow[] = [
  {
    bench: 'embedding',
    case: 'onnxruntime-node (native CPU)',
    metric: 'throughput',
    value: Math.round(rate * 10) / 10,
    unit: 'passages/s',
    note: 'reference: same model and passages outside the browser'
  }
];
writeFileSync('tests/bench/results/embedding-native.json', JSON.stringify(rows, null, 2));
console.log(`[bench embedding] native: ${rate.toFixed(1)} passages/s`);
