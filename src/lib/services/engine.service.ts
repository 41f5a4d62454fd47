/**
 * The device's text engine: which vision-language model is resident in its worker, and the one
 * lock that lets a single generation run at a time, whoever asks (the camera assistant, a
 * knowledge-base answer, the task guide's fallback). Every caller goes through `generateText`,
 * the TextGenerator contract, so the chat engines can take its place per conversation later.
 */
import { DeviceLostError, WorkerCrashError } from '#lib/core/errors.ts';
import { GenerationLock } from '#lib/core/generation-lock.ts';
import type { ModelEntry } from '#lib/core/manifest.ts';
import { singleTurn, type ChatRequest, type ChatResult, type TextGenerator } from '#lib/core/text-generator.ts';
import { vlmLoadRequest } from '#lib/core/vlm-load-request.ts';
import { DEFAULT_MAX_NEW_TOKENS, type GenerationStats } from '#lib/core/engine-types.ts';
import type { VlmFrame } from '#lib/core/vlm-types.ts';
import { VlmBridge } from '#lib/workers/vlm-bridge.ts';
import { appEvents, type EngineStatus } from './app-events.ts';
import { modelRuntime, type ReadyModel } from './model-runtime.service.ts';
import { ortBase } from './registry.service.ts';
import type { Settings } from './settings.service.ts';

const runtime = modelRuntime('vlm', (model, variant, host) => vlmLoadRequest(model, variant, host, ortBase()));
const bridge = new VlmBridge({ events: runtime.events });
/** Who holds the engine: what the user is told keeps it busy, and how to stop it. */
interface Holder {
  label: string;
  model: ModelEntry;
  stop: AbortController;
}
const lock = new GenerationLock<Holder>();
let status: EngineStatus = { phase: 'idle', progress: null, ready: null };

function setStatus(next: Partial<EngineStatus>): void {
  status = { ...status, ...next };
  appEvents.emit('engine:status', status);
}

// The model left the worker with the GPU; the next generation loads it again, on WASM.
appEvents.on('engine:fallback', ({ engine }) => engine === 'vlm' && setStatus({ ready: null }));

/** What the text engine is doing now (also sent as `engine:status` on every change). */
export function engineStatus(): EngineStatus {
  return status;
}

/**
 * Who is using the engine now and with which model ("The task guide", "SmolVLM 256M"), for
 * telling the user why a button waits; null when it is free. It changes only with the phase, so
 * `engine:status` is the signal to read it again.
 */
export function engineHolder(): { label: string; modelName: string } | null {
  const holder = lock.holder;
  return holder && { label: holder.label, modelName: holder.model.name };
}

/**
 * Stops whoever holds the engine, as its own Stop would: a generation ends after the current
 * token with the text so far, a model still loading is not asked at all. Waiting callers then
 * get their turn.
 */
export function stopEngine(): void {
  lock.holder?.stop.abort();
}

/** What the device's engine reports of a generation: its timings, and the variant that ran. */
export type DeviceGenerationStats = GenerationStats & { variantId: string };

/** The worker's VLM answering one user turn, about at most one image. */
async function generateOnDevice(
  ready: ReadyModel,
  request: ChatRequest<VlmFrame>,
  onToken: (delta: string) => void,
  signal?: AbortSignal
): Promise<ChatResult<DeviceGenerationStats>> {
  const { prompt, image } = singleTurn(request.messages);
  const limit = request.max_tokens ?? DEFAULT_MAX_NEW_TOKENS;
  const stats = await bridge.generate(image, prompt, { maxNewTokens: limit }, onToken, signal);
  return {
    text: stats.text,
    finish_reason: stats.aborted ? 'aborted' : stats.tokens >= limit ? 'length' : 'stop',
    usage: {
      prompt_tokens: stats.promptTokens,
      completion_tokens: stats.tokens,
      total_tokens: stats.promptTokens + stats.tokens
    },
    stats: { ...stats, variantId: ready.variant.id }
  };
}

/**
 * The device's text engine for `model`, as the TextGenerator every caller uses (RAG answers, the
 * task guide, the camera). Each generation loads the model if it is not resident (a no-op when it
 * is) and holds the one lock from loading to the last token, given back however it ends. A
 * caller that finds the engine busy fails with EngineBusyError, or with `wait` queues for its turn.
 * `holder` names the caller for the user, as the subject of "… is asking SmolVLM" ("The task
 * guide"); {@link stopEngine} stops it as its own signal would. Images in a request are
 * transferred to the worker.
 */
export function deviceTextGenerator(
  model: ModelEntry,
  settings: Settings,
  options: { wait?: boolean; holder?: string } = {}
): TextGenerator<VlmFrame, DeviceGenerationStats> {
  return {
    model: model.id,
    async generate(request, onToken = () => undefined, signal) {
      const stop = new AbortController();
      const stopped = signal ? AbortSignal.any([signal, stop.signal]) : stop.signal;
      const release = await lock.acquire({
        wait: options.wait,
        signal,
        busyMessage: 'The assistant is still answering another question; try again when it has finished.',
        holder: { label: options.holder ?? 'The assistant', model, stop }
      });
      try {
        setStatus({ phase: 'loading', progress: null });
        const ready = await runtime.prepare(bridge, model, settings, (progress) => setStatus({ progress }));
        setStatus({ phase: 'generating', progress: null, ready });
        // Stopped while the model loaded: the question is not asked at all.
        stopped.throwIfAborted();
        return await generateOnDevice(ready, request, onToken, stopped);
      } catch (error) {
        if (error instanceof DeviceLostError || error instanceof WorkerCrashError) {
          // The worker is gone, and the model with it.
          setStatus({ ready: null });
        }
        throw error;
      } finally {
        // Given back first, so whoever reads the holder on `idle` no longer finds this caller.
        release();
        setStatus({ phase: 'idle', progress: null });
      }
    }
  };
}
