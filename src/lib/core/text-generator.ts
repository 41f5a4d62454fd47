/**
 * The one interface every text engine answers through, in the shape of OpenAI's chat
 * completions (messages of text and image parts; streamed deltas; usage; a finish reason), so
 * RAG answers, the task guide's fallback and later chat and video chat call one thing whichever
 * engine runs: the on-device VLM today; WebLLM, transformers.js text generation and the edge API
 * next. `Image` is what an engine takes for pictures: an ImageBitmap on the device, a URL remotely.
 */
import { UnsupportedRequestError } from './errors.ts';

export type ChatRole = 'system' | 'user' | 'assistant';

export type ChatPart<Image> = { type: 'text'; text: string } | { type: 'image'; image: Image };

export interface ChatMessage<Image = never> {
  role: ChatRole;
  content: string | ChatPart<Image>[];
}

export interface ChatRequest<Image = never> {
  messages: ChatMessage<Image>[];
  /** Most tokens to write (OpenAI's `max_tokens`); the engine's default when absent. */
  max_tokens?: number;
}

export interface ChatUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export interface ChatResult<Stats = unknown> {
  text: string;
  /** `length`: cut at `max_tokens`; `aborted`: stopped by the caller (the text so far is kept). */
  finish_reason: 'stop' | 'length' | 'aborted';
  usage: ChatUsage;
  /** The engine's own timings, when it measures them. */
  stats: Stats;
}

export interface TextGenerator<Image = never, Stats = unknown> {
  /** The model that writes the answers (a manifest id or a server's model name). */
  readonly model: string;
  /** Streams the answer's text through `onToken` as it is written; `signal` stops it after the current token. */
  generate(
    request: ChatRequest<Image>,
    onToken?: (delta: string) => void,
    signal?: AbortSignal
  ): Promise<ChatResult<Stats>>;
}

/** The text of a message, its image parts left out. */
export function messageText(message: ChatMessage<unknown>): string {
  return typeof message.content === 'string'
    ? message.content
    : message.content.flatMap((part) => (part.type === 'text' ? [part.text] : [])).join('\n');
}

/**
 * A conversation as one prompt and at most one image, for engines that answer a single user turn
 * about a single picture (the on-device VLMs, whose chat template takes one user message). Earlier
 * turns and system text are kept as labelled lines so nothing the caller said is dropped.
 */
export function singleTurn<Image>(messages: readonly ChatMessage<Image>[]): { prompt: string; image: Image | null } {
  const images = messages.flatMap((message) =>
    typeof message.content === 'string'
      ? []
      : message.content.flatMap((part) => (part.type === 'image' ? [part.image] : []))
  );
  if (images.length > 1) {
    throw new UnsupportedRequestError(
      `This model answers about one image at a time; the request has ${images.length}.`
    );
  }
  const last = messages.at(-1);
  if (!last || last.role !== 'user') {
    throw new UnsupportedRequestError('A request must end with the user’s message.');
  }
  const earlier = messages.slice(0, -1).map((message) => {
    const label = message.role === 'system' ? 'Instructions' : message.role === 'user' ? 'User' : 'Assistant';
    return `${label}: ${messageText(message)}`;
  });
  return { prompt: [...earlier, messageText(last)].join('\n\n'), image: images[0] ?? null };
}
