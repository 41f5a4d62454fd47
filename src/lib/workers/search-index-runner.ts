import { proxy } from 'comlink';
import type { GraphReport, SearchIndexWorkerApi } from '../../../workers/search-index.worker.ts';
import { WorkerHandle, type WorkerFactory } from './worker-handle.ts';

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
  factory: WorkerFactory = defaultFactory
): Promise<GraphReport | null> {
  const worker = new WorkerHandle<SearchIndexWorkerApi>(factory, { name: 'search-index' });
  try {
    return await worker.call((remote) => remote.update(baseId, modelId, annMinVectors, proxy(onProgress)));
  } finally {
    worker.stop();
  }
}
