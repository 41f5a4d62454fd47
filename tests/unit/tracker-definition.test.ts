import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  parseTaskDefinition,
  parseTaskIndex,
  serializeTaskDefinition,
  TaskDefinitionError,
  type TaskDefinition
} from '../../src/lib/core/tracker/index.ts';

const TASKS_DIR = 'static/tasks';
const readJson = (file: string): unknown => JSON.parse(readFileSync(`${TASKS_DIR}/${file}`, 'utf8'));
const taskFiles = readdirSync(TASKS_DIR).filter((f) => f.endsWith('.json') && f !== 'index.json');

const valid = {
  id: 'tiny-task',
  title: 'Tiny task',
  steps: [
    { id: 'one', title: 'One', description: 'Do one.', visualCues: ['a one'], tips: [] },
    { id: 'two', title: 'Two', description: 'Do two.', visualCues: [], tips: ['Be quick.'], optional: true },
    { id: 'three', title: 'Three', description: 'Do three.', visualCues: [], tips: [] }
  ]
};

/** The message of the `TaskDefinitionError` that parsing `input` throws. */
function problem(input: unknown): string {
  try {
    parseTaskDefinition(input);
  } catch (error) {
    expect(error).toBeInstanceOf(TaskDefinitionError);
    return (error as Error).message;
  }
  throw new Error('expected parseTaskDefinition to throw');
}

function withStep(index: number, patch: Record<string, unknown>): unknown {
  const copy = structuredClone(valid);
  copy.steps[index] = { ...copy.steps[index]!, ...patch };
  return copy;
}

describe('bundled task definitions', () => {
  it('ships the three sample tasks', () => {
    expect(taskFiles.sort()).toEqual(['brewing-coffee.json', 'classroom-lab-titration.json', 'hand-washing.json']);
  });

  it.each(taskFiles)('%s parses, its id matches its file name, and every step has cues and tips', (file) => {
    const task = parseTaskDefinition(readJson(file));
    expect(`${task.id}.json`).toBe(file);
    expect(task.steps.length).toBeGreaterThanOrEqual(7);
    for (const step of task.steps) {
      expect(step.visualCues.length, step.id).toBeGreaterThan(0);
      expect(step.tips.length, step.id).toBeGreaterThan(0);
    }
  });

  it('index.json lists every task file with its id and title', () => {
    const index = parseTaskIndex(readJson('index.json'));
    expect(index.map((e) => e.file).sort()).toEqual(taskFiles.sort());
    for (const entry of index) {
      const task = parseTaskDefinition(readJson(entry.file));
      expect({ id: task.id, title: task.title }).toEqual({ id: entry.id, title: entry.title });
    }
  });

  it('marks the skippable steps optional', () => {
    const optionalIds = (file: string) =>
      parseTaskDefinition(readJson(file))
        .steps.filter((s) => s.optional)
        .map((s) => s.id);
    expect(optionalIds('brewing-coffee.json')).toEqual(['rinse-filter']);
    expect(optionalIds('classroom-lab-titration.json')).toEqual(['rough-titration']);
    expect(optionalIds('hand-washing.json')).toEqual([]);
  });
});

describe('parseTaskDefinition', () => {
  it('defaults optional to false and trims text', () => {
    const task = parseTaskDefinition(withStep(0, { title: '  One  ' }));
    expect(task.steps.map((s) => s.optional)).toEqual([false, true, false]);
    expect(task.steps[0]!.title).toBe('One');
  });

  it('round-trips through serializeTaskDefinition', () => {
    for (const file of taskFiles) {
      const task = parseTaskDefinition(readJson(file));
      const text = serializeTaskDefinition(task);
      expect(text.endsWith('\n')).toBe(true);
      expect(parseTaskDefinition(JSON.parse(text))).toEqual(task);
    }
    const tiny: TaskDefinition = parseTaskDefinition(valid);
    expect(Object.keys(JSON.parse(serializeTaskDefinition(tiny)) as object)).toEqual(['id', 'title', 'steps']);
  });

  it('says what a task without an id or steps needs, in plain words', () => {
    const { steps: _steps, id: _id, ...bare } = valid;
    expect(problem(bare)).toBe('The task needs an id and at least one step.');
    expect(problem({ ...valid, steps: [] })).toBe('The task needs at least one step.');
    expect(problem({ ...valid, steps: 'boil, steep' })).toBe("The task's steps must be a list.");
  });

  it('names steps by their number from 1, as the guide shows them', () => {
    expect(problem(withStep(2, { id: 'one' }))).toBe('Steps 1 and 3 have the same id, "one"; each step needs its own.');
    expect(problem(withStep(2, { title: '', description: '  ' }))).toBe('Step 3 needs a title and a description.');
    expect(problem(withStep(1, { title: '   ' }))).toBe('Step 2 needs a title.');
    expect(problem({ ...valid, title: '' })).toBe('The task needs a title.');
    expect(problem({ ...valid, steps: [valid.steps[0], 'two'] })).toBe(
      'Step 2 must be an object with an id, a title and a description.'
    );
  });

  it('explains wrong types, bad ids and bad versions without schema words', () => {
    expect(problem(withStep(0, { visualCues: 'a cue' }))).toBe("Step 1's visual cues must be a list.");
    expect(problem(withStep(0, { visualCues: undefined }))).toBe(
      'Step 1 needs a list of visual cues (it may be empty).'
    );
    expect(problem(withStep(1, { optional: 'yes' }))).toBe('Step 2\'s "optional" must be true or false.');
    expect(problem(withStep(0, { tips: ['ok', ''] }))).toBe("Step 1's tip 2 is empty.");
    expect(problem(withStep(0, { tips: ['ok', 3] }))).toBe("Step 1's tip 2 must be text.");
    expect(problem({ ...valid, id: 'Tiny Task' })).toBe(
      'The task\'s id must be lowercase words joined by dashes, like "make-tea".'
    );
    expect(problem({ ...valid, version: 1.5 })).toBe("The task's version must be a whole number above 0.");
    expect(problem({ ...valid, description: ' ' })).toBe("The task's description is empty.");
  });

  it('lists several problems at once, the task first, then step by step, and counts the rest', () => {
    const message = problem({ id: 'x', title: '', steps: [{}, { id: 'b', title: 'B', description: 'D' }, {}, {}] });
    expect(message).toMatch(/^The task needs a title\. Step 1 needs an id, a title, a description, /);
    expect(message).toContain('Step 2 needs a list of visual cues');
    expect(message).toMatch(/…and 1 more problem\.$/);
    expect(message).not.toMatch(/\[\d\]|invalid|schema/i);
  });

  it('takes parsed JSON: a raw string, null or an array is not a task', () => {
    // JSON.parse errors belong to the caller; a string that reached the parser is just the wrong type.
    expect(() => JSON.parse('{"id": "x",')).toThrow(SyntaxError);
    const notATask = 'This is not a task: a task file holds a JSON object with an id, a title and a list of steps.';
    expect(problem('{"id": "x"}')).toBe(notATask);
    expect(problem(null)).toBe(notATask);
    expect(problem([])).toBe(notATask);
  });

  it('gives the error a code and name that survive a worker boundary', () => {
    try {
      parseTaskDefinition({});
    } catch (error) {
      expect(error).toMatchObject({ name: 'TaskDefinitionError', code: 'task_invalid' });
      return;
    }
    throw new Error('expected a TaskDefinitionError');
  });

  it('rejects a bad index', () => {
    expect(() => parseTaskIndex([{ id: 'a', title: 'A', file: '../a.json' }])).toThrow(/\[0\]\.file/);
    expect(() =>
      parseTaskIndex([
        { id: 'a', title: 'A', file: 'a.json' },
        { id: 'a', title: 'B', file: 'b.json' }
      ])
    ).toThrow(/duplicate task id/);
  });
});
