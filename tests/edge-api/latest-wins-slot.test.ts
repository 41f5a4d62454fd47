import { describe, expect, it } from 'vitest';
import { LatestWinsSlot } from '../../edge-api/realtime/latest-wins-slot.ts';

/** A run function the test finishes by hand, one item at a time. */
function manualRuns() {
  const started: number[] = [];
  const finishers: Array<(failure?: Error) => void> = [];
  const run = (item: number) =>
    new Promise<void>((resolve, reject) => {
      started.push(item);
      finishers.push((failure) => (failure ? reject(failure) : resolve()));
    });
  /** Finishes the oldest running item and lets the slot take the next. */
  const finish = async (failure?: Error) => {
    finishers.shift()!(failure);
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { started, run, finish };
}

describe('LatestWinsSlot', () => {
  it('runs an item at once when idle, and the next one when it finishes', async () => {
    const runs = manualRuns();
    const slot = new LatestWinsSlot(runs.run);
    expect(slot.offer(1)).toEqual({ outcome: 'started' });
    expect(slot.running).toBe(true);
    expect(slot.offer(2)).toEqual({ outcome: 'waiting' });
    expect(runs.started).toEqual([1]);
    await runs.finish();
    expect(runs.started).toEqual([1, 2]);
    expect(slot.waiting).toBe(false);
    await runs.finish();
    await slot.idle();
    expect(slot.running).toBe(false);
  });

  it('keeps only the newest waiting item: older ones are dropped, never run', async () => {
    const runs = manualRuns();
    const slot = new LatestWinsSlot(runs.run);
    slot.offer(1);
    slot.offer(2);
    expect(slot.offer(3)).toEqual({ outcome: 'replaced', dropped: 2 });
    expect(slot.offer(4)).toEqual({ outcome: 'replaced', dropped: 3 });
    await runs.finish();
    await runs.finish();
    await slot.idle();
    expect(runs.started).toEqual([1, 4]);
  });

  it('goes on with the next item after one fails', async () => {
    const runs = manualRuns();
    const slot = new LatestWinsSlot(runs.run);
    slot.offer(1);
    slot.offer(2);
    await runs.finish(new Error('model down'));
    expect(runs.started).toEqual([1, 2]);
    await runs.finish();
    await slot.idle();
  });

  it('clear drops the waiting item and lets the running one finish', async () => {
    const runs = manualRuns();
    const slot = new LatestWinsSlot(runs.run);
    slot.offer(1);
    slot.offer(2);
    expect(slot.clear()).toBe(2);
    expect(slot.clear()).toBeUndefined();
    await runs.finish();
    await slot.idle();
    expect(runs.started).toEqual([1]);
    // Idle again: the next offer starts at once.
    expect(slot.offer(3)).toEqual({ outcome: 'started' });
  });

  it('is idle from the start', async () => {
    const slot = new LatestWinsSlot(() => Promise.resolve());
    await expect(slot.idle()).resolves.toBeUndefined();
    expect(slot.running || slot.waiting).toBe(false);
  });
});
