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

  it('rejects a task without steps or with none', () => {
    const { steps: _steps, ...noSteps } = valid;
    expect(problem(noSteps)).toContain('steps: is required');
    expect(problem({ ...valid, steps: [] })).toContain('steps: must have at least 1 step');
  });

  it('rejects duplicate step ids, naming both places', () => {
    expect(problem(withStep(2, { id: 'one' }))).toContain('steps[2].id: duplicate step id "one" (also steps[0])');
  });

  it('rejects empty and blank titles with the path of the step', () => {
    expect(problem(withStep(2, { title: '' }))).toContain('steps[2].title: must not be empty');
    expect(problem(withStep(1, { title: '   ' }))).toContain('steps[1].title: must not be empty');
    expect(problem({ ...valid, title: '' })).toContain('title: must not be empty');
  });

  it('explains wrong types, bad slugs and bad versions', () => {
    expect(problem(withStep(0, { visualCues: 'a cue' }))).toContain('steps[0].visualCues: must be an array');
    expect(problem(withStep(1, { optional: 'yes' }))).toContain('steps[1].optional: must be a boolean');
    expect(problem(withStep(0, { tips: ['ok', ''] }))).toContain('steps[0].tips[1]: must not be empty');
    expect(problem({ ...valid, id: 'Tiny Task' })).toContain('id: must be a lowercase slug');
    expect(problem({ ...valid, version: 1.5 })).toContain('version: must be an integer');
  });

  it('lists several problems at once, the first five and a count', () => {
    const message = problem({ id: 'x', title: '', steps: [{}, {}] });
    expect(message).toMatch(/^Task definition is invalid:\n/);
    expect(message).toContain('title: must not be empty');
    expect(message).toContain('steps[0].id: is required');
    expect(message).toMatch(/…and \d+ more$/);
  });

  it('takes parsed JSON: a raw string, null or an array is not a task', () => {
    // JSON.parse errors belong to the caller; a string that reached the parser is just the wrong type.
    expect(() => JSON.parse('{"id": "x",')).toThrow(SyntaxError);
    expect(problem('{"id": "x"}')).toBe('Task definition is invalid:\n(root): must be an object');
    expect(problem(null)).toContain('(root): must be an object');
    expect(problem([])).toContain('(root): must be an object');
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
