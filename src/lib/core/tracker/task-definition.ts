import * as z from 'zod/mini';
import { TaskDefinitionError } from '../errors.ts';
import { formatIssues } from './issues.ts';
import { describeTaskProblems } from './task-problems.ts';

const SLUG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

const slug = z.string().check(z.regex(SLUG, 'must be a lowercase slug such as "grind-beans"'));
/** Trimmed first, so a title of only spaces counts as empty. */
const text = z.string().check(z.trim(), z.minLength(1, 'must not be empty'));

const step = z.object({
  id: slug,
  title: text,
  description: text,
  /** What the camera should see while the step is under way; embedded with the title to match captions. */
  visualCues: z.array(text),
  tips: z.array(text),
  /** An optional step may be skipped; the tracker's transition model gives skipping it more weight. */
  optional: z._default(z.boolean(), false)
});

const task = z.object({
  id: slug,
  title: text,
  description: z.optional(text),
  version: z.optional(z.number().check(z.int(), z.positive())),
  steps: z.array(step).check(z.minLength(1))
});

const indexEntry = z.object({
  id: slug,
  title: text,
  file: z.string().check(z.regex(/^[a-z0-9-]+\.json$/, 'must be a .json file name next to index.json'))
});
const taskIndex = z.array(indexEntry);

export type TaskStep = z.infer<typeof step>;
export type TaskDefinition = z.infer<typeof task>;
/** An entry of `static/tasks/index.json`. */
export type TaskIndexEntry = z.infer<typeof indexEntry>;

/**
 * Validates a parsed task definition (JSON parsing, and its errors, stay with the caller).
 * Throws a `TaskDefinitionError` that says what is wrong in plain words, step by step, e.g.
 * "The task needs an id and at least one step. Step 3 needs a title.", since whoever sees it
 * wrote the file by hand. Strings are trimmed and `optional` defaults to false.
 */
export function parseTaskDefinition(json: unknown): TaskDefinition {
  const result = z.safeParse(task, json, { reportInput: true });
  if (!result.success) {
    throw new TaskDefinitionError(describeTaskProblems(result.error.issues));
  }
  const definition = result.data;
  // Step ids key persisted tracker states and history, so two steps must never share one.
  const seen = new Map<string, number>();
  const duplicates: { id: string; first: number; again: number }[] = [];
  definition.steps.forEach((s, index) => {
    const first = seen.get(s.id);
    if (first === undefined) {
      seen.set(s.id, index);
    } else {
      duplicates.push({ id: s.id, first, again: index });
    }
  });
  if (duplicates.length > 0) {
    throw new TaskDefinitionError(describeTaskProblems([], duplicates));
  }
  return definition;
}

/** Validates `static/tasks/index.json`: the list of bundled tasks, without their steps. */
export function parseTaskIndex(json: unknown): TaskIndexEntry[] {
  const result = z.safeParse(taskIndex, json, { reportInput: true });
  if (!result.success) {
    throw new TaskDefinitionError(`Task index is invalid:\n${formatIssues(result.error.issues)}`);
  }
  const ids = new Set(result.data.map((entry) => entry.id));
  if (ids.size !== result.data.length) {
    throw new TaskDefinitionError('Task index is invalid: duplicate task id');
  }
  return result.data;
}

/**
 * The definition as pretty-printed JSON with keys in schema order, so an exported task diffs
 * cleanly against the file it came from; `parseTaskDefinition(JSON.parse(...))` gives it back.
 */
export function serializeTaskDefinition(definition: TaskDefinition): string {
  const ordered = {
    id: definition.id,
    title: definition.title,
    description: definition.description,
    version: definition.version,
    steps: definition.steps.map((s) => ({
      id: s.id,
      title: s.title,
      description: s.description,
      visualCues: s.visualCues,
      tips: s.tips,
      optional: s.optional
    }))
  };
  return `${JSON.stringify(ordered, null, 2)}\n`;
}

/**
 * What an observation of the scene is matched against for a step: its title, description and
 * visual cues as one text. The app and the server embed the same text, so both calibrate the same.
 */
export function stepText(step: TaskStep): string {
  return [step.title, step.description, ...step.visualCues].join('. ');
}
