import { unprocessable } from '../http/errors.ts';
import type { ChatCompletionRequest } from '../schemas/openai.ts';
import type { ChatRequest, ContentPart } from './backend.ts';

/** What an answer may cost when the client does not say. */
export const DEFAULT_MAX_TOKENS = 512;

const DATA_IMAGE = /^data:image\/(png|jpeg|webp|gif);base64,[A-Za-z0-9+/]+={0,2}$/;

/**
 * An OpenAI chat request as the backends take it. Images must be data: URLs of an image type,
 * or https/http URLs on an allowed host: a model server fetching any URL a client names would
 * let clients reach the server's private network (SSRF).
 */
export function chatRequestFrom(body: ChatCompletionRequest, imageHosts: readonly string[]): ChatRequest {
  return {
    model: body.model,
    messages: body.messages.map((message, m) => ({
      role: message.role,
      content:
        typeof message.content === 'string'
          ? [{ type: 'text', text: message.content }]
          : message.content.map((part, p): ContentPart => {
              if (part.type === 'text') {
                return part;
              }
              checkImageUrl(part.image_url.url, imageHosts, `messages.${m}.content.${p}.image_url.url`);
              return { type: 'image', url: part.image_url.url };
            })
    })),
    maxTokens: body.max_completion_tokens ?? body.max_tokens ?? DEFAULT_MAX_TOKENS,
    temperature: body.temperature,
    topP: body.top_p,
    stop: typeof body.stop === 'string' ? [body.stop] : body.stop
  };
}

export function checkImageUrl(url: string, imageHosts: readonly string[], param: string): void {
  if (url.startsWith('data:')) {
    if (!DATA_IMAGE.test(url)) {
      throw unprocessable('An image data: URL must be base64 PNG, JPEG, WebP or GIF', 'invalid_image_url', param);
    }
    return;
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw unprocessable('The image URL is not a URL', 'invalid_image_url', param);
  }
  if (!/^https?:$/.test(parsed.protocol) || !imageHosts.includes(parsed.hostname)) {
    throw unprocessable(
      `Images may come from data: URLs or these hosts only: ${imageHosts.join(', ') || 'none configured'}`,
      'image_url_not_allowed',
      param
    );
  }
}
