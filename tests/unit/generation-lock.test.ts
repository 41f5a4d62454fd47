import { describe, expect, it } from 'vitest';
import { EngineBusyError } from '#lib/core/errors.ts';
import { GenerationLock } from '#lib/core/generation-lock.ts';

/** A generation that runs until `finish` or `fail` is called, holding the lock meanwhile. */
async function generation(lock: GenerationLock, options: Parameters<GenerationLock['acquire']>[0] = {}) {
  let finish: () => void = () => undefined;
  let fail: (error: Error) => void = () => undefined;
  const work = new Promise<void>((resolve, reject) => ((finish = resolve), (fail = reject)));
  const release = await lock.acquire(options);
  const done = work.finally(release);
  return { finish, fail, done };
}

describe('the generation lock', () => {
  it('lets one generation run: a second caller that does not wait is refused, and runs once the first ends', async () => {
    const lock = new GenerationLock();
    const first = await generation(lock);
    await expect(lock.acquire({ busyMessage: 'still answering' })).rejects.toSatisfy(
      (error) => error instanceof EngineBusyError && error.message === 'still answering'
    );
    first.finish();
    await first.done;
    expect(lock.held).toBe(false);
    const second = await generation(lock);
    expect(lock.held).toBe(true);
    second.finish();
    await second.done;
  });

  it('hands the lock to waiting callers in the order they came', async () => {
    const lock = new GenerationLock();
    const first = await generation(lock);
    const order: string[] = [];
    const b = lock.acquire({ wait: true }).then((release) => (order.push('b'), release));
    const c = lock.acquire({ wait: true }).then((release) => (order.push('c'), release));
    expect(lock.waiting).toBe(2);
    first.finish();
    await first.done;
    const releaseB = await b;
    expect(order).toEqual(['b']);
    releaseB();
    (await c)();
    expect(order).toEqual(['b', 'c']);
    expect(lock.held).toBe(false);
  });

  it('an abort while waiting takes the caller out of the queue with an AbortError', async () => {
    const lock = new GenerationLock();
    const first = await generation(lock);
    const controller = new AbortController();
    const waiting = lock.acquire({ wait: true, signal: controller.signal });
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
    expect(lock.waiting).toBe(0);
    first.finish();
    await first.done;
    expect(lock.held).toBe(false);
    await expect(lock.acquire({ signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('a failing generation gives the lock back', async () => {
    const lock = new GenerationLock();
    const failing = await generation(lock);
    failing.fail(new Error('the GPU was lost'));
    await expect(failing.done).rejects.toThrow('the GPU was lost');
    expect(lock.held).toBe(false);
    (await lock.acquire())();
  });

  it('releasing twice does not free a lock another caller holds by then', async () => {
    const lock = new GenerationLock();
    const release = await lock.acquire();
    const next = lock.acquire({ wait: true });
    release();
    const releaseNext = await next;
    release();
    expect(lock.held).toBe(true);
    releaseNext();
    expect(lock.held).toBe(false);
  });
  it('knows who holds it: the caller that took it, then the waiting caller it passed to, then nobody', async () => {
    const lock = new GenerationLock<string>();
    expect(lock.holder).toBeNull();
    const release = await lock.acquire({ holder: 'The camera' });
    expect(lock.holder).toBe('The camera');
    const next = lock.acquire({ wait: true, holder: 'The task guide' });
    // Waiting is not holding: the user is told about the one that keeps the engine busy.
    expect(lock.holder).toBe('The camera');
    release();
    const releaseNext = await next;
    expect(lock.holder).toBe('The task guide');
    releaseNext();
    expect(lock.holder).toBeNull();
  });
});
