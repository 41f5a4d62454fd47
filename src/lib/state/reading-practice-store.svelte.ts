import { RecordingError } from '#lib/core/errors.ts';
import type { ReadingResult } from '#lib/db/index.ts';
import type { UserError } from '#lib/services/handle-error.ts';
import {
  deleteReading,
  learners,
  MAX_RECORDING_S,
  measureReading,
  openMicrophone,
  readingsOf,
  type ReadingInput
} from '#lib/services/reading-practice.service.ts';
import { ErrorSlot } from './error-slot.svelte.ts';
import { toasts } from './toasts.svelte.ts';

/** What the page asks for a reading: everything but the audio and where it came from. */
export type ReadingDetails = Omit<ReadingInput, 'recording' | 'source'>;

export type PracticePhase = 'idle' | 'starting' | 'recording' | 'measuring';

class ReadingPracticeStore {
  #phase = $state<PracticePhase>('idle');
  #elapsedS = $state(0);
  #latest = $state.raw<ReadingResult | null>(null);
  #learners = $state.raw<string[]>([]);
  #learner = $state('');
  #history = $state.raw<ReadingResult[]>([]);
  #loaded = $state(false);
  #errors = new ErrorSlot('Reading practice');
  #recorder: MediaRecorder | null = null;
  /** The recording, once the recorder has stopped and handed over its last chunk. */
  #stopped: Promise<Blob> | null = null;
  #timer: ReturnType<typeof setInterval> | undefined;

  get phase(): PracticePhase {
    return this.#phase;
  }
  /** Seconds recorded so far. */
  get elapsedS(): number {
    return this.#elapsedS;
  }
  /** The reading measured last, shown in full. */
  get latest(): ReadingResult | null {
    return this.#latest;
  }
  get learners(): string[] {
    return this.#learners;
  }
  /** Whose results the history shows. */
  get learner(): string {
    return this.#learner;
  }
  /** The chosen learner's results, newest first. */
  get history(): ReadingResult[] {
    return this.#history;
  }
  get loaded(): boolean {
    return this.#loaded;
  }
  get error(): UserError | null {
    return this.#errors.current;
  }

  async load(): Promise<void> {
    await this.#errors.run(async () => {
      this.#learners = await learners();
      await this.showLearner(this.#learner || (this.#learners[0] ?? ''));
    });
    this.#loaded = true;
  }

  async showLearner(learner: string): Promise<void> {
    this.#learner = learner;
    this.#history = learner ? await readingsOf(learner) : [];
  }

  /** Starts the microphone; {@link stopRecording} measures what it heard. */
  async startRecording(): Promise<void> {
    if (this.#phase !== 'idle') {
      return;
    }
    this.#phase = 'starting';
    const started = await this.#errors.run(async () => {
      const stream = await openMicrophone();
      const recorder = new MediaRecorder(stream);
      const chunks: Blob[] = [];
      recorder.addEventListener('dataavailable', (event) => chunks.push(event.data));
      recorder.addEventListener('stop', () => stream.getTracks().forEach((track) => track.stop()));
      this.#recorder = recorder;
      this.#stopped = new Promise((resolve) =>
        recorder.addEventListener('stop', () => resolve(new Blob(chunks, { type: recorder.mimeType })))
      );
      recorder.start(1_000);
      const startedAt = performance.now();
      this.#elapsedS = 0;
      this.#timer = setInterval(() => {
        this.#elapsedS = (performance.now() - startedAt) / 1000;
        // A recording left running: stopped where the analysis would refuse it anyway, kept for Stop to measure.
        if (this.#elapsedS >= MAX_RECORDING_S) {
          clearInterval(this.#timer);
          if (recorder.state !== 'inactive') {
            recorder.stop();
          }
        }
      }, 250);
    });
    this.#phase = started ? 'recording' : 'idle';
  }

  /** Stops the microphone and measures the recording with `details`. */
  async stopRecording(details: ReadingDetails): Promise<void> {
    const recorder = this.#recorder;
    if (this.#phase !== 'recording' || !recorder || !this.#stopped) {
      return;
    }
    clearInterval(this.#timer);
    if (recorder.state !== 'inactive') {
      recorder.stop();
    }
    const recording = await this.#stopped;
    this.#recorder = null;
    this.#stopped = null;
    await this.#measure({ ...details, recording, source: 'microphone' });
  }

  /** Throws the recording away unmeasured (also when the page is left: the microphone goes off). */
  cancelRecording(): void {
    clearInterval(this.#timer);
    if (this.#recorder && this.#recorder.state !== 'inactive') {
      this.#recorder.stop();
    }
    this.#recorder = null;
    this.#stopped = null;
    this.#phase = 'idle';
  }

  async measureFile(file: File, details: ReadingDetails): Promise<void> {
    if (this.#phase !== 'idle') {
      return;
    }
    await this.#measure({ ...details, recording: file, source: 'file' });
  }

  async #measure(input: ReadingInput): Promise<void> {
    this.#phase = 'measuring';
    await this.#errors.run(async () => {
      if (!input.learner.trim()) {
        throw new RecordingError('Type the learner’s name first: results are kept per learner.');
      }
      this.#latest = await measureReading({ ...input, learner: input.learner.trim() });
      this.#learners = await learners();
      await this.showLearner(this.#latest.learner);
    });
    this.#phase = 'idle';
  }

  dismissError(): void {
    this.#errors.dismiss();
  }

  async remove(result: ReadingResult): Promise<void> {
    await this.#errors.run(async () => {
      const undo = await deleteReading(result.id!);
      if (this.#latest?.id === result.id) {
        this.#latest = null;
      }
      this.#learners = await learners();
      await this.showLearner(this.#learners.includes(result.learner) ? result.learner : (this.#learners[0] ?? ''));
      toasts.show(`Reading of ${new Date(result.createdAt).toLocaleString()} deleted`, {
        action: {
          label: 'Undo',
          run: () =>
            this.#errors.run(async () => {
              await undo();
              this.#learners = await learners();
              await this.showLearner(result.learner);
            })
        }
      });
    });
  }
}

export const readingPracticeStore = new ReadingPracticeStore();
