import { transfer } from 'comlink';
import type { SpeechAnalysisOptions } from '#lib/core/speech/analyze-speech.ts';
import type { SpeechWorkerApi, TimedAnalysis } from '../../../workers/speech.worker.ts';
import { WorkerHandle, type WorkerFactory } from './worker-handle.ts';

export type { TimedAnalysis } from '../../../workers/speech.worker.ts';

const defaultFactory = () =>
  new Worker(new URL('../../../workers/speech.worker.ts', import.meta.url), { type: 'module', name: 'speech' });

let handle: WorkerHandle<SpeechWorkerApi> | null = null;

/**
 * Measures a recording in the speech worker, which stays up for a minute after the last one (a
 * teacher records learner after learner) and then ends. The samples are transferred: the caller
 * no longer has them.
 */
export function analyzeSpeechInWorker(
  samples: Float32Array,
  sampleRate: number,
  options: SpeechAnalysisOptions,
  factory: WorkerFactory = defaultFactory
): Promise<TimedAnalysis> {
  handle ??= new WorkerHandle<SpeechWorkerApi>(factory, { name: 'speech', idleMs: 60_000 });
  return handle.call((remote) => remote.analyze(transfer(samples, [samples.buffer]), sampleRate, options));
}
