import { beforeEach, describe, expect, it } from 'vitest';
import type { Embedder } from '#lib/core/embedder.ts';
import { parseTaskDefinition } from '#lib/core/tracker/index.ts';
import { db } from '#lib/db/index.ts';
import { appEvents } from '#lib/services/app-events.ts';
import { askTask, latestSession, observeTask, startSession } from '#lib/services/task.service.ts';
import { taskStore } from '#lib/state/task-store.svelte.ts';
import { toasts } from '#lib/state/toasts.svelte.ts';
import handWashing from '../../static/tasks/hand-washing.json';

/**
 * A deterministic bag-of-words embedder: texts that share words are close, others orthogonal.
 * It stands in for a trained model (the tiny test BERT has random weights, so its similarities
 * carry no meaning) to check the fast loop's wiring end to end on real IndexedDB.
 */
const DIM = 256;
const words: Embedder = {
  modelId: 'bag-of-words',
  embed: (texts) => {
    const vectors = new Float32Array(texts.length * DIM);
    texts.forEach((text, row) => {
      for (const word of text.toLowerCase().match(/[a-z]{3,}/g) ?? []) {
        let hash = 0;
        for (const char of word) {
          hash = (hash * 31 + char.charCodeAt(0)) % DIM;
        }
        vectors[row * DIM + hash]! += 1;
      }
      const v = vectors.subarray(row * DIM, (row + 1) * DIM);
      const norm = Math.hypot(...v) || 1;
      v.forEach((x, i) => (v[i] = x / norm));
    });
    return Promise.resolve({ vectors, dim: DIM });
  }
};

const definition = parseTaskDefinition(handWashing);

beforeEach(() => db.taskSessions.clear());

describe('task session', () => {
  it('follows the camera: what matches the next step moves the task on, unrelated scenes do not', async () => {
    let session = await startSession(definition);
    session = await observeTask(session, 'a cat sleeping on a sofa', words);
    expect(session.state.current).toBe(0);
    expect(session.state.ignored).toBe(1);

    for (let i = 0; i < 3; i += 1) {
      session = await observeTask(
        session,
        'two flat palms rubbing against each other, white lather between the hands',
        words
      );
    }
    expect(session.state.current).toBe(1);

    // Resumed from IndexedDB exactly where it was.
    const resumed = await latestSession();
    expect(resumed?.state).toEqual(session.state);
    const { answer } = await askTask(resumed!, 'What step am I on?');
    expect(answer.query_type).toBe('current_step');
    expect(answer.response_text).toContain('Rub palms together');
    expect(answer.history.map((h) => h.step_id)).toContain('palm-to-palm');
  });
});

/** A task that came from a file: not among the samples the guide ships. */
const tea = parseTaskDefinition({
  id: 'making-tea',
  title: 'Making tea',
  steps: [
    { id: 'boil', title: 'Boil water', description: 'Boil the kettle.', visualCues: ['steam'], tips: [] },
    { id: 'steep', title: 'Steep', description: 'Steep for 3 minutes.', visualCues: ['tea bag in a cup'], tips: [] }
  ]
});

describe('the task guide', () => {
  it('after a reload shows the resumed task as the one picked, even one that came from a file', async () => {
    await startSession(definition);
    await startSession(tea);
    // What a reload does: the store reads the samples and the last session again.
    await taskStore.init();
    expect(taskStore.session?.taskId).toBe('making-tea');
    expect(taskStore.chosen).toBe('making-tea');
    expect(taskStore.tasks.map((t) => t.id)).toContain('making-tea');
    expect(taskStore.tasks.map((t) => t.id)).toContain('hand-washing');
  });

  it('has no confidence to show before the camera saw anything, and has one once it did', async () => {
    await taskStore.start(definition);
    expect(taskStore.current).toMatchObject({ index: 0, confidence: 1, observed: false });
    await observeTask(
      taskStore.session!,
      'wet hands under running water, soap being applied to the palms of both hands',
      words
    );
    await taskStore.init();
    expect(taskStore.current?.observed).toBe(true);
    expect(taskStore.current!.confidence).toBeLessThan(1);
    await taskStore.move('next');
    expect(taskStore.current).toMatchObject({ index: 1, observed: false });
  });

  it('ends a task: it is not resumed after a reload, and Undo in the toast brings it back', async () => {
    await taskStore.start(definition);
    await taskStore.move('next');
    await taskStore.end();
    expect(taskStore.session).toBeNull();
    expect(taskStore.reply).toBeNull();
    expect(await latestSession()).toBeNull();
    const toast = toasts.items.at(-1)!;
    expect(toast.message).toBe('Ended “Washing hands (WHO method)”');
    expect(toast.action?.label).toBe('Undo');
    await toasts.act(toast.id);
    expect(taskStore.current).toMatchObject({ index: 1 });
    expect(taskStore.chosen).toBe('hand-washing');
    await taskStore.init();
    expect(taskStore.session?.state.current).toBe(1);
  });

  it('keeps the question with its answer, and reports how long the task state took to answer', async () => {
    await taskStore.start(definition);
    const samples: number[] = [];
    const off = appEvents.on('perf:sample', ({ metric, value }) => metric === 'state-query-ms' && samples.push(value));
    await taskStore.ask('How many steps left?');
    off();
    expect(taskStore.reply?.question).toBe('How many steps left?');
    expect(taskStore.reply?.answer.response_text).toContain('8 steps left after this one');
    expect(samples).toEqual([taskStore.reply!.answer.processing_time_ms]);
  });
});
