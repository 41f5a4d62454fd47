import type { Embedder } from '#lib/core/embedder.ts';
import { TaskDefinitionError } from '#lib/core/errors.ts';
import { nextTask } from '#lib/core/next-task.ts';
import { dot } from '#lib/core/retrieval/vector-store.ts';
import {
  advance,
  answerQuery,
  createTracker,
  goBack,
  observe,
  parseTaskDefinition,
  parseTaskIndex,
  reset,
  restore,
  stepText,
  type QueryAnswer,
  type TaskDefinition,
  type TrackerState
} from '#lib/core/tracker/index.ts';
import { db, type TaskSession } from '#lib/db/index.ts';
import { appEvents } from './app-events.ts';

/** The sample tasks shipped in `static/tasks` (precached, so they load offline). */
export async function sampleTasks(): Promise<TaskDefinition[]> {
  const index = parseTaskIndex(await (await fetch('/tasks/index.json')).json());
  const files = await Promise.all(index.map(async (entry) => (await fetch(`/tasks/${entry.file}`)).json()));
  // Checking a definition takes a while on a slow phone: one per task, while the page starts.
  const tasks: TaskDefinition[] = [];
  for (const file of files) {
    await nextTask();
    tasks.push(parseTaskDefinition(file));
  }
  return tasks;
}

/**
 * A task file the user picked: malformed JSON and schema problems both become a
 * TaskDefinitionError that names the file and says what is wrong with it.
 */
export async function readTaskFile(file: File): Promise<TaskDefinition> {
  let json: unknown;
  try {
    json = JSON.parse(await file.text());
  } catch (error) {
    throw new TaskDefinitionError(`"${file.name}" is not valid JSON.`, { cause: error });
  }
  try {
    return parseTaskDefinition(json);
  } catch (error) {
    throw error instanceof TaskDefinitionError
      ? new TaskDefinitionError(`"${file.name}" can't be used as a task. ${error.message}`, { cause: error })
      : error;
  }
}

export async function startSession(definition: TaskDefinition): Promise<TaskSession> {
  const now = Date.now();
  const session: TaskSession = {
    taskId: definition.id,
    definition,
    state: createTracker(definition, now),
    createdAt: now,
    updatedAt: now
  };
  session.id = (await db.taskSessions.add(session)) as number;
  return session;
}

/** The session used last, resumed as it was; a state that no longer fits its task starts afresh. */
export async function latestSession(): Promise<TaskSession | null> {
  const session = await db.taskSessions.orderBy('updatedAt').last();
  if (!session) {
    return null;
  }
  try {
    return { ...session, state: restore(session.state, session.definition) };
  } catch {
    return save(session, createTracker(session.definition, Date.now()));
  }
}

/** The user ended the task: it is not resumed any more. */
export async function endSession(session: TaskSession): Promise<void> {
  if (session.id !== undefined) {
    await db.taskSessions.delete(session.id);
  }
}

/** An ended task taken back (Undo): stored again, as the session used last. */
export async function reopenSession(session: TaskSession): Promise<TaskSession> {
  const reopened = { ...session, updatedAt: Date.now() };
  await db.taskSessions.put(reopened);
  return reopened;
}

async function save(session: TaskSession, state: TrackerState): Promise<TaskSession> {
  const next = { ...session, state, updatedAt: state.updatedAt };
  await db.taskSessions.put(next);
  return next;
}

export type StepCommand = 'back' | 'next' | 'restart';

/** The user moved the task on by hand. */
export function command(session: TaskSession, which: StepCommand): Promise<TaskSession> {
  const now = Date.now();
  const move = { back: goBack, next: advance, restart: reset }[which];
  return save(session, move(session.state, now));
}

/** Answers a question about the task from its state; `go back` and `start over` also move it. */
export async function askTask(
  session: TaskSession,
  question: string
): Promise<{ session: TaskSession; answer: QueryAnswer }> {
  const { answer, state } = answerQuery(session.definition, session.state, question, Date.now());
  appEvents.emit('perf:sample', { metric: 'state-query-ms', value: answer.processing_time_ms });
  return { session: state === session.state ? session : await save(session, state), answer };
}

/** Step texts embedded once per task and model: what each observation is compared with. */
const stepVectors = new Map<string, Promise<{ vectors: Float32Array; dim: number }>>();

/**
 * The fast loop: what the camera saw (the VLM's words) is compared with every step, and the
 * tracker moves only when it is confident.
 */
export async function observeTask(session: TaskSession, observation: string, embedder: Embedder): Promise<TaskSession> {
  const { definition } = session;
  const key = `${embedder.modelId}:${definition.id}:${definition.version ?? 0}`;
  let steps = stepVectors.get(key);
  if (!steps) {
    steps = embedder.embed(definition.steps.map(stepText));
    steps.catch(() => stepVectors.delete(key));
    stepVectors.set(key, steps);
  }
  const [{ vectors, dim }, seen] = await Promise.all([steps, embedder.embed([observation])]);
  const similarities = definition.steps.map((_, i) => dot(vectors.subarray(i * dim, (i + 1) * dim), seen.vectors));
  return save(session, observe(session.state, { similarities, at: Date.now() }));
}
