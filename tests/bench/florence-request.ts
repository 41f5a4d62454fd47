/**
 * What the Florence-2 detection benchmark asks, in the browser (tests/bench/florence-detection)
 * and on onnxruntime-node (scripts/florence-native-bench.ts) alike.
 */
export const FLORENCE_BENCH = {
  repo: 'vision-hub-dev/florence2-base-faithful',
  /** A counting question: the app answers it with Florence-2's '<OD>'. */
  question: 'How many objects are there?',
  task: '<OD>',
  /** Florence-2-base's input side: a frame of that size is only normalized, never scaled. */
  side: 768,
  /** The frame's one colour (#2563eb). */
  rgb: [0x25, 0x63, 0xeb] as const,
  /** Room for the whole steered answer: <s>, three times a word and 8 locations, </s>. */
  maxNewTokens: 32,
  note: 'architecture-faithful Florence-2-base (DaViT + BART-base, 768² frame, 577 image tokens), random weights; boxes are noise'
};

/** Measured runs after one warm-up (a run is a whole '<OD>' answer, about a minute on 2 cores). */
export function florenceRuns(value: string | undefined): number {
  return Number(value ?? 2);
}
