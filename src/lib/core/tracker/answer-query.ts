/**
 * Answers a user's question about their task from the definition and the tracker state alone,
 * with templates: instant and offline. When either the question or the tracker is uncertain the
 * answer says so (`needs_fallback`), and the caller asks the VLM/LLM with the task as context.
 */
import { classifyQuery, type QueryType } from './query.ts';
import { goBack, reset } from './step-filter.ts';
import type { TaskDefinition, TaskStep } from './task-definition.ts';
import { TrackerStateError } from '../errors.ts';
import type { TrackerState, TransitionCause } from './tracker-state.ts';

/** Below this classification or tracker confidence, a template answer is not trusted on its own. */
export const FALLBACK_CONFIDENCE = 0.4;

/** The reply's wire shape (snake_case, as the API returns it). */
export interface QueryAnswer {
  response_text: string;
  query_type: QueryType;
  /** min(classification confidence, tracker confidence of the step the answer is about). */
  confidence: number;
  processing_time_ms: number;
  /** True when the caller should ask the VLM/LLM instead (with the task as RAG context). */
  needs_fallback: boolean;
  current_state: {
    task_id: string;
    /** 0-based; the text says "step index + 1 of total_steps". */
    step_index: number;
    step_id: string;
    step_title: string;
    total_steps: number;
    confidence: number;
    completed: boolean;
  };
  /** Steps entered, oldest first (finishing the task is `completed`, not an entry). */
  history: Array<{ step_id: string; step_title: string; at: number; confidence: number; cause: TransitionCause }>;
}

export interface QueryResult {
  answer: QueryAnswer;
  /** The state after the query: changed by `go_back` and `start_over`, otherwise the same object. */
  state: TrackerState;
}

/**
 * Classifies `queryText` and answers it from `definition` and `state`; `go_back` and `start_over`
 * also apply the command at time `now` (ms), but only when the classification is confident
 * enough, since acting on a misheard "start over" would lose the user's place.
 * Throws `TrackerStateError` when the state belongs to another task or step list.
 */
export function answerQuery(
  definition: TaskDefinition,
  state: TrackerState,
  queryText: string,
  now: number,
  options: { fallbackConfidence?: number } = {}
): QueryResult {
  const started = performance.now();
  const threshold = options.fallbackConfidence ?? FALLBACK_CONFIDENCE;
  checkMatches(definition, state);
  const classification = classifyQuery(queryText);
  const confident = classification.confidence >= threshold;

  let next = state;
  if (confident && classification.type === 'go_back') {
    next = goBack(state, now);
  } else if (confident && classification.type === 'start_over') {
    next = reset(state, now);
  }

  const trackerConfidence = next.belief[next.current] ?? 0;
  const text = respond(classification.type, definition, next, state, trackerConfidence < threshold);
  const confidence = Math.min(classification.confidence, trackerConfidence);
  const step = stepAt(definition, next.current);
  const answer: QueryAnswer = {
    response_text: text,
    query_type: classification.type,
    confidence,
    processing_time_ms: 0,
    needs_fallback: classification.type === 'unknown' || !confident || trackerConfidence < threshold,
    current_state: {
      task_id: definition.id,
      step_index: next.current,
      step_id: step.id,
      step_title: step.title,
      total_steps: definition.steps.length,
      confidence: trackerConfidence,
      completed: next.completed
    },
    history: next.transitions
      .filter((t) => t.to < definition.steps.length)
      .map((t) => ({
        step_id: stepAt(definition, t.to).id,
        step_title: stepAt(definition, t.to).title,
        at: t.at,
        confidence: t.confidence,
        cause: t.cause
      }))
  };
  answer.processing_time_ms = performance.now() - started;
  return { answer, state: next };
}

function respond(
  type: QueryType,
  definition: TaskDefinition,
  state: TrackerState,
  before: TrackerState,
  unsure: boolean
): string {
  const n = definition.steps.length;
  const i = state.current;
  const here = `${unsure ? "I think you're" : "You're"} on ${label(definition, i)}`;
  const done = `You've finished all ${n} steps of ${definition.title}.`;
  switch (type) {
    case 'current_step':
      return state.completed ? done : `${here}. ${describe(definition, i)}`;
    case 'next_step':
      if (state.completed) {
        return `There are no more steps: ${definition.title} is complete.`;
      }
      if (i === n - 1) {
        return `${here}, the last step. Once you finish it, ${definition.title} is complete.`;
      }
      return `Next is ${label(definition, i + 1)}${optionalNote(stepAt(definition, i + 1))}. ${describe(definition, i + 1)}`;
    case 'steps_left':
      return stepsLeft(definition, state, here);
    case 'how_to':
      return state.completed ? `${done} Say "start over" to do it again.` : howTo(definition, i, here, unsure);
    case 'last_action':
      return lastAction(definition, state, here);
    case 'go_back':
      if (state === before) {
        return `${here}. Did you want to go back a step?`;
      }
      return before.current === i && !before.completed
        ? `You're already on the first step: ${stepTitle(definition, i)}. ${describe(definition, i)}`
        : `Okay, back to ${label(definition, i)}. ${describe(definition, i)}`;
    case 'start_over':
      if (state === before) {
        return `${here}. Did you want to start over?`;
      }
      return `Okay, starting over. ${capitalise(label(definition, 0))}. ${describe(definition, 0)}`;
    case 'unknown':
      return state.completed ? `I'm not sure what you're asking. ${done}` : `I'm not sure what you're asking. ${here}.`;
  }
}

function stepsLeft(definition: TaskDefinition, state: TrackerState, here: string): string {
  if (state.completed) {
    return `No steps left: ${definition.title} is complete.`;
  }
  const remaining = definition.steps.slice(state.current + 1);
  if (remaining.length === 0) {
    return `${here}, the last step. No steps left after this one.`;
  }
  const optional = remaining.filter((s) => s.optional).length;
  const optionalText = optional > 0 ? ` (${optional} of them optional)` : '';
  return `${here}. ${remaining.length} ${remaining.length === 1 ? 'step' : 'steps'} left after this one${optionalText}.`;
}

function howTo(definition: TaskDefinition, i: number, here: string, unsure: boolean): string {
  const step = stepAt(definition, i);
  const parts = [`${unsure ? here : capitalise(label(definition, i))}. ${describe(definition, i)}`];
  if (step.tips.length > 0) {
    parts.push(`Tips: ${step.tips.map(sentence).join(' ')}`);
  }
  if (step.visualCues.length > 0) {
    parts.push(`You should see: ${step.visualCues.join('; ')}.`);
  }
  return parts.join(' ');
}

function lastAction(definition: TaskDefinition, state: TrackerState, here: string): string {
  const n = definition.steps.length;
  const last = state.transitions.at(-1);
  if (!last) {
    return `You haven't finished any steps yet. ${here}.`;
  }
  if (last.to === n) {
    return `You just finished the last step, ${stepTitle(definition, n - 1)}. ${definition.title} is complete.`;
  }
  if (last.to < last.from) {
    const from = last.from === n ? 'the end of the task' : label(definition, last.from);
    return `You went back from ${from} to ${label(definition, last.to)}.`;
  }
  if (last.to === last.from + 1) {
    return `You just finished ${label(definition, last.from)}. Now you're on ${label(definition, last.to)}.`;
  }
  // Name one or two skipped steps; a longer run reads better as a range.
  const skipped = definition.steps.slice(last.from + 1, last.to).map((s) => s.title);
  const skippedText = skipped.length <= 2 ? skipped.join(' and ') : `steps ${last.from + 2}–${last.to}`;
  return `You moved on from ${label(definition, last.from)} to ${label(definition, last.to)}, skipping ${skippedText}.`;
}

function checkMatches(definition: TaskDefinition, state: TrackerState): void {
  const sameSteps =
    state.steps.length === definition.steps.length && state.steps.every((s, i) => s.id === definition.steps[i]?.id);
  if (state.taskId !== definition.id || !sameSteps) {
    throw new TrackerStateError(`Tracker state is for task "${state.taskId}" with other steps, not "${definition.id}"`);
  }
}

function stepAt(definition: TaskDefinition, index: number): TaskStep {
  const step = definition.steps[index];
  if (!step) {
    throw new TrackerStateError(`Step ${index} does not exist in task "${definition.id}"`);
  }
  return step;
}

/** `step 3 of 7: Bloom the grounds`: the number anchors the user, the title says what it is. */
function label(definition: TaskDefinition, index: number): string {
  return `step ${index + 1} of ${definition.steps.length}: ${stepTitle(definition, index)}`;
}

function stepTitle(definition: TaskDefinition, index: number): string {
  return stepAt(definition, index).title.replace(/[.!]$/, '');
}

function describe(definition: TaskDefinition, index: number): string {
  return sentence(stepAt(definition, index).description);
}

function optionalNote(step: TaskStep): string {
  return step.optional ? ' (optional)' : '';
}

function sentence(text: string): string {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
