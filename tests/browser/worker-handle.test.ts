import type { Remote } from 'comlink';
import { describe, expect, it, vi } from 'vitest';
import { ModelLoadError, WorkerCrashError } from '#lib/core/errors.ts';
import { WorkerHandle } from '#lib/workers/worker-handle.ts';
import type { HandleTestWorkerApi } from './fixtures/handle-test.worker.ts';

/** A handle on the test worker that counts spawns and records why each worker ended. */
function testHandle(idleMs?: number) {
  const spawned: Worker[] = [];
  const stops: Error[] = [];
  const handle = new WorkerHandle<HandleTestWorkerApi>(
    () => {
      const worker = new Worker(new URL('./fixtures/handle-test.worker.ts', import.meta.url), { type: 'module' });
      spawned.push(worker);
      return worker;
    },
    { name: 'test', idleMs, onStop: (reason) => stops.push(reason) }
  );
  return { handle, spawned, stops, id: () => handle.call((remote) => remote.id()) };
}

describe('WorkerHandle', () => {
  it('spawns on the first call and keeps that worker for the next ones', async () => {
    const { handle, spawned, id } = testHandle();
    expect(handle.running).toBe(false);
    expect(spawned).toHaveLength(0);
    const first = await id();
    expect(await id()).toBe(first);
    expect(spawned).toHaveLength(1);
    expect(handle.running).toBe(true);
    handle.stop();
  });

  it('rejects a call when its worker crashes mid-call, and the next call gets a fresh worker', async () => {
    const { handle, spawned, stops, id } = testHandle();
    const before = await id();
    const crashed = handle.call((remote) => remote.crash());
    await expect(crashed).rejects.toBeInstanceOf(WorkerCrashError);
    await expect(crashed).rejects.toThrow(/^The test worker crashed: .*simulated fatal error/);
    expect(handle.running).toBe(false);
    expect(stops).toEqual([expect.any(WorkerCrashError)]);

    expect(await id()).not.toBe(before);
    expect(spawned).toHaveLength(2);
    handle.stop();
  });

  it('gives back errors thrown in the worker as the classes their names name, keeping the worker', async () => {
    const { handle, spawned, id } = testHandle();
    const before = await id();
    const failed = handle.call((remote) => remote.fail('the decoder is an HTML page'));
    await expect(failed).rejects.toBeInstanceOf(ModelLoadError);
    await expect(failed).rejects.toMatchObject({ code: 'model_load_failed', message: 'the decoder is an HTML page' });
    // An error is an answer, not a crash: the same worker serves the next call.
    expect(await id()).toBe(before);
    expect(spawned).toHaveLength(1);
    handle.stop();
  });

  it('stops the worker after idleMs without a call, and the next call respawns it', async () => {
    const { handle, spawned, stops, id } = testHandle(50);
    const before = await id();
    await vi.waitUntil(() => !handle.running, { timeout: 2_000 });
    expect(stops).toEqual([
      expect.objectContaining({ name: 'WorkerCrashError', message: 'The test worker was stopped' })
    ]);

    expect(await id()).not.toBe(before);
    expect(spawned).toHaveLength(2);
    handle.stop();
  });

  it('does not stop a worker for idleness while a call is still running on it', async () => {
    const { handle, id } = testHandle(50);
    const hanging = handle.call((remote) => remote.hang());
    // A short call finishing meanwhile must not arm the idle stop under the hanging one.
    await id();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(handle.running).toBe(true);

    // Nothing waits forever: stopping the worker rejects the call still waiting on it.
    handle.stop();
    await expect(hanging).rejects.toThrow(/^The test worker was stopped$/);
  });

  it('respawns after stop() instead of reusing the worker, and releases the old proxy', async () => {
    const { handle, spawned, id } = testHandle();
    let old: Remote<HandleTestWorkerApi> | undefined;
    const before = await handle.call((remote) => {
      old = remote;
      return remote.id();
    });
    handle.stop(new Error('replaced'));
    expect(() => old!.id()).toThrow(/Proxy has been released/);

    expect(await id()).not.toBe(before);
    expect(spawned).toHaveLength(2);
    handle.stop();
  });
});
