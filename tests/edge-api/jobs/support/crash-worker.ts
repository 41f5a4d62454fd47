/**
 * A child process for the crash-recovery tests, run with Node directly:
 * `node crash-worker.ts '<json CrashWorkerConfig>'`. It reports on stdout, one line per fact,
 * and is meant to be killed with SIGKILL at any moment.
 */
import { appendFileSync } from 'node:fs';
import { bullmqJobQueue } from '../../../../edge-api/jobs/bullmq-queue.ts';
import type { JobQueue } from '../../../../edge-api/jobs/job-queue.ts';
import { sqliteJobQueue } from '../../../../edge-api/jobs/sqlite-queue.ts';

export type QueueLocation = { adapter: 'sqlite'; path: string } | { adapter: 'bullmq'; url: string; queueName: string };

export type CrashWorkerConfig = QueueLocation & {
  leaseMs: number;
} & (
    | /** Enqueues `crash` jobs without end, printing `accepted <id>` once each is accepted. */
      { mode: 'enqueue' }
      /**
       * Runs `crash` jobs: appends `started <id> <attempt>` to `log`, reports progress and prints
       * `progress <id>`, then either hangs (to be killed) or appends `completed <id>` and returns.
       */
    | { mode: 'work'; log: string; hang: boolean }
    /** Runs `crash` jobs, printing `picked <id>` as each starts; looks for jobs every `pollMs` when not woken. */
    | { mode: 'pickup'; pollMs: number }
  );

/** The queue at `location`, as every process of a test opens it. */
export function openQueue(location: QueueLocation, leaseMs: number, pollMs: number): JobQueue {
  return location.adapter === 'sqlite'
    ? sqliteJobQueue({ path: location.path, leaseMs, pollMs })
    : bullmqJobQueue({ url: location.url, queueName: location.queueName, leaseMs });
}

const say = (line: string) => process.stdout.write(`${line}\n`);

async function main(config: CrashWorkerConfig): Promise<void> {
  const queue = openQueue(config, config.leaseMs, config.mode === 'pickup' ? config.pollMs : 20);
  if (config.mode === 'pickup') {
    queue.work({ crash: async (job) => say(`picked ${job.id}`) }, { concurrency: 4 });
    say('working');
    return;
  }
  if (config.mode === 'enqueue') {
    for (let i = 0; ; i++) {
      const { job } = await queue.enqueue({ tenant: 'crash', type: 'crash', input: i });
      say(`accepted ${job.id}`);
    }
  }
  const { log, hang } = config;
  queue.work(
    {
      crash: async (job, context) => {
        appendFileSync(log, `started ${job.id} ${context.attempt}\n`);
        await context.progress(0.5, 'halfway');
        say(`progress ${job.id}`);
        if (hang) {
          await new Promise(() => {});
        }
        appendFileSync(log, `completed ${job.id}\n`);
        return { pid: process.pid };
      }
    },
    { concurrency: 4 }
  );
  say('working');
}

// Only when run as a process (the test imports this module for its types and `openQueue`).
if (import.meta.main) {
  await main(JSON.parse(process.argv[2]!) as CrashWorkerConfig);
}
