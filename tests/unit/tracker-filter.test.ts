import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  advance,
  answerQuery,
  createTracker,
  currentStep,
  goBack,
  jumpTo,
  observe,
  parseTaskDefinition,
  reset,
  restore,
  TrackerStateError,
  type TaskDefinition,
  type TrackerState
} from '../../src/lib/core/tracker/index.ts';

const load = (id: string): TaskDefinition =>
  parseTaskDefinition(JSON.parse(readFileSync(`static/tasks/${id}.json`, 'utf8')));
const coffee = load('brewing-coffee'); // step 2 (rinse-filter) is optional
const hands = load('hand-washing'); // no optional steps
const titration = load('classroom-lab-titration'); // step 4 (rough-titration) is optional

/** Deterministic noise in [-1, 1): the same "random" frames on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  };
}

/**
 * What embedding a caption of step `k` against every step looks like: high for `k`, a little
 * above the floor for its neighbours (adjacent steps share words), low elsewhere.
 */
function frame(n: number, k: number, { hi = 0.7, lo = 0.3, noise = 0, rand = prng(0) } = {}): number[] {
  return Array.from({ length: n }, (_, i) => (i === k ? hi : Math.abs(i - k) === 1 ? lo + 0.1 : lo) + noise * rand());
}

/** Feeds one frame per entry of `steps`, a second apart, starting after `state.updatedAt`. */
function run(state: TrackerState, steps: readonly number[], options: Parameters<typeof frame>[2] = {}): TrackerState {
  return steps.reduce(
    (s, k) => observe(s, { similarities: frame(s.steps.length, k, options), at: s.updatedAt + 1000 }),
    state
  );
}

const visited = (state: TrackerState) => state.transitions.map((t) => t.to);

describe('step filter: progression', () => {
  it('starts on the first step with full confidence', () => {
    const state = createTracker(coffee, 1_000);
    expect(currentStep(state)).toEqual({
      index: 0,
      id: 'heat-water',
      confidence: 1,
      observed: false,
      completed: false
    });
    expect(state.startedAt).toBe(1_000);
  });

  it('has no confidence from the camera until something was observed, and none again after a command', () => {
    const fresh = createTracker(coffee, 0);
    expect(currentStep(fresh).observed).toBe(false);
    // An ignored frame (nothing like any step) informs nothing either.
    const ignored = observe(fresh, { similarities: coffee.steps.map(() => 0), at: 1 });
    expect(ignored.ignored).toBe(1);
    expect(currentStep(ignored).observed).toBe(false);
    const seen = run(fresh, [0]);
    expect(currentStep(seen)).toMatchObject({ index: 0, observed: true });
    expect(currentStep(seen).confidence).toBeLessThan(1);
    expect(currentStep(advance(seen, 5_000)).observed).toBe(false);
    expect(currentStep(reset(seen, 5_000)).observed).toBe(false);
  });

  it('follows a whole task, one transition per step, in order', () => {
    const frames = hands.steps.flatMap((_, k) => [k, k, k]);
    const state = run(createTracker(hands, 0), frames);
    expect(visited(state)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(state.transitions.every((t) => t.cause === 'observation' && t.to === t.from + 1)).toBe(true);
    expect(currentStep(state)).toMatchObject({ index: 8, id: 'dry-hands' });
    expect(currentStep(state).confidence).toBeGreaterThan(0.9);
    expect(state.observations).toBe(frames.length);
    expect(state.belief.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });

  it('follows a whole task through noisy frames without flicker', () => {
    const rand = prng(42);
    const frames = coffee.steps.flatMap((_, k) => [k, k, k, k]);
    const state = run(createTracker(coffee, 0), frames, { hi: 0.6, lo: 0.35, noise: 0.06, rand });
    expect(visited(state)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('records when, how confidently and why each transition happened', () => {
    const state = run(createTracker(coffee, 5_000), [0, 1]);
    expect(state.transitions).toEqual([
      { from: 0, to: 1, at: 7_000, confidence: expect.any(Number), cause: 'observation' }
    ]);
    expect(state.transitions[0]!.confidence).toBeGreaterThanOrEqual(0.4);
  });

  it('does not mutate the state it is given', () => {
    const before = createTracker(coffee, 0);
    const snapshot = structuredClone(before);
    run(before, [1, 1]);
    advance(before, 1);
    expect(before).toEqual(snapshot);
  });
});

describe('step filter: robustness', () => {
  it('does not jump on one outlier frame pointing far ahead', () => {
    const onStep2 = run(createTracker(coffee, 0), [0, 1, 1, 1]);
    expect(onStep2.current).toBe(1);
    const after = observe(onStep2, { similarities: frame(7, 4, { hi: 0.8, lo: 0.2 }), at: 10_000 });
    expect(after.current).toBe(1);
    expect(after.transitions).toEqual(onStep2.transitions);
    // ...and the next ordinary frame restores full confidence in step 2.
    const settled = run(after, [1]);
    expect(settled.current).toBe(1);
    expect(currentStep(settled).confidence).toBeGreaterThan(0.9);
  });

  it('does not jump on one contradicting frame pointing backwards', () => {
    const onStep5 = run(createTracker(hands, 0), [1, 1, 2, 2, 3, 3, 4, 4]);
    expect(onStep5.current).toBe(4);
    expect(run(onStep5, [0]).current).toBe(4);
  });

  it('follows the user once several frames agree on a far step (it had lost track)', () => {
    const state = run(createTracker(hands, 0), [5, 5, 5, 5]);
    expect(state.current).toBe(5);
    expect(run(createTracker(hands, 0), [5]).current).toBe(0);
  });

  it('ignores frames whose best similarity is below minSimilarity, belief included', () => {
    const start = run(createTracker(coffee, 0), [0, 1]);
    let state = start;
    for (let i = 0; i < 10; i += 1) {
      // Strongly "pointing" at step 6, but nothing matches well: camera on the ceiling.
      state = observe(state, { similarities: frame(7, 6, { hi: 0.29, lo: -0.5 }), at: 10_000 + i });
    }
    expect(state.current).toBe(start.current);
    expect(state.belief).toEqual(start.belief);
    expect(state.transitions).toEqual(start.transitions);
    expect(state.ignored).toBe(10);
    expect(state.observations).toBe(start.observations);
    expect(state.updatedAt).toBe(10_009);
  });

  it('respects a custom minSimilarity', () => {
    const strict = createTracker(coffee, 0, { minSimilarity: 0.9 });
    expect(run(strict, [1, 1, 1]).current).toBe(0);
  });

  it('keeps the reported step when the new argmax is not confident enough', () => {
    const tiny = parseTaskDefinition({
      id: 'tiny',
      title: 'Tiny',
      steps: ['a', 'b', 'c', 'd'].map((id) => ({ id, title: id, description: id, visualCues: [], tips: [] }))
    });
    const split = restore({ ...createTracker(tiny, 0), belief: [0.36, 0.34, 0.3, 0] });
    const after = observe(split, { similarities: [0.5, 0.52, 0.51, 0.3], at: 1 });
    const best = after.belief.indexOf(Math.max(...after.belief));
    // Preconditions: the belief's argmax did move, but below minConfidence.
    expect(best).not.toBe(0);
    expect(after.belief[best]).toBeLessThan(0.4);
    expect(after.current).toBe(0);
    expect(after.transitions).toEqual([]);
    expect(currentStep(after).confidence).toBe(after.belief[0]);
    // A clear frame then moves it.
    const moved = observe(after, { similarities: [0.3, 0.8, 0.4, 0.3], at: 2 });
    expect(moved.current).toBe(1);
  });

  it('rejects a similarity vector of the wrong length or with NaN', () => {
    const state = createTracker(coffee, 0);
    expect(() => observe(state, { similarities: [0.5, 0.5], at: 1 })).toThrow(RangeError);
    expect(() => observe(state, { similarities: frame(7, 0).map((s, i) => (i ? s : NaN)), at: 1 })).toThrow(RangeError);
  });
});

describe('step filter: skipping', () => {
  it('skips an optional step on a single clear frame', () => {
    const onGrind = run(createTracker(coffee, 0), [0, 1, 1]);
    const state = run(onGrind, [3]);
    expect(currentStep(state).id).toBe('add-grounds');
    expect(state.transitions.at(-1)).toMatchObject({ from: 1, to: 3, cause: 'observation' });

    const beforeRough = run(createTracker(titration, 0), [0, 1, 2, 3, 3]);
    expect(run(beforeRough, [5]).current).toBe(5);
  });

  it('skips a required step too, but only after more evidence', () => {
    const onStep3 = run(createTracker(hands, 0), [0, 1, 2, 2]);
    expect(onStep3.current).toBe(2);
    expect(run(onStep3, [4]).current).toBe(2);
    const skipped = run(onStep3, [4, 4]);
    expect(skipped.current).toBe(4);
    expect(skipped.transitions.at(-1)).toMatchObject({ from: 2, to: 4 });
  });
});

describe('step filter: user commands', () => {
  it('goBack moves back one step with all belief there, and stays on the first step', () => {
    const onStep3 = run(createTracker(coffee, 0), [1, 1, 2, 2]);
    expect(onStep3.current).toBe(2);
    const back = goBack(onStep3, 50_000);
    expect(back.current).toBe(1);
    expect(back.belief).toEqual([0, 1, 0, 0, 0, 0, 0]);
    expect(back.transitions.at(-1)).toEqual({ from: 2, to: 1, at: 50_000, confidence: 1, cause: 'user' });
    const first = goBack(goBack(back, 50_001), 50_002);
    expect(first.current).toBe(0);
    expect(first.transitions).toHaveLength(back.transitions.length + 1);
  });

  it('advance skips ahead and, from the last step, completes the task', () => {
    let state = createTracker(coffee, 0);
    for (let i = 0; i < 6; i += 1) {
      state = advance(state, i);
    }
    expect(currentStep(state)).toEqual({
      index: 6,
      id: 'drawdown-and-serve',
      confidence: 1,
      observed: false,
      completed: false
    });
    state = advance(state, 100);
    expect(state.completed).toBe(true);
    expect(state.transitions.at(-1)).toEqual({ from: 6, to: 7, at: 100, confidence: 1, cause: 'user' });
    expect(advance(state, 101)).toBe(state);
    // Observations cannot un-complete a task...
    expect(run(state, [0, 0, 0])).toBe(state);
    // ...but going back reopens the last step.
    const reopened = goBack(state, 102);
    expect(currentStep(reopened)).toMatchObject({ index: 6, completed: false });
    expect(reopened.transitions.at(-1)).toMatchObject({ from: 7, to: 6, cause: 'user' });
  });

  it('jumpTo puts all belief on a step and rejects steps that do not exist', () => {
    const state = jumpTo(createTracker(coffee, 0), 4, 10);
    expect(currentStep(state)).toMatchObject({ index: 4, confidence: 1 });
    expect(state.transitions).toEqual([{ from: 0, to: 4, at: 10, confidence: 1, cause: 'user' }]);
    expect(jumpTo(state, 4, 11).transitions).toHaveLength(1);
    expect(() => jumpTo(state, 7, 12)).toThrow(RangeError);
    expect(() => jumpTo(state, -1, 12)).toThrow(RangeError);
  });

  it('the filter carries on from a commanded step', () => {
    const state = run(jumpTo(createTracker(hands, 0), 5, 0), [5, 6, 6]);
    expect(state.current).toBe(6);
  });

  it('reset starts afresh, keeping steps and options', () => {
    const busy = advance(run(createTracker(coffee, 0, { temperature: 0.2 }), [1, 1, 2, 3, 3]), 9_000);
    const fresh = reset(busy, 10_000);
    expect(fresh).toEqual({ ...createTracker(coffee, 10_000, { temperature: 0.2 }) });
  });
});

describe('step filter: persistence', () => {
  it('resumes identically after JSON round trip (reload)', () => {
    const rand = prng(7);
    const frames = [0, 0, 1, 1, 2, 3, 3, 4, 4, 4, 5, 5, 6, 6];
    // Precomputed, so the original and the resumed tracker see the very same numbers.
    const stream = frames.map((k, i) => ({ at: 1_000 * (i + 1), sims: frame(7, k, { noise: 0.05, rand }) }));

    let original = createTracker(coffee, 0);
    for (const { sims, at } of stream.slice(0, 7)) {
      original = observe(original, { similarities: sims, at });
    }
    original = goBack(original, 7_500);

    const persisted = JSON.parse(JSON.stringify(original)) as unknown;
    let resumed = restore(persisted, coffee);
    expect(resumed).toEqual(original);

    const q = (s: TrackerState, text: string) => {
      const { answer } = answerQuery(coffee, s, text, 8_000);
      return { ...answer, processing_time_ms: 0 };
    };
    for (const text of ['what step am I on', "what's next", 'how many steps are left', 'what did I just do']) {
      expect(q(resumed, text)).toEqual(q(original, text));
    }

    for (const { sims, at } of stream.slice(7)) {
      original = observe(original, { similarities: sims, at });
      resumed = observe(resumed, { similarities: sims, at });
      expect(resumed).toEqual(original);
    }
    // Bit-identical, not just close: the same floats after every step.
    expect(JSON.stringify(resumed)).toBe(JSON.stringify(original));
    expect(resumed.current).toBe(6);
  });

  it('refuses a corrupt state or one for another task or step list', () => {
    const state = run(createTracker(coffee, 0), [1]);
    const json = JSON.parse(JSON.stringify(state)) as Record<string, unknown>;
    expect(() => restore({ ...json, belief: [1] })).toThrow(/belief: has 1 entries for 7 steps/);
    expect(() => restore({ ...json, belief: [0.5, 0.1, 0, 0, 0, 0, 0] })).toThrow(/does not sum to 1/);
    expect(() => restore({ ...json, current: 9 })).toThrow(/current/);
    expect(() => restore({ ...json, schema: 2 })).toThrow(TrackerStateError);
    expect(() => restore('not a state')).toThrow(/\(root\): must be an object/);
    expect(() => restore(json, hands)).toThrow(/taskId/);
    const reordered = { ...coffee, steps: [...coffee.steps].reverse() };
    expect(() => restore(json, reordered)).toThrow(/definition changed/);
    expect(() => createTracker(coffee, 0, { temperature: 0 })).toThrow(/temperature/);
  });
});
