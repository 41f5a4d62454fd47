import type { GenerationStats } from '#lib/core/engine-types.ts';
import type { ModelEntry } from '#lib/core/manifest.ts';
import { appEvents } from './app-events.ts';
import { deviceTextGenerator } from './engine.service.ts';
import { addObservation, thumbnailOf } from './observations.service.ts';
import type { Settings } from './settings.service.ts';

export interface AskRequest {
  frame: ImageBitmap;
  prompt: string;
  source: 'camera' | 'upload' | 'continuous';
  maxNewTokens?: number;
}

/**
 * Asks the vision model about a frame and records the answer as an observation of the scene,
 * then tells the app (`assistant:answer`: the task guide follows the scene through it). The
 * frame is transferred to the worker, so a thumbnail is taken first.
 */
export async function ask(
  model: ModelEntry,
  settings: Settings,
  request: AskRequest,
  onToken: (delta: string) => void,
  signal?: AbortSignal
): Promise<GenerationStats> {
  const thumbnail = await thumbnailOf(request.frame, request.frame.width, request.frame.height);
  const { stats } = await deviceTextGenerator(model, settings).generate(
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
  await addObservation({
    createdAt: Date.now(),
    prompt: request.prompt,
    answer: text,
    modelId: model.id,
    variantId,
    thumbnail,
    stats: timings,
    source: request.source
  });
  appEvents.emit('assistant:answer', { text });
  return { text, ...timings };
}
