import type { GenerationStats } from '#lib/core/engine-types.ts';
import type { ModelEntry } from '#lib/core/manifest.ts';
import type { Observation } from '#lib/db/index.ts';
import { appEvents } from './app-events.ts';
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
 * Asks the edge server's vision model about a frame over its live channel, and records the
 * answer as the device's are. The frame is consumed.
 */
export async function askServer(
  client: RealtimeClient,
  request: AskRequest,
  signal?: AbortSignal
): Promise<ServerAnswer> {
  const { frame } = request;
  let thumbnail: Blob;
  let image: string;
  try {
    thumbnail = await thumbnailOf(frame, frame.width, frame.height);
    image = await dataUrlOf(await thumbnailOf(frame, frame.width, frame.height, SERVER_FRAME_MAX_SIDE));
  } finally {
    frame.close();
  }
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
