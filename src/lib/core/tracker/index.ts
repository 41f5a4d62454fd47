/**
 * Task state tracker: which step of a known task the user is on, from VLM captions matched
 * against the steps, and template answers to questions about it. Pure logic: no DOM, storage or
 * clock, so it runs the same in the page, a worker and the edge server.
 */
export { TaskDefinitionError, TrackerStateError } from '../errors.ts';
export {
  parseTaskDefinition,
  parseTaskIndex,
  serializeTaskDefinition,
  stepText,
  type TaskDefinition,
  type TaskIndexEntry,
  type TaskStep
} from './task-definition.ts';
export type { StepShape, TransitionWeights } from './hmm.ts';
export {
  DEFAULT_TRACKER_OPTIONS,
  restore,
  type TrackerOptions,
  type TrackerOptionsInput,
  type TrackerState,
  type Transition,
  type TransitionCause
} from './tracker-state.ts';
export {
  advance,
  createTracker,
  currentStep,
  goBack,
  jumpTo,
  observe,
  reset,
  type CurrentStep,
  type Observation
} from './step-filter.ts';
export { classifyQuery, normaliseQuery, QUERY_TYPES, type QueryClassification, type QueryType } from './query.ts';
export { answerQuery, FALLBACK_CONFIDENCE, type QueryAnswer, type QueryResult } from './answer-query.ts';
export { taskContext } from './task-context.ts';
