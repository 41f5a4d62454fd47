/**
 * Resolves in a task of its own, so the work after it does not join the current one: a start-up
 * made of many small steps then never blocks input (or counts as blocking time) for the sum of
 * them. `scheduler.yield()` where the browser has it (it resumes ahead of other queued tasks),
 * else a timer.
 */
export function nextTask(): Promise<void> {
  const scheduler = (globalThis as { scheduler?: { yield?: () => Promise<void> } }).scheduler;
  return scheduler?.yield ? scheduler.yield() : new Promise((resolve) => setTimeout(resolve));
}
