import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  advance,
  answerQuery,
  classifyQuery,
  createTracker,
  jumpTo,
  observe,
  parseTaskDefinition,
  restore,
  TrackerStateError,
  type QueryType,
  type TaskDefinition,
  type TrackerState
} from '../../src/lib/core/tracker/index.ts';

const load = (id: string): TaskDefinition =>
  parseTaskDefinition(JSON.parse(readFileSync(`static/tasks/${id}.json`, 'utf8')));
const coffee = load('brewing-coffee');
const hands = load('hand-washing');
const title = (index: number) => coffee.steps[index]!.title;

/** A confident tracker on `index` (0-based), reached by the user saying so. */
const on = (index: number): TrackerState => jumpTo(createTracker(coffee, 0), index, 1_000);
const ask = (state: TrackerState, text: string, now = 2_000) => answerQuery(coffee, state, text, now);

const phrasings: Array<[string, QueryType]> = [
  ['What step am I on?', 'current_step'],
  ['which step is this', 'current_step'],
  ['Where am I?', 'current_step'],
  ['where was I', 'current_step'],
  ["what's the current step", 'current_step'],
  ['What stage am I at?', 'current_step'],
  ['what am I doing right now', 'current_step'],
  ["What's next?", 'next_step'],
  ['whats next', 'next_step'],
  ['What comes next?', 'next_step'],
  ['what do I do after this?', 'next_step'],
  ['What’s the next step?', 'next_step'],
  ['what step is next', 'next_step'],
  ['ok, then what', 'next_step'],
  ['How many steps left?', 'steps_left'],
  ['how many more steps are there', 'steps_left'],
  ['How many to go?', 'steps_left'],
  ['am I almost done?', 'steps_left'],
  ['how much longer', 'steps_left'],
  ["what's left", 'steps_left'],
  ['steps remaining?', 'steps_left'],
  ['How do I do this?', 'how_to'],
  ['how should I hold the kettle', 'how_to'],
  ['show me how', 'how_to'],
  ["I'm stuck", 'how_to'],
  ["I don't understand", 'how_to'],
  ['any tips?', 'how_to'],
  ['what am I supposed to do', 'how_to'],
  ['explain this step', 'how_to'],
  ['What did I just do?', 'last_action'],
  ['what have I done so far', 'last_action'],
  ['what was the last step', 'last_action'],
  ['What step did I just finish?', 'last_action'],
  ['did I already finish the bloom?', 'last_action'],
  ['Go back a step', 'go_back'],
  ['go back', 'go_back'],
  ['back one step please', 'go_back'],
  ['previous step', 'go_back'],
  ['go to the previous step', 'go_back'],
  ['undo', 'go_back'],
  ['can you take me back', 'go_back'],
  ['How do I go back?', 'go_back'],
  ['Start over', 'start_over'],
  ['restart', 'start_over'],
  ["let's start again", 'start_over'],
  ['begin again from scratch', 'start_over'],
  ['reset the task', 'start_over'],
  ['take me back to the beginning', 'start_over'],
  ['go back to step one', 'start_over'],
  ['redo the whole thing', 'start_over'],
  ['what do I do now', 'current_step'],
  ['how do I start?', 'how_to'],
  // A numbered step is not one step back; no template covers it, so the fallback answers.
  ['go back to step 3', 'unknown'],
  ['Is the coffee too hot to drink?', 'unknown'],
  ['hello', 'unknown'],
  ['', 'unknown']
];

describe('classifyQuery', () => {
  it.each(phrasings)('%j is %s', (text, type) => {
    const result = classifyQuery(text);
    expect(result.type).toBe(type);
    if (type === 'unknown') {
      expect(result.confidence).toBe(0);
    } else {
      expect(result.confidence).toBeGreaterThanOrEqual(0.4);
      expect(result.confidence).toBeLessThanOrEqual(1);
    }
  });

  it('is less confident about a loose keyword than a specific phrasing', () => {
    expect(classifyQuery('help').confidence).toBeLessThan(classifyQuery('how do I do this').confidence);
    expect(classifyQuery('how do I go back').confidence).toBeLessThan(classifyQuery('go back').confidence);
  });
});

describe('answerQuery', () => {
  it('returns the API contract, JSON-serialisable and timed', () => {
    const { answer, state } = ask(on(2), 'what step am I on?');
    expect(Object.keys(answer).sort()).toEqual(
      [
        'confidence',
        'current_state',
        'history',
        'needs_fallback',
        'processing_time_ms',
        'query_type',
        'response_text'
      ].sort()
    );
    expect(answer.current_state).toEqual({
      task_id: 'brewing-coffee',
      step_index: 2,
      step_id: 'rinse-filter',
      step_title: 'Rinse the paper filter',
      total_steps: 7,
      confidence: 1,
      completed: false
    });
    expect(answer.history).toEqual([
      { step_id: 'rinse-filter', step_title: 'Rinse the paper filter', at: 1_000, confidence: 1, cause: 'user' }
    ]);
    expect(answer.processing_time_ms).toBeGreaterThanOrEqual(0);
    expect(answer.processing_time_ms).toBeLessThan(50);
    expect(JSON.parse(JSON.stringify(answer))).toEqual(answer);
    expect(state).toEqual(on(2));
  });

  it('current_step names the step, its number and what to do', () => {
    const { answer } = ask(on(4), 'where am I');
    expect(answer.query_type).toBe('current_step');
    expect(answer.response_text).toContain(title(4));
    expect(answer.response_text).toContain('step 5 of 7');
    expect(answer.response_text).toContain(coffee.steps[4]!.description);
    expect(answer.needs_fallback).toBe(false);
    expect(answer.confidence).toBe(0.9);
  });

  it('next_step describes the next step, flags an optional one, and says when none is left', () => {
    expect(ask(on(0), "what's next").answer.response_text).toContain(`Next is step 2 of 7: ${title(1)}`);
    expect(ask(on(1), "what's next").answer.response_text).toContain(`${title(2)} (optional)`);
    const last = ask(on(6), "what's next").answer.response_text;
    expect(last).toContain('last step');
    expect(last).toContain('complete');
    expect(ask(advance(on(6), 3_000), "what's next").answer.response_text).toMatch(/no more steps.*complete/i);
  });

  it('steps_left counts the steps after the current one', () => {
    expect(ask(on(2), 'how many steps left').answer.response_text).toContain('4 steps left after this one.');
    expect(ask(on(0), 'how many steps left').answer.response_text).toContain(
      '6 steps left after this one (1 of them optional).'
    );
    expect(ask(on(5), 'how many steps left').answer.response_text).toContain('1 step left after this one.');
    expect(ask(on(6), 'how many steps left').answer.response_text).toContain('No steps left after this one.');
    const done = ask(advance(on(6), 3_000), 'how many steps left').answer;
    expect(done.response_text).toContain('No steps left');
    expect(done.current_state.completed).toBe(true);
  });

  it('how_to gives the description, the tips and what to look for', () => {
    const text = ask(on(4), 'how do I do this?').answer.response_text;
    expect(text).toContain(title(4));
    for (const tip of coffee.steps[4]!.tips) {
      expect(text).toContain(tip);
    }
    expect(text).toContain(coffee.steps[4]!.visualCues[0]);
  });

  it('last_action tells what was finished, skipped or undone', () => {
    expect(ask(createTracker(coffee, 0), 'what did I just do').answer.response_text).toContain(
      "You haven't finished any steps yet"
    );
    const onGrind = observe(createTracker(coffee, 0), { similarities: [0.3, 0.7, 0.4, 0.3, 0.3, 0.3, 0.3], at: 1 });
    expect(ask(onGrind, 'what did I just do').answer.response_text).toBe(
      `You just finished step 1 of 7: ${title(0)}. Now you're on step 2 of 7: ${title(1)}.`
    );
    const skipped = jumpTo(onGrind, 3, 2);
    expect(ask(skipped, 'what did I just do').answer.response_text).toContain(`skipping ${title(2)}`);
    expect(ask(on(6), 'what did I just do').answer.response_text).toContain('skipping steps 2–6');
    const back = ask(on(3), 'go back').state;
    expect(ask(back, 'what did I just do').answer.response_text).toContain('You went back from step 4 of 7');
    expect(ask(advance(on(6), 3), 'what did I just do').answer.response_text).toContain('is complete');
  });

  it('go_back moves the tracker back and says where to', () => {
    const { answer, state } = ask(on(3), 'go back a step', 5_000);
    expect(state.current).toBe(2);
    expect(answer.current_state).toMatchObject({ step_index: 2, step_id: 'rinse-filter', confidence: 1 });
    expect(answer.response_text).toContain(`back to step 3 of 7: ${title(2)}`);
    expect(answer.history.at(-1)).toEqual({
      step_id: 'rinse-filter',
      step_title: title(2),
      at: 5_000,
      confidence: 1,
      cause: 'user'
    });
    expect(ask(on(0), 'go back').answer.response_text).toContain("You're already on the first step");
  });

  it('start_over resets the tracker', () => {
    const { answer, state } = ask(on(5), 'start over', 9_000);
    expect(state).toEqual(createTracker(coffee, 9_000));
    expect(answer.current_state.step_index).toBe(0);
    expect(answer.history).toEqual([]);
    expect(answer.response_text).toContain(`Okay, starting over. Step 1 of 7: ${title(0)}`);
  });

  it('needs the fallback for an unknown question, and leaves the state alone', () => {
    const before = on(3);
    const { answer, state } = ask(before, 'is this coffee fair trade?');
    expect(answer).toMatchObject({ query_type: 'unknown', confidence: 0, needs_fallback: true });
    expect(answer.response_text).toContain(title(3));
    expect(state).toBe(before);
  });

  it('needs the fallback when the tracker is unsure, and hedges its answer', () => {
    const unsure = restore({ ...on(3), belief: [0, 0, 0.2, 0.35, 0.3, 0.15, 0] });
    const { answer } = ask(unsure, 'what step am I on');
    expect(answer.needs_fallback).toBe(true);
    expect(answer.confidence).toBe(0.35);
    expect(answer.current_state.confidence).toBe(0.35);
    expect(answer.response_text).toMatch(/^I think you're on step 4 of 7/);
  });

  it('does not act on a command it is not confident about', () => {
    const before = on(3);
    const { answer, state } = answerQuery(coffee, before, 'previous step', 1, { fallbackConfidence: 0.8 });
    expect(answer).toMatchObject({ query_type: 'go_back', needs_fallback: true });
    expect(state).toBe(before);
    expect(answer.response_text).toContain('Did you want to go back a step?');
  });

  it('refuses a state from another task', () => {
    expect(() => answerQuery(hands, on(1), 'where am I', 0)).toThrow(TrackerStateError);
  });
});
