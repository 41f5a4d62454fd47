/**
 * The maths of the step filter: a discrete hidden Markov model whose hidden state is the step the
 * user is on. Kept apart from the tracker's bookkeeping so it can be checked on its own.
 */

/** Relative weights of the moves one observation interval allows; each row is normalised. */
export interface TransitionWeights {
  /** Still on the same step: most observations arrive mid-step. */
  stay: number;
  /** On to the next step. */
  advance: number;
  /** Over the next step when that step is optional. */
  skipOptional: number;
  /** Over the next step when it is required: rare, but users do skip, and the filter must follow. */
  skipRequired: number;
  /** Back one step (redoing something). */
  back: number;
  /**
   * Probability, spread evenly, of being anywhere: lets the filter recover when it lost track
   * (the user started mid-task) after a few consistent observations, yet small enough that one
   * outlier frame cannot pull the belief across the task.
   */
  jump: number;
}

/** Whether each step may be skipped: all the transition model needs from the definition. */
export interface StepShape {
  id: string;
  optional: boolean;
}

/** Row `from` of the transition matrix: P(step j at the next observation | step `from` now). */
export function transitionRow(steps: readonly StepShape[], from: number, w: TransitionWeights): number[] {
  const n = steps.length;
  const local = new Array<number>(n).fill(0);
  local[from] = w.stay;
  if (from + 1 < n) {
    local[from + 1] = w.advance;
  }
  if (from + 2 < n) {
    local[from + 2] = steps[from + 1]?.optional ? w.skipOptional : w.skipRequired;
  }
  if (from > 0) {
    local[from - 1] = w.back;
  }
  // Moves that fall off either end (advancing from the last step) become staying, via normalising.
  const total = sum(local);
  return local.map((p) => (1 - w.jump) * (p / total) + w.jump / n);
}

/** The prior for the next observation: the belief pushed through the transition matrix. */
export function predict(belief: readonly number[], steps: readonly StepShape[], w: TransitionWeights): number[] {
  const out = new Array<number>(belief.length).fill(0);
  belief.forEach((mass, from) => {
    if (mass === 0) {
      return;
    }
    transitionRow(steps, from, w).forEach((p, to) => {
      out[to]! += mass * p;
    });
  });
  return out;
}

/**
 * P(observation | step j) up to a constant: softmax of the similarities over `temperature`.
 * Only differences between similarities matter, so an observation that matches every step
 * equally well is uninformative. Shifting by the maximum keeps `exp` from overflowing.
 */
export function emission(similarities: readonly number[], temperature: number): number[] {
  const scaled = similarities.map((s) => s / temperature);
  const max = Math.max(...scaled);
  return normalise(scaled.map((s) => Math.exp(s - max)));
}

/** Bayes' rule: prior × likelihood, renormalised. Falls back to the prior if nothing is left. */
export function update(prior: readonly number[], likelihood: readonly number[]): number[] {
  const posterior = prior.map((p, j) => p * (likelihood[j] ?? 0));
  const total = sum(posterior);
  return total > 0 && Number.isFinite(total) ? posterior.map((p) => p / total) : [...prior];
}

/** Index of the largest entry; the lowest index wins a tie, so the result never depends on order of arrival. */
export function argmax(values: readonly number[]): number {
  let best = 0;
  values.forEach((v, i) => {
    if (v > values[best]!) {
      best = i;
    }
  });
  return best;
}

export function normalise(values: readonly number[]): number[] {
  const total = sum(values);
  return values.map((v) => v / total);
}

/** A belief with all its mass on one step: what a user command or a fresh start means. */
export function pointMass(n: number, index: number): number[] {
  return Array.from({ length: n }, (_, i) => (i === index ? 1 : 0));
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
