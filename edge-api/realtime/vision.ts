import type { BackendRegistry } from '../backends/registry.ts';

/** Asks a vision model about one image; resolves with its answer. */
export type Analyse = (request: {
  model: string;
  prompt: string;
  image: string;
  signal: AbortSignal;
}) => Promise<string>;

/** Live answers are read as they come: short ones keep a slow model's latency down. */
const LIVE_MAX_TOKENS = 128;

/** The prompt a live session asks about each frame unless it names its own. */
export const DEFAULT_LIVE_PROMPT =
  'Describe briefly what is happening in this camera frame: the objects, the person’s hands and the current activity.';

/** {@link Analyse} over the API's backends: the model's server (GPU upstream or local) as jobs use it. */
export function visionAnalyser(backends: BackendRegistry): Analyse {
  return async ({ model, prompt, image, signal }) => {
    const { text } = await backends.forModel(model, 'vision').chat(
      {
        model,
        messages: [
          {
            role: 'user',
            content: [
              { type: 'image', url: image },
              { type: 'text', text: prompt }
            ]
          }
        ],
        maxTokens: LIVE_MAX_TOKENS
      },
      { signal }
    );
    return text.trim();
  };
}
