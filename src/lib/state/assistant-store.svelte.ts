import type { GenerationStats, LoadProgress } from '#lib/core/engine-types.ts';
import { EngineBusyError, InvalidImageError } from '#lib/core/errors.ts';
import { frameDifference } from '#lib/core/frame-diff.ts';
import type { Observation } from '#lib/db/index.ts';
import { appEvents } from '#lib/services/app-events.ts';
import { ask, askServer, askServerModel, type AskRequest } from '#lib/services/assistant.service.ts';
import { engineStatus } from '#lib/services/engine.service.ts';
import type { ReadyModel } from '#lib/services/model-runtime.service.ts';
import {
  clearObservations,
  deleteObservation,
  recentObservations,
  restoreObservations
} from '#lib/services/observations.service.ts';
import {
  canReadAloud,
  DEFAULT_VOICE,
  loadReadAloud,
  loadVoice,
  saveReadAloud,
  saveVoice,
  speak,
  stopSpeaking,
  type SpeechVoice
} from '#lib/services/read-aloud.service.ts';
import type { UserError } from '#lib/services/handle-error.ts';
import { RealtimeClient, RealtimeError, type ServerAnswer } from '#lib/services/realtime-client.ts';
import { loadSetting, saveSetting, type Settings } from '#lib/services/settings.service.ts';
import { edgeConnectionStore } from './edge-connection-store.svelte.ts';
import { ErrorSlot } from './error-slot.svelte.ts';
import { modelsStore, type CameraCandidate } from './models-store.svelte.ts';
import { toasts } from './toasts.svelte.ts';

export const QUICK_PROMPTS = ['What do you see?', 'Read the text', 'Is anything unsafe?'];
const CONTINUOUS_PROMPT = 'Describe the scene briefly.';
/** Mean luma change (0..1) below which a frame counts as unchanged and is not sent again. */
const CHANGE_THRESHOLD = 0.04;
/**
 * Below this much memory (`navigator.deviceMemory`, GiB) and without WebGPU, a vision model on the
 * CPU is too slow or does not fit: answers are computed on the server unless the user chooses otherwise.
 */
export const MIN_DEVICE_MEMORY_GIB = 4;

export type AnswerPlace = NonNullable<Settings['answerOn']>;

export type AskSource = 'camera' | 'upload' | 'continuous';

/** The frame a question is about, taken when the question is asked (a queued one: when its turn comes). */
export type FrameGrab = () => Promise<{ frame: ImageBitmap; source: AskSource } | null>;

/** A failure the next model may not have: not a busy engine or a broken image, which they all share. */
function handsOver(error: unknown): boolean {
  return !(error instanceof EngineBusyError || error instanceof InvalidImageError);
}

/** Where continuous mode reads frames from (the camera view). */
export interface FrameSource {
  grab(): Promise<ImageBitmap | null>;
  signature(): Uint8Array | null;
}

/** The camera assistant: questions about frames, continuous mode, and the history of answers. */
class AssistantStore {
  #engine = $state.raw(engineStatus());
  #prompt = $state('');
  #answer = $state('');
  #stats = $state.raw<GenerationStats | null>(null);
  #errors = new ErrorSlot('Camera');
  #notice = $state<string | null>(null);
  #history = $state.raw<Observation[]>([]);
  #cleared = $state.raw<Observation[] | null>(null);
  #continuous = $state(false);
  #skippedFrames = $state(0);
  /** Where answers are computed, as the user chose it (null: not chosen). */
  #answerOnChoice = $state<Settings['answerOn']>(null);
  /** A question waits for the server's answer, or one of its models is writing it. */
  #waitingForServer = $state(false);
  /** The server's answer shown, with the model it ran (over the live channel, or one of its models chosen here). */
  #served = $state.raw<ServerAnswer | null>(null);
  /** From the start of one of this store's questions to its answer being recorded. */
  #asking = $state(false);
  /** A question typed while an answer was being written: asked when that one is done. */
  #next = $state.raw<{ prompt: string; grab: FrameGrab } | null>(null);
  #readAloud = $state(false);
  #voice = $state.raw<SpeechVoice>(DEFAULT_VOICE);
  /** The model writing the answer shown, and why it was the one. */
  #choice = $state.raw<{ modelName: string; reason: string } | null>(null);
  #realtime: RealtimeClient | null = null;
  #abort: AbortController | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #lastSignature: Uint8Array | null = null;

  constructor() {
    // The engine is shared with the knowledge base and the task guide: this page shows its state whoever asked.
    appEvents.on('engine:status', (status) => {
      this.#engine = status;
      // Another page's answer held the engine: a question queued behind it goes now.
      if (status.phase === 'idle' && !this.#asking) {
        void this.#askQueued();
      }
    });
    appEvents.on('engine:fallback', ({ engine, reason }) => {
      if (engine === 'vlm') {
        this.#notice = reason;
      }
    });
  }

  /** What the device's text engine is doing, for any of its callers. */
  get phase(): 'idle' | 'loading' | 'generating' {
    return this.#waitingForServer ? 'generating' : this.#engine.phase;
  }
  get busy(): boolean {
    return this.#asking || this.phase !== 'idle';
  }
  /** The question that will be asked once the current answer is done, if one waits. */
  get queued(): string | null {
    return this.#next?.prompt ?? null;
  }
  /** Whether this browser can speak answers at all (the toggle is offered only then). */
  get canReadAloud(): boolean {
    return canReadAloud();
  }
  /** Finished answers are spoken; false where the browser cannot speak. */
  /** The voice and speed answers are read in. */
  get voice(): SpeechVoice {
    return this.#voice;
  }
  get readAloud(): boolean {
    return this.#readAloud;
  }
  /** No WebGPU and under {@link MIN_DEVICE_MEMORY_GIB} of memory: too little to run a vision model. */
  get deviceTooSmall(): boolean {
    const caps = modelsStore.capabilities;
    return !!caps && !caps.webgpu && caps.deviceMemoryGiB !== undefined && caps.deviceMemoryGiB < MIN_DEVICE_MEMORY_GIB;
  }
  /**
   * Why this device cannot answer by itself, in words for the user; null when it can: it is
   * {@link deviceTooSmall}, or no vision model is installed.
   */
  get deviceLimit(): string | null {
    if (this.deviceTooSmall) {
      return `This device has no WebGPU and ${modelsStore.capabilities?.deviceMemoryGiB} GiB of memory: too little to run a vision model.`;
    }
    const model = modelsStore.visionModel;
    return model && modelsStore.isInstalled(model.id) ? null : 'No vision model is installed on this device.';
  }
  /** Where the next answer is computed: the user's choice, else the server when the device cannot. */
  get answerOn(): AnswerPlace {
    return this.#answerOnChoice ?? (this.deviceLimit ? 'server' : 'device');
  }
  /** The server's answer in the panel (model and latency), or null for a device's answer. */
  get served(): ServerAnswer | null {
    return this.#served;
  }
  get loadProgress(): LoadProgress | null {
    return this.#engine.progress;
  }
  /** The model in the worker and the variant it runs. */
  get ready(): ReadyModel | null {
    return this.#engine.ready;
  }
  get prompt(): string {
    return this.#prompt;
  }
  get answer(): string {
    return this.#answer;
  }
  get stats(): GenerationStats | null {
    return this.#stats;
  }
  /** Which model writes the answer shown and why it was chosen ("Best here at reading text"); null before the first. */
  get choice(): { modelName: string; reason: string } | null {
    return this.#choice;
  }
  get error(): UserError | null {
    return this.#errors.current;
  }
  /** Information that is not an error, e.g. "WebGPU failed, now on WASM". */
  get notice(): string | null {
    return this.#notice;
  }
  get history(): Observation[] {
    return this.#history;
  }
  /** Rows removed by the last "clear", until undone or replaced. */
  get cleared(): Observation[] | null {
    return this.#cleared;
  }
  get continuous(): boolean {
    return this.#continuous;
  }
  /** Frames continuous mode skipped because the scene had not changed. */
  get skippedFrames(): number {
    return this.#skippedFrames;
  }
  /** A model's name as the user knows it; an id the registry does not list (a server's own model) as it is. */
  modelName(modelId: string): string {
    return modelsStore.models.find((model) => model.id === modelId)?.name ?? modelId;
  }
  async loadHistory(): Promise<void> {
    this.#history = await recentObservations();
  }

  /** Loads the history and where answers are computed. */
  async init(): Promise<void> {
    this.#readAloud = loadReadAloud();
    this.#voice = loadVoice();
    [this.#history, this.#answerOnChoice] = await Promise.all([recentObservations(), loadSetting('answerOn')]);
  }

  setReadAloud(on: boolean): void {
    this.#readAloud = on && canReadAloud();
    saveReadAloud(this.#readAloud);
    if (!on) {
      stopSpeaking();
    }
  }

  /** Changes the voice or speed; the next answer is read with it. */
  setVoice(change: Partial<SpeechVoice>): void {
    this.#voice = { ...this.#voice, ...change };
    saveVoice(this.#voice);
  }

  /**
   * Asks `prompt` about the frame `grab` takes, now, or, while an answer is being written, as
   * soon as it is done (one question waits; a newer one takes its place).
   */
  async request(prompt: string, grab: FrameGrab): Promise<void> {
    if (this.busy) {
      this.#next = { prompt, grab };
      return;
    }
    await this.#turn(async () => {
      const input = await grab();
      if (!input) {
        this.showError({ message: 'No image yet: start the camera or upload an image.', action: 'upload' });
        return false;
      }
      return this.#ask(input.frame, prompt, input.source);
    });
  }

  /** Drops the question waiting for its turn. */
  cancelQueued(): void {
    this.#next = null;
  }

  async #askQueued(): Promise<void> {
    const next = this.#next;
    if (next && !this.busy) {
      this.#next = null;
      await this.request(next.prompt, next.grab);
    }
  }

  async setAnswerOn(place: AnswerPlace): Promise<void> {
    this.#answerOnChoice = place;
    await saveSetting('answerOn', place);
  }

  /**
   * Answers a question about `frame` (which it consumes) where {@link answerOn} says: on the
   * device it loads the chosen model if needed and streams the answer; on the server the answer
   * arrives whole. False when nothing was answered: no model, busy, stopped, or a failure.
   */
  async ask(frame: ImageBitmap, prompt: string, source: AskSource): Promise<boolean> {
    if (this.busy) {
      frame.close();
      return false;
    }
    return this.#turn(() => this.#ask(frame, prompt, source));
  }

  /**
   * Holds this store's turn from taking the frame to recording the answer, so nothing else is
   * asked meanwhile; then the question waiting, if any, gets its turn.
   */
  async #turn(work: () => Promise<boolean>): Promise<boolean> {
    this.#asking = true;
    try {
      return await work();
    } finally {
      this.#asking = false;
      void this.#askQueued();
    }
  }

  async #ask(frame: ImageBitmap, prompt: string, source: AskSource): Promise<boolean> {
    const fallback = modelsStore.visionModel;
    if (!fallback && this.answerOn === 'device') {
      frame.close();
      return false;
    }
    stopSpeaking();
    this.#abort = new AbortController();
    const { signal } = this.#abort;
    this.#prompt = prompt;
    this.#answer = '';
    this.#stats = null;
    this.#served = null;
    this.#choice = null;
    if (!fallback || this.answerOn === 'server') {
      return this.#askServer({ frame, prompt, source }, signal);
    }
    // Nothing installed fits: the chosen model is asked anyway, and says it is not installed.
    const candidates = modelsStore.cameraCandidates(prompt);
    const answered = await this.#errors.run(async () => {
      try {
        await this.#askCandidates(
          candidates.length > 0 ? candidates : [{ kind: 'device', model: fallback, reason: '' }],
          {
            frame,
            prompt,
            source,
            signal
          }
        );
      } catch (error) {
        // Another page's answer took the engine a moment ago: not a failure to report.
        if (!(error instanceof EngineBusyError)) {
          throw error;
        }
      } finally {
        this.#abort = null;
      }
    });
    const stats = this.stats;
    if (answered && this.#served) {
      this.#finished(false);
      await this.loadHistory();
      return true;
    }
    if (!answered || !stats) {
      return false;
    }
    const sample = { model: this.choice?.modelName, device: stats.device };
    appEvents.emit('perf:sample', { metric: 'first-token-ms', value: stats.timeToFirstTokenMs, ...sample });
    // Every camera question carries a frame: its hand-off is the time until it is the model's input.
    appEvents.emit('perf:sample', { metric: 'frame-handoff-ms', value: stats.preprocessMs, ...sample });
    // Speed is measured after the first token: one token has none.
    if (stats.tokens > 1) {
      appEvents.emit('perf:sample', { metric: 'tokens-per-second', value: stats.tokensPerSecond, ...sample });
    }
    this.#finished(stats.aborted);
    await this.loadHistory();
    return true;
  }

  /**
   * Asks the candidates in turn until one answers: a model that fails to load or to answer (or a
   * server that cannot be reached) hands the question to the next, and the answer then says why.
   * Each try gets its own copy of the frame (the worker or the upload takes the one it is given);
   * the last gets `frame` itself.
   */
  async #askCandidates(
    candidates: CameraCandidate[],
    request: { frame: ImageBitmap; prompt: string; source: AskSource; signal: AbortSignal }
  ): Promise<void> {
    const { frame, signal, ...question } = request;
    let failed: { name: string; message: string } | null = null;
    for (const [index, candidate] of candidates.entries()) {
      const last = index === candidates.length - 1;
      const input = last ? frame : await createImageBitmap(frame);
      const name = candidate.kind === 'device' ? candidate.model.name : candidate.name;
      // Where the question went is said in every reason an answer from the server gives.
      const named = candidate.kind === 'device' ? name : `${name} on the edge server`;
      this.#choice = {
        modelName: name,
        reason: failed ? `${failed.name} could not answer (${failed.message}), so ${named} did` : candidate.reason
      };
      this.#answer = '';
      try {
        const onToken = (token: string) => (this.#answer += token);
        if (candidate.kind === 'server') {
          await this.#askServerModel(candidate, { frame: input, ...question }, onToken, signal);
        } else {
          this.#stats = await ask(
            candidate.model,
            modelsStore.settings,
            { frame: input, ...question },
            onToken,
            signal
          );
          // What the model sums up at the end: Florence-2's text lines, or "Found the kettle in one place".
          this.#answer = this.#stats.text;
        }
        if (!last) {
          frame.close();
        }
        return;
      } catch (error) {
        input.close();
        if (last || signal.aborted || !handsOver(error)) {
          frame.close();
          throw error;
        }
        failed = { name: named, message: error instanceof Error ? error.message : String(error) };
        // Recovered here, but the status page's error log still shows the model that failed.
        appEvents.emit('app:error', { where: 'Camera', message: failed.message, model: name });
      }
    }
  }

  /** One of the server's models writes the answer, streamed; it is shown with the server's timing, not a device's. */
  async #askServerModel(
    candidate: Extract<CameraCandidate, { kind: 'server' }>,
    request: AskRequest,
    onToken: (delta: string) => void,
    signal: AbortSignal
  ): Promise<void> {
    this.#waitingForServer = true;
    try {
      const { firstTokenMs, ...served } = await askServerModel(
        edgeConnectionStore.client,
        candidate.id,
        request,
        onToken,
        signal
      );
      this.#served = served;
      this.#answer = served.text;
      appEvents.emit('perf:sample', {
        metric: 'first-token-ms',
        value: firstTokenMs,
        model: candidate.name,
        device: 'server'
      });
    } finally {
      this.#waitingForServer = false;
    }
  }

  /** An answer is complete: read aloud when asked to, unless the user stopped it. */
  #finished(stopped: boolean): void {
    if (this.#readAloud && !stopped && this.#answer.trim()) {
      speak(this.#answer, this.#voice);
    }
  }

  async #askServer(request: AskRequest, signal: AbortSignal): Promise<boolean> {
    this.#waitingForServer = true;
    await this.#errors.run(async () => {
      try {
        this.#served = await askServer(this.#realtimeClient(), request, signal);
        this.#answer = this.#served.text;
      } catch (error) {
        // Its own words and next step (the server settings for a refused credential).
        if (!(error instanceof RealtimeError)) {
          throw error;
        }
        this.#errors.show({ message: error.message, action: error.action });
      } finally {
        this.#waitingForServer = false;
        this.#abort = null;
      }
    });
    const served = this.#served;
    if (!served) {
      return false;
    }
    appEvents.emit('perf:sample', {
      metric: 'first-token-ms',
      value: served.latencyMs,
      model: this.modelName(served.model),
      device: 'server'
    });
    this.#finished(false);
    await this.loadHistory();
    return true;
  }

  /** The live channel to the edge server as saved now: a changed server or credential gets a new one. */
  #realtimeClient(): RealtimeClient {
    const { baseUrl, credential } = edgeConnectionStore.client.connection;
    const current = this.#realtime;
    if (current?.connection.baseUrl === baseUrl && current.connection.credential === credential) {
      return current;
    }
    current?.close();
    this.#realtime = new RealtimeClient({ baseUrl, credential });
    return this.#realtime;
  }

  /** Stops the answer being written; what was written so far stays. A server's answer is no longer waited for. */
  stop(): void {
    this.#abort?.abort();
    stopSpeaking();
  }

  /** Shows why a question could not be asked (no camera, a broken image). */
  showError(error: UserError): void {
    this.#errors.show(error);
  }

  dismissError(): void {
    this.#errors.dismiss();
  }

  /**
   * Describes the scene every `intervalS` seconds. The loop reschedules itself only after the
   * previous answer finished, so two requests are never in flight.
   */
  startContinuous(source: FrameSource, intervalS: number): void {
    this.#continuous = true;
    this.#skippedFrames = 0;
    this.#lastSignature = null;
    void this.#tick(source, intervalS * 1000);
  }

  stopContinuous(): void {
    this.#continuous = false;
    clearTimeout(this.#timer);
  }

  async #tick(source: FrameSource, intervalMs: number): Promise<void> {
    if (!this.#continuous) {
      return;
    }
    const signature = source.signature();
    const changed =
      !signature || !this.#lastSignature || frameDifference(signature, this.#lastSignature) > CHANGE_THRESHOLD;
    if (!changed) {
      this.#skippedFrames += 1;
    } else if (!this.busy) {
      const frame = await source.grab();
      if (frame && (await this.ask(frame, CONTINUOUS_PROMPT, 'continuous'))) {
        this.#lastSignature = signature;
      } else if (this.error) {
        this.stopContinuous();
      }
    }
    if (this.#continuous) {
      this.#timer = setTimeout(() => void this.#tick(source, intervalMs), intervalMs);
    }
  }

  async clearHistory(): Promise<void> {
    this.#cleared = await clearObservations();
    this.#history = [];
  }

  /** Deletes one answer from the history, with an Undo where the user is. */
  async remove(observation: Observation): Promise<void> {
    if (observation.id === undefined) {
      return;
    }
    const removed = await deleteObservation(observation.id);
    this.#history = this.#history.filter((item) => item.id !== observation.id);
    if (removed) {
      toasts.show('Answer removed', {
        action: {
          label: 'Undo',
          run: async () => {
            await restoreObservations([removed]);
            await this.loadHistory();
          }
        }
      });
    }
  }

  async undoClear(): Promise<void> {
    if (this.#cleared) {
      await restoreObservations(this.#cleared);
      this.#cleared = null;
      await this.loadHistory();
    }
  }
}

export const assistantStore = new AssistantStore();
