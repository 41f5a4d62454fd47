import { EventEmitter } from 'node:events';
import type { QueueEvents } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { BullmqFeed } from '../../../edge-api/jobs/bullmq-feed.ts';
import type { JobEvent, JobRecord } from '../../../edge-api/jobs/job-queue.ts';
import { waitFor } from './conformance.ts';

const job: JobRecord = {
  id: 'job-1',
  tenant: 't',
  type: 'echo',
  state: 'queued',
  priority: 0,
  input: null,
  progress: { fraction: 0 },
  attempts: 0,
  maxAttempts: 3,
  cancelRequested: false,
  createdAt: 1
};

/** A stand-in for BullMQ's event stream: an emitter that can be closed. */
const fakeEvents = () => Object.assign(new EventEmitter(), { close: async () => undefined }) as unknown as QueueEvents;

describe('bullmq feed', () => {
  it('opens the event stream again for a later follower when the first open failed', async () => {
    const errors: unknown[] = [];
    let opens = 0;
    const feed = new BullmqFeed(
      async () => job,
      async () => {
        opens += 1;
        if (opens === 1) {
          throw new Error('Redis went away');
        }
        return fakeEvents();
      },
      (error) => errors.push(error)
    );
    const first: JobEvent[] = [];
    feed.follow('t', job.id, (event) => first.push(event));
    await waitFor('the failed open to be reported', () => errors.length === 1);

    const second: JobEvent[] = [];
    feed.follow('t', job.id, (event) => second.push(event));
    await waitFor('the second follower to hear the job', () => second.length === 1);
    expect(second[0]).toEqual({ kind: 'state', job });
    expect(first).toEqual([]);
    expect(opens).toBe(2);
    await feed.close();
  });
});
