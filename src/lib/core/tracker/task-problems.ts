/**
 * What is wrong with a task definition, in the words of someone who wrote the file by hand rather
 * than of its schema: "The task needs an id and at least one step." instead of
 * "steps: must have at least 1 item". Steps are counted from 1, as the guide shows them.
 */
import type * as z from 'zod/mini';

type Issue = z.core.$ZodIssue;

/** What a missing or empty field is called after "needs". */
const NEEDED: Record<string, string> = {
  id: 'an id',
  title: 'a title',
  description: 'a description',
  steps: 'at least one step',
  visualCues: 'a list of visual cues (it may be empty)',
  tips: 'a list of tips (it may be empty)'
};

/** What a field is called in "The task's … must be …". */
const FIELD: Record<string, string> = {
  id: 'id',
  title: 'title',
  description: 'description',
  version: 'version',
  steps: 'steps',
  visualCues: 'visual cues',
  tips: 'tips',
  optional: '"optional"'
};

/** An entry of a list field, by its 1-based number: "visual cue 3". */
const ENTRY: Record<string, string> = { visualCues: 'visual cue', tips: 'tip' };

const TYPE: Record<string, string> = {
  string: 'text',
  array: 'a list',
  boolean: 'true or false',
  number: 'a number',
  object: 'an object'
};

const SHAPE = 'a JSON object with an id, a title and a list of steps';

/** One problem: which part of the task it is about (null: the task itself) and how it reads. */
interface Problem {
  step: number | null;
  needs?: string;
  sentence?: string;
}

/** Each problem as a sentence, the task's own first and then step by step, at most `max` of them. */
export function describeTaskProblems(
  issues: readonly Issue[],
  duplicates: readonly { id: string; first: number; again: number }[] = [],
  max = 4
): string {
  const problems: Problem[] = [
    ...issues.map(problemOf),
    ...duplicates.map(({ id, first, again }) => ({
      step: again,
      sentence: `Steps ${first + 1} and ${again + 1} have the same id, "${id}"; each step needs its own.`
    }))
  ];
  const sentences: string[] = [];
  const scopes = [...new Set(problems.map((p) => p.step))].sort((a, b) => (a ?? -1) - (b ?? -1));
  for (const scope of scopes) {
    const here = problems.filter((p) => p.step === scope);
    const needs = [...new Set(here.flatMap((p) => (p.needs ? [p.needs] : [])))];
    if (needs.length > 0) {
      sentences.push(`${scope === null ? 'The task' : `Step ${scope + 1}`} needs ${list(needs)}.`);
    }
    sentences.push(...new Set(here.flatMap((p) => (p.sentence ? [p.sentence] : []))));
  }
  const shown = sentences.slice(0, max);
  const more = sentences.length - shown.length;
  return [...shown, ...(more > 0 ? [`…and ${more} more ${more === 1 ? 'problem' : 'problems'}.`] : [])].join(' ');
}

function problemOf(issue: Issue): Problem {
  const path = issue.path;
  if (path.length === 0) {
    return { step: null, sentence: `This is not a task: a task file holds ${SHAPE}.` };
  }
  const [first, index, field, entry] = path;
  if (first === 'steps' && typeof index === 'number') {
    if (field === undefined) {
      return { step: index, sentence: `Step ${index + 1} must be an object with an id, a title and a description.` };
    }
    return fieldProblem(index, String(field), entry, issue);
  }
  return fieldProblem(null, String(first), index, issue);
}

/** A problem with `field` of the task (`step` null) or of one step; `entry` indexes a list field. */
function fieldProblem(step: number | null, field: string, entry: PropertyKey | undefined, issue: Issue): Problem {
  const owner = step === null ? "The task's" : `Step ${step + 1}'s`;
  const missing = issue.code === 'invalid_type' && issue.input === undefined;
  const empty = issue.code === 'too_small' && (issue.origin === 'string' || issue.origin === 'array');
  if (typeof entry === 'number') {
    const name = `${ENTRY[field] ?? field} ${entry + 1}`;
    return { step, sentence: empty ? `${owner} ${name} is empty.` : `${owner} ${name} must be text.` };
  }
  if ((missing || empty) && NEEDED[field] && !(field === 'description' && step === null)) {
    return { step, needs: NEEDED[field] };
  }
  const name = `${owner} ${FIELD[field] ?? field}`;
  if (field === 'id' && issue.code === 'invalid_format') {
    const example = step === null ? 'make-tea' : 'boil-water';
    return { step, sentence: `${name} must be lowercase words joined by dashes, like "${example}".` };
  }
  if (field === 'version') {
    return { step, sentence: `${name} must be a whole number above 0.` };
  }
  if (empty) {
    return { step, sentence: `${name} is empty.` };
  }
  const expected = issue.code === 'invalid_type' ? TYPE[issue.expected] : undefined;
  return { step, sentence: expected ? `${name} must be ${expected}.` : `${name} is not valid.` };
}

/** "a, b and c". */
function list(items: readonly string[]): string {
  return items.length < 2 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}
