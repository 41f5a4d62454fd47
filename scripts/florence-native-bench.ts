// The native reference for the Florence-2 detection benchmark: the same faithful model, frame and
// '<OD>' request through transformers.js on onnxruntime-node (CPU), timed as the VLM worker times
// it; with the browser's results of the same `npm run bench` at hand, also their ratio.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import {
  AutoProcessor,
  env,
  Florence2ForConditionalGeneration,
  RawImage,
  TextStreamer,
  type Processor,
  type Tensor
} from '@huggingface/transformers';
import { FLORENCE_BENCH, florenceRuns } from '../tests/bench/florence-request.ts';
import { percentile, round, rowsOf, type BenchRow } from '../tests/bench/stats.ts';

const BROWSER_RESULTS = 'tests/bench/results/florence-detection.json';
const RUNS = florenceRuns(process.env.VITE_BENCH_FLORENCE_RUNS);
const BENCH = 'florence-detection';
const NATIVE = 'onnxruntime-node (native CPU)';

interface Florence2Processor extends Processor {
  post_process_generation(text: string, task: string, imageSize: [number, number]): Record<string, unknown>;
}

interface Run {
  ttftMs: number;
  visionMs: number;
  totalMs: number;
  tokens: number;
  tokensPerSecond: number;
}

env.localModelPath = '.cache/models/';
env.allowRemoteModels = false;

const { side, rgb } = FLORENCE_BENCH;
const pixels = new Uint8ClampedArray(side * side * 3).map((_, i) => rgb[i % 3]!);
const image = new RawImage(pixels, side, side, 3);
const processor = (await AutoProcessor.from_pretrained(FLORENCE_BENCH.repo)) as Florence2Processor;

/** Loads the model on `threads` intra-op threads (onnxruntime-node's default: every core) and times RUNS answers after a warm-up. */
async function measure(label: string, threads?: number): Promise<BenchRow[]> {
  const loadStarted = performance.now();
  const model = await Florence2ForConditionalGeneration.from_pretrained(FLORENCE_BENCH.repo, {
    device: 'cpu',
    dtype: 'fp32',
    ...(threads && { session_options: { intraOpNumThreads: threads, interOpNumThreads: 1 } })
  });
  const loadMs = performance.now() - loadStarted;

  // The vision encoder's share of time to first token, as the worker splits it.
  let visionMs = 0;
  const encoder = model as unknown as { encode_image: (inputs: unknown) => Promise<unknown> };
  const encodeImage = encoder.encode_image.bind(model);
  encoder.encode_image = async (inputs) => {
    const started = performance.now();
    try {
      return await encodeImage(inputs);
    } finally {
      visionMs += performance.now() - started;
    }
  };

  /** One '<OD>' answer from preprocessing to parsed boxes, greedy and single-beam as the worker asks it. */
  const detect = async (): Promise<Run> => {
    const started = performance.now();
    visionMs = 0;
    let firstTokenAt = 0;
    let tokens = 0;
    const inputs = await processor(image, FLORENCE_BENCH.task);
    const streamer = new TextStreamer(processor.tokenizer!, {
      skip_prompt: true,
      skip_special_tokens: false,
      callback_function: () => undefined,
      token_callback_function: () => {
        tokens += 1;
        firstTokenAt ||= performance.now();
      }
    });
    const sequences = (await model.generate({
      ...inputs,
      max_new_tokens: FLORENCE_BENCH.maxNewTokens,
      do_sample: false,
      num_beams: 1,
      streamer
    })) as Tensor;
    const [text] = processor.batch_decode(sequences, { skip_special_tokens: false });
    processor.post_process_generation(text!, FLORENCE_BENCH.task, [side, side]);
    const ended = performance.now();
    return {
      ttftMs: firstTokenAt - started,
      visionMs,
      totalMs: ended - started,
      tokens,
      tokensPerSecond: tokens > 1 ? ((tokens - 1) * 1000) / (ended - firstTokenAt) : 0
    };
  };

  const log = (step: string, run: Run) =>
    console.log(
      `[bench ${BENCH}] ${label}: ${step} TTFT ${round(run.ttftMs, 0)} ms (vision ${round(run.visionMs, 0)}), total ${round(run.totalMs, 0)} ms, ${run.tokens} tokens`
    );
  const warmup = await detect();
  log(`loaded in ${round(loadMs / 1000, 1)} s; warm-up:`, warmup);
  const runs: Run[] = [];
  for (let i = 0; i < RUNS; i += 1) {
    runs.push(await detect());
    log(`run ${i + 1}/${RUNS}:`, runs.at(-1)!);
  }
  await model.dispose();

  const median = (pick: (run: Run) => number, digits = 0) => round(percentile(runs.map(pick), 50), digits);
  const note = `reference: same model, frame and request outside the browser; ${RUNS} run(s) after warm-up`;
  const row = rowsOf({ bench: BENCH, case: label, note });
  return [
    row('load', round(loadMs, 0), 'ms'),
    row('warm-up total', round(warmup.totalMs, 0), 'ms'),
    row(
      'TTFT p50',
      median((r) => r.ttftMs),
      'ms'
    ),
    row(
      'vision p50',
      median((r) => r.visionMs),
      'ms'
    ),
    row(
      'total p50',
      median((r) => r.totalMs),
      'ms'
    ),
    row(
      'tokens',
      median((r) => r.tokens),
      'tokens'
    ),
    row(
      'decode p50',
      median((r) => r.tokensPerSecond, 1),
      'tokens/s'
    )
  ];
}

// ORT Web's default WASM thread count (min(4, ⌈cores / 2⌉)), the app's on this machine: the
// second native case separates the engine's speed from the thread count.
const cores = availableParallelism();
const browserThreads = Math.min(4, Math.ceil(cores / 2));
const cases: [string, number | undefined][] = [
  [NATIVE, undefined],
  ...(browserThreads < cores
    ? [
        [`${NATIVE}, ${browserThreads} thread${browserThreads === 1 ? '' : 's'} like WASM`, browserThreads] as [
          string,
          number
        ]
      ]
    : [])
];
const rows: BenchRow[] = [];
for (const [label, threads] of cases) {
  rows.push(...(await measure(label, threads)));
}

// WASM time over native time: how many times slower the browser answers (1 = as fast).
const browser = existsSync(BROWSER_RESULTS) ? (JSON.parse(readFileSync(BROWSER_RESULTS, 'utf8')) as BenchRow[]) : [];
const ratios = cases.flatMap(([label]) =>
  ['TTFT p50', 'vision p50', 'total p50'].flatMap((metric) => {
    const wasm = browser.find((r) => r.metric === metric)?.value;
    const native = rows.find((r) => r.case === label && r.metric === metric)?.value;
    const against = label === NATIVE ? 'native' : label.replace(`${NATIVE}, `, 'native, ');
    return wasm && native
      ? [{ bench: BENCH, case: `wasm / ${against}`, metric, value: round(wasm / native, 2), unit: '×' }]
      : [];
  })
);
rows.push(...ratios);
if (browser.length === 0) {
  console.log(`[bench ${BENCH}] no ${BROWSER_RESULTS}: run the browser bench first for the WASM / native ratio`);
}
writeFileSync('tests/bench/results/florence-native.json', JSON.stringify(rows, null, 2));
