import * as z from 'zod/mini';
import { TrackerStateError } from '../errors.ts';
import type { StepShape, TransitionWeights } from './hmm.ts';
import { formatIssues } from './issues.ts';
import type { TaskDefinition } from './task-definition.ts';

const probability = z.number().check(z.gte(0), z.lte(1));
const weight = z.number().check(z.gte(0));
const timestamp = z.number();

const transitionWeights = z.object({
  stay: z.number().check(z.gt(0)),
  advance: weight,
  skipOptional: weight,
  skipRequired: weight,
  back: weight,
  jump: z.number().check(z.gte(0), z.lt(1))
});

const options = z.object({
  /** Softmax temperature of the emission: lower trusts each observation more. */
  temperature: z.number().check(z.gt(0)),
  /** Below this best similarity an observation matches no step (camera on the ceiling) and is ignored. */
  minSimilarity: z.number().check(z.gte(-1), z.lte(1)),
  /** Belief mass a different step needs before the reported step moves to it. */
  minConfidence: probability,
  /** Transitions kept, newest last: bounds the state persisted after every observation. */
  maxHistory: z.number().check(z.int(), z.gte(1)),
  transition: transitionWeights
});

const transition = z.object({
  from: z.number().check(z.int(), z.gte(0)),
  /** A step index, or the step count itself for "finished the last step". */
  to: z.number().check(z.int(), z.gte(0)),
  at: timestamp,
  confidence: probability,
  cause: z.enum(['observation', 'user'])
});

const state = z.object({
  schema: z.literal(1),
  taskId: z.string().check(z.minLength(1)),
  steps: z.array(z.object({ id: z.string(), optional: z.boolean() })).check(z.minLength(1)),
  options,
  belief: z.array(probability),
  current: z.number().check(z.int(), z.gte(0)),
  completed: z.boolean(),
  transitions: z.array(transition),
  observations: z.number().check(z.int(), z.gte(0)),
  ignored: z.number().check(z.int(), z.gte(0)),
  startedAt: timestamp,
  updatedAt: timestamp
});

export type TrackerOptions = z.infer<typeof options>;
export type Transition = z.infer<typeof transition>;
export type TransitionCause = Transition['cause'];

/**
 * Everything the tracker knows, as plain JSON: it is persisted (IndexedDB) after every change and
 * sent between page, worker and server, and `restore` of its JSON continues bit-for-bit the same,
 * because the options and the step shapes the maths needs travel with it.
 */
export interface TrackerState {
  /** Shape version, so a state persisted by an older build is recognised rather than misread. */
  schema: 1;
  taskId: string;
  steps: StepShape[];
  options: TrackerOptions;
  /** Posterior probability of each step; sums to 1. */
  belief: number[];
  /** The reported step: moves only under the rule in `step-filter.ts`, so it may lag `belief`. */
  current: number;
  /** Set by advancing past the last step; observations are ignored until a user command. */
  completed: boolean;
  transitions: Transition[];
  /** Observations that updated the belief. */
  observations: number;
  /** Observations whose best similarity was below `minSimilarity`. */
  ignored: number;
  startedAt: number;
  updatedAt: number;
}

export const DEFAULT_TRACKER_OPTIONS: TrackerOptions = {
  // Cosine similarities of sentence embeddings differ by ~0.1–0.3 between a matching and a
  // non-matching step; at 0.1 a 0.3 gap is a likelihood ratio of e³ ≈ 20.
  temperature: 0.1,
  // Model-dependent: unrelated sentences score ~0–0.2 with small sentence-embedding models.
  minSimilarity: 0.3,
  minConfidence: 0.4,
  maxHistory: 200,
  transition: { stay: 0.8, advance: 0.15, skipOptional: 0.05, skipRequired: 0.01, back: 0.02, jump: 0.001 }
};

/** Options for `createTracker`: any subset, the rest from `DEFAULT_TRACKER_OPTIONS`. */
export type TrackerOptionsInput = Partial<Omit<TrackerOptions, 'transition'>> & {
  transition?: Partial<TransitionWeights>;
};

/** Fills in defaults and checks ranges; throws `TrackerStateError` for an out-of-range option. */
export function resolveOptions(input: TrackerOptionsInput = {}): TrackerOptions {
  const merged = {
    ...DEFAULT_TRACKER_OPTIONS,
    ...input,
    transition: { ...DEFAULT_TRACKER_OPTIONS.transition, ...input.transition }
  };
  const result = z.safeParse(options, merged, { reportInput: true });
  if (!result.success) {
    throw new TrackerStateError(`Tracker options are invalid:\n${formatIssues(result.error.issues)}`);
  }
  return result.data;
}

/**
 * Validates a persisted state (e.g. read back from IndexedDB) and returns it ready to continue.
 * With `definition`, also checks it still belongs to that task with the same steps, since a
 * belief over another step list would be meaningless. Throws `TrackerStateError`; callers then
 * start afresh with `createTracker`.
 */
export function restore(json: unknown, definition?: TaskDefinition): TrackerState {
  const result = z.safeParse(state, json, { reportInput: true });
  if (!result.success) {
    throw new TrackerStateError(`Tracker state is invalid:\n${formatIssues(result.error.issues)}`);
  }
  const restored = result.data;
  const n = restored.steps.length;
  const problems: string[] = [];
  if (restored.belief.length !== n) {
    problems.push(`belief: has ${restored.belief.length} entries for ${n} steps`);
  } else if (Math.abs(restored.belief.reduce((a, b) => a + b, 0) - 1) > 1e-6) {
    problems.push('belief: does not sum to 1');
  }
  if (restored.current >= n) {
    problems.push(`current: step ${restored.current} does not exist`);
  }
  restored.transitions.forEach((t, i) => {
    if (t.from > n || t.to > n) {
      problems.push(`transitions[${i}]: step out of range`);
    }
  });
  if (definition) {
    if (definition.id !== restored.taskId) {
      problems.push(`taskId: is "${restored.taskId}", not "${definition.id}"`);
    }
    const expected = definition.steps.map((s) => `${s.id}${s.optional ? '?' : ''}`).join(',');
    if (restored.steps.map((s) => `${s.id}${s.optional ? '?' : ''}`).join(',') !== expected) {
      problems.push('steps: the task definition changed since this state was saved');
    }
  }
  if (problems.length > 0) {
    throw new TrackerStateError(`Tracker state is invalid:\n${problems.join('\n')}`);
  }
  return restored;
}
