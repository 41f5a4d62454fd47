import { beforeEach, describe, expect, it } from 'vitest';
import type { Embedder } from '#lib/core/embedder.ts';
import { parseTaskDefinition } from '#lib/core/tracker/index.ts';
import { db } from '#lib/db/index.ts';
import { askTask, latestSession, observeTask, startSession } from '#lib/services/task.service.ts';
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
