import { proxy, releaseProxy, wrap } from 'comlink';
import { reviveError, WorkerCrashError } from '#lib/core/errors.ts';
import type { GraphReport, SearchIndexWorkerApi } from '../../../workers/search-index.worker.ts';

export type { GraphReport } from '../../../workers/search-index.worker.ts';

const defaultFactory = () =>
  new Worker(new URL('../../../workers/search-index.worker.ts', import.meta.url), {
    type: 'module',
    name: 'search-index'
  });

/**
 * Updates a base's search graph in a worker of its own, terminated afterwards: the worker holds
 * a copy of every vector of the base (150 MB at 100k), which should not outlive the job.
 */
export async function updateSearchGraphInWorker(
  baseId: number,
  modelId: string,
  annMinVectors: number,
  onProgress: (done: number, total: number) => void,
  factory: () => Worker = defaultFactory
): Promise<GraphReport | null> {
  const worker = factory();
  const remote = wrap<SearchIndexWorkerApi>(worker);
  const crashed = new Promise<never>((_, reject) =>
    worker.addEventListener('error', (event) => {
      event.preventDefault();
      reject(new WorkerCrashError(`The search-index worker crashed: ${event.message || 'unknown error'}`));
    })
  );
  try {
    return await Promise.race([remote.update(baseId, modelId, annMinVectors, proxy(onProgress)), crashed]);
  } catch (error) {
    throw reviveError(error);
  } finally {
    remote[releaseProxy]();
    worker.terminate();
  }
}
