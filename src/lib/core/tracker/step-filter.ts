/**
 * The step tracker: a forward HMM filter over a task's steps, fed by one similarity vector per
 * observation (a VLM caption embedded and compared with each step), plus user commands.
 *
 * Immutable style: every function takes a `TrackerState` and returns a new one, never mutating
 * its input, and time is always passed in, so the same inputs give the same state everywhere.
 *
 * When the reported step changes, exactly:
 * - A user command (`goBack`, `advance`, `jumpTo`, `reset`) sets it at once and puts all belief on it.
 * - An observation while `completed` changes nothing.
 * - An observation whose best similarity is below `options.minSimilarity` leaves the belief and
 *   the reported step as they were (it only counts as `ignored`).
 * - Any other observation updates the belief (predict with the transition model, then Bayes with
 *   the softmax emission). Let `j` be the new belief's argmax (lowest index on a tie). The reported
 *   step becomes `j` only when `j` ≠ current, `belief[j]` > `belief[current]`, and
 *   `belief[j]` ≥ `options.minConfidence`; otherwise it stays, even if its own mass fell.
 * The reported confidence is always the belief mass of the reported step.
 */
import { argmax, emission, pointMass, predict, update } from './hmm.ts';
import type { TaskDefinition } from './task-definition.ts';
import { resolveOptions, type TrackerOptionsInput, type TrackerState, type Transition } from './tracker-state.ts';

/** One observation: a similarity in [-1, 1] per step, in step order, and when it was taken (ms). */
export interface Observation {
  similarities: readonly number[];
  at: number;
}

/** The reported step, as a caller shows it. */
export interface CurrentStep {
  index: number;
  id: string;
  /** Belief mass of this step, 0–1. */
  confidence: number;
  /**
   * Whether the camera has informed the belief since the task started or the user last moved it;
   * until then the confidence is the 1 a command sets, which says nothing about the scene.
   */
  observed: boolean;
  completed: boolean;
}

/** A fresh tracker at the first step, all belief on it, at time `at` (ms). */
export function createTracker(definition: TaskDefinition, at: number, options?: TrackerOptionsInput): TrackerState {
  const steps = definition.steps.map((s) => ({ id: s.id, optional: s.optional }));
  return {
    schema: 1,
    taskId: definition.id,
    steps,
    options: resolveOptions(options),
    ...freshProgress(steps.length, at)
  };
}

/** Progress of an attempt that starts now: on the first step, sure of it, nothing seen yet. */
function freshProgress(stepCount: number, at: number) {
  return {
    belief: pointMass(stepCount, 0),
    current: 0,
    completed: false,
    transitions: [],
    observations: 0,
    ignored: 0,
    startedAt: at,
    updatedAt: at
  };
}

/** The reported step and its confidence. */
export function currentStep(state: TrackerState): CurrentStep {
  return {
    index: state.current,
    id: state.steps[state.current]?.id ?? '',
    confidence: state.belief[state.current] ?? 0,
    // A command puts all belief on one step; an observation always spreads some (the emission is a
    // softmax, the transition model leaks), so a point mass means nothing was seen since.
    observed: state.belief.some((p) => p > 0 && p < 1),
    completed: state.completed
  };
}

/**
 * Folds one observation into the belief and applies the reporting rule in this module's header.
 * Throws `RangeError` when the vector's length is not the step count or holds a non-finite
 * number: that is a caller bug, and silently dropping it would hide it.
 */
export function observe(state: TrackerState, observation: Observation): TrackerState {
  const { similarities, at } = observation;
  if (similarities.length !== state.steps.length) {
    throw new RangeError(`Expected ${state.steps.length} similarities, got ${similarities.length}`);
  }
  if (!similarities.every(Number.isFinite)) {
    throw new RangeError('Similarities must be finite numbers');
  }
  if (state.completed) {
    return state;
  }
  // Cosines are in [-1, 1] by definition; clamping keeps rounding noise from a model out of the maths.
  const clamped = similarities.map((s) => Math.min(1, Math.max(-1, s)));
  const { options } = state;
  if (Math.max(...clamped) < options.minSimilarity) {
    return { ...state, ignored: state.ignored + 1, updatedAt: at };
  }
  const belief = update(predict(state.belief, state.steps, options.transition), emission(clamped, options.temperature));
  const best = argmax(belief);
  const moves =
    best !== state.current && belief[best]! > belief[state.current]! && belief[best]! >= options.minConfidence;
  const next = { ...state, belief, observations: state.observations + 1, updatedAt: at };
  if (!moves) {
    return next;
  }
  return record(
    { ...next, current: best },
    { from: state.current, to: best, at, confidence: belief[best]!, cause: 'observation' }
  );
}

/** User says they are on step `index` (0-based): all belief there, and not completed any more. */
export function jumpTo(state: TrackerState, index: number, at: number): TrackerState {
  if (!Number.isInteger(index) || index < 0 || index >= state.steps.length) {
    throw new RangeError(`Step ${index} does not exist; the task has ${state.steps.length} steps`);
  }
  const from = state.completed ? state.steps.length : state.current;
  const next = {
    ...state,
    belief: pointMass(state.steps.length, index),
    current: index,
    completed: false,
    updatedAt: at
  };
  return from === index ? next : record(next, { from, to: index, at, confidence: 1, cause: 'user' });
}

/** Back one step; after completion, back onto the last step. Stays on the first step. */
export function goBack(state: TrackerState, at: number): TrackerState {
  return jumpTo(state, state.completed ? state.current : Math.max(0, state.current - 1), at);
}

/**
 * On to the next step (the user skips or says they are done with this one). On the last step it
 * marks the task completed, recorded as a transition to the index `steps.length`.
 */
export function advance(state: TrackerState, at: number): TrackerState {
  if (state.completed) {
    return state;
  }
  const last = state.steps.length - 1;
  if (state.current < last) {
    return jumpTo(state, state.current + 1, at);
  }
  return record(
    { ...state, belief: pointMass(state.steps.length, last), completed: true, updatedAt: at },
    { from: last, to: last + 1, at, confidence: 1, cause: 'user' }
  );
}

/**
 * Starts the task over: a fresh state at the first step with the same steps and options. The
 * history goes too, since it described the abandoned attempt.
 */
export function reset(state: TrackerState, at: number): TrackerState {
  return { ...state, ...freshProgress(state.steps.length, at) };
}

function record(state: TrackerState, transition: Transition): TrackerState {
  return { ...state, transitions: [...state.transitions, transition].slice(-state.options.maxHistory) };
}
