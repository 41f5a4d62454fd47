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
import type { GenerationStats } from '#lib/core/engine-types.ts';
import type { VlmFrame } from '#lib/core/vlm-types.ts';
import { VlmBridge } from '#lib/workers/vlm-bridge.ts';
import { appEvents, type EngineStatus } from './app-events.ts';
import { modelRuntime, type ReadyModel } from './model-runtime.service.ts';
import { ortBase } from './registry.service.ts';
import type { Settings } from './settings.service.ts';

const runtime = modelRuntime('vlm', (model, variant, host) => vlmLoadRequest(model, variant, host, ortBase()));
const bridge = new VlmBridge({ events: runtime.events });
const lock = new GenerationLock();
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

/** The worker's VLM as a TextGenerator: one user turn, about at most one image. */
function vlmGenerator(ready: ReadyModel): TextGenerator<VlmFrame, GenerationStats> {
  return {
    model: ready.model.id,
    async generate(request, onToken = () => undefined, signal) {
      const { prompt, image } = singleTurn(request.messages);
      const stats = await bridge.generate(image, prompt, { maxNewTokens: request.max_tokens }, onToken, signal);
      const cut = request.max_tokens !== undefined && stats.tokens >= request.max_tokens;
      return {
        text: stats.text,
        finish_reason: stats.aborted ? 'aborted' : cut ? 'length' : 'stop',
        usage: {
          prompt_tokens: stats.promptTokens,
          completion_tokens: stats.tokens,
          total_tokens: stats.promptTokens + stats.tokens
        },
        stats
      };
    }
  };
}

export interface GenerateOptions {
  onToken?: (delta: string) => void;
  signal?: AbortSignal;
  /** Wait for a running generation to finish instead of failing with EngineBusyError. */
  wait?: boolean;
}

/**
 * Loads `model` if it is not resident (a cheap no-op when it is), then streams the answer to
 * `request`. One generation at a time: the lock is held from loading to the last token, and given
 * back however the generation ends. Images in the request are transferred to the worker.
 */
export async function generateText(
  model: ModelEntry,
  settings: Settings,
  request: ChatRequest<VlmFrame>,
  options: GenerateOptions = {}
): Promise<ChatResult<GenerationStats> & { ready: ReadyModel }> {
  const release = await lock.acquire({
    wait: options.wait,
    signal: options.signal,
    busyMessage: 'The assistant is still answering another question; try again when it has finished.'
  });
  try {
    setStatus({ phase: 'loading', progress: null });
    const ready = await runtime.prepare(bridge, model, settings, (progress) => setStatus({ progress }));
    setStatus({ phase: 'generating', progress: null, ready });
    return { ...(await vlmGenerator(ready).generate(request, options.onToken, options.signal)), ready };
  } catch (error) {
    if (error instanceof DeviceLostError || error instanceof WorkerCrashError) {
      // The worker is gone, and the model with it.
      setStatus({ ready: null });
    }
    throw error;
  } finally {
    setStatus({ phase: 'idle', progress: null });
    release();
  }
}
