import { DEFAULT_MAX_NEW_TOKENS, type GenerationStats } from '#lib/core/engine-types.ts';
import type { ModelEntry } from '#lib/core/manifest.ts';
import type { Observation } from '#lib/db/index.ts';
import { appEvents } from './app-events.ts';
import type { EdgeClient } from './edge-client.ts';
import { deviceTextGenerator } from './engine.service.ts';
import { addObservation, dataUrlOf, thumbnailOf } from './observations.service.ts';
import type { RealtimeClient, ServerAnswer } from './realtime-client.ts';
import type { Settings } from './settings.service.ts';

/** Who the camera is, when the engine says what keeps it busy. */
export const CAMERA_HOLDER = 'The camera';

export interface AskRequest {
  frame: ImageBitmap;
  prompt: string;
  source: 'camera' | 'upload' | 'continuous';
  maxNewTokens?: number;
}

/** The longest side of a frame sent to the server: enough for its vision model, small on a phone's uplink. */
export const SERVER_FRAME_MAX_SIDE = 512;

/** Marks an observation answered on the server, where the device's variant would be. */
export const SERVER_VARIANT = 'server';

/**
 * Asks the device's vision model about a frame and records the answer. The frame is transferred
 * to the worker, so the thumbnail is taken first.
 */
export async function ask(
  model: ModelEntry,
  settings: Settings,
  request: AskRequest,
  onToken: (delta: string) => void,
  signal?: AbortSignal
): Promise<GenerationStats> {
  const thumbnail = await thumbnailOf(request.frame, request.frame.width, request.frame.height);
  const { stats } = await deviceTextGenerator(model, settings, { holder: CAMERA_HOLDER }).generate(
    {
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image', image: request.frame },
            { type: 'text', text: request.prompt }
          ]
        }
      ],
      max_tokens: request.maxNewTokens
    },
    onToken,
    signal
  );
  const { text, variantId, ...timings } = stats;
  await record(request, thumbnail, { answer: text, modelId: model.id, variantId, stats: timings });
  return { text, ...timings };
}

/**
 * What goes to the server of a frame, and what stays: a thumbnail for the history, and the frame
 * at most {@link SERVER_FRAME_MAX_SIDE} px as a JPEG data: URL. The frame is consumed.
 */
async function serverFrame(frame: ImageBitmap): Promise<{ thumbnail: Blob; image: string }> {
  try {
    const thumbnail = await thumbnailOf(frame, frame.width, frame.height);
    const image = await dataUrlOf(await thumbnailOf(frame, frame.width, frame.height, SERVER_FRAME_MAX_SIDE));
    return { thumbnail, image };
  } finally {
    frame.close();
  }
}

/**
 * Asks the edge server's vision model about a frame over its live channel, and records the
 * answer as the device's are. The frame is consumed.
 */
export async function askServer(
  client: RealtimeClient,
  request: AskRequest,
  signal?: AbortSignal
): Promise<ServerAnswer> {
  const { thumbnail, image } = await serverFrame(request.frame);
  const answer = await client.ask(image, request.prompt, signal);
  await record(request, thumbnail, {
    answer: answer.text,
    modelId: answer.model,
    variantId: SERVER_VARIANT,
    // The whole answer arrives at once: its first token is its last. The server tells no token counts.
    stats: {
      tokens: 0,
      preprocessMs: 0,
      visionMs: 0,
      prefillMs: 0,
      timeToFirstTokenMs: answer.latencyMs,
      totalMs: answer.latencyMs,
      tokensPerSecond: 0,
      device: 'server',
      aborted: false
    }
  });
  return answer;
}

/** A server model's answer, with when its first word came. */
export interface ServerModelAnswer extends ServerAnswer {
  /** From the question to the first word, the frame's encoding included. */
  firstTokenMs: number;
}

/**
 * Asks one of the edge server's models (`modelId`, as the server names it) about a frame through
 * its chat completions, streaming the answer through `onToken`, and records the answer as the
 * device's are, marked as computed on the server. The frame is consumed.
 */
export async function askServerModel(
  client: EdgeClient,
  modelId: string,
  request: AskRequest,
  onToken: (delta: string) => void,
  signal?: AbortSignal
): Promise<ServerModelAnswer> {
  const started = performance.now();
  const { thumbnail, image } = await serverFrame(request.frame);
  const preprocessMs = performance.now() - started;
  const result = await client.chat(
    {
      model: modelId,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image_url', image_url: { url: image } },
            { type: 'text', text: request.prompt }
          ]
        }
      ],
      max_tokens: request.maxNewTokens ?? DEFAULT_MAX_NEW_TOKENS
    },
    onToken,
    signal
  );
  const firstTokenMs = preprocessMs + result.firstTokenMs;
  const totalMs = preprocessMs + result.totalMs;
  const decodeS = (result.totalMs - result.firstTokenMs) / 1000;
  await record(request, thumbnail, {
    answer: result.text,
    modelId,
    variantId: SERVER_VARIANT,
    stats: {
      tokens: result.tokens,
      preprocessMs,
      // The server's own split of its time is not told.
      visionMs: 0,
      prefillMs: 0,
      timeToFirstTokenMs: firstTokenMs,
      totalMs,
      // Measured as the device's are: after the first token, as the words arrive here.
      tokensPerSecond: result.tokens > 1 && decodeS > 0 ? (result.tokens - 1) / decodeS : 0,
      device: 'server',
      aborted: false
    }
  });
  return { text: result.text, model: modelId, latencyMs: totalMs, firstTokenMs };
}

/**
 * Records an answer as an observation of the scene, then tells the app (`assistant:answer`: the
 * task guide follows the scene through it), wherever the answer was computed.
 */
async function record(
  request: AskRequest,
  thumbnail: Blob,
  answer: Pick<Observation, 'answer' | 'modelId' | 'variantId' | 'stats'>
): Promise<void> {
  await addObservation({
    createdAt: Date.now(),
    prompt: request.prompt,
    thumbnail,
    source: request.source,
    ...answer
  });
  appEvents.emit('assistant:answer', { text: answer.answer });
}
