import { formatPercent } from '../format.ts';
import type { TaskDefinition } from './task-definition.ts';
import type { TrackerState } from './tracker-state.ts';

/**
 * The task as context for a model that is asked when the templates are unsure: every step, the
 * one the tracker leans to and how sure it is, and the last move. A model with the camera frame
 * can then settle which step the user is really on.
 */
export function taskContext(definition: TaskDefinition, state: TrackerState): string {
  const n = definition.steps.length;
  const lines = [
    `The user is doing the task "${definition.title}".${definition.description ? ` ${definition.description}` : ''}`
  ];
  lines.push('Its steps:');
  definition.steps.forEach((step, i) => {
    const here =
      !state.completed && i === state.current
        ? ` <- the tracker thinks the user is here (${formatPercent(state.belief[i] ?? 0)} sure)`
        : '';
    lines.push(`${i + 1}. ${step.title}${step.optional ? ' (optional)' : ''}: ${step.description}${here}`);
  });
  if (state.completed) {
    lines.push(`The tracker thinks all ${n} steps are done.`);
  }
  const last = state.transitions.at(-1);
  if (last) {
    const to = last.to === n ? 'finished the task' : `went to step ${last.to + 1}`;
    lines.push(
      `Last move: from step ${last.from + 1} the user ${to} (${last.cause === 'user' ? 'by hand' : 'seen by the camera'}).`
    );
  }
  lines.push('If there is an image, it is what the camera sees now. Answer briefly and practically.');
  return lines.join('\n');
}
