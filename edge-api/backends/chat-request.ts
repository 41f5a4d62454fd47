import { badRequest, unprocessable } from '../http/errors.ts';
import type { ChatCompletionRequest } from '../schemas/openai.ts';
import type { ChatRequest, ContentPart } from './backend.ts';

/** What an answer may cost when the client does not say. */
export const DEFAULT_MAX_TOKENS = 512;

const DATA_IMAGE = /^data:image\/(png|jpeg|webp|gif);base64,[A-Za-z0-9+/]+={0,2}$/;

/**
 * An OpenAI chat request as the backends take it. An image URL that is not allowed (see
 * {@link checkImageUrl}) is a 400 whose `param` names it as OpenAI would
 * (`messages[0].content[1].image_url.url`). With both `max_tokens` and `max_completion_tokens`
 * (one name for the same limit, old and new) the smaller holds: each is a bound the client set.
 */
export function chatRequestFrom(body: ChatCompletionRequest, imageHosts: readonly string[]): ChatRequest {
  const limits = [body.max_tokens, body.max_completion_tokens].filter((limit) => typeof limit === 'number');
  return {
    model: body.model,
    messages: body.messages.map((message, m) => ({
      // Newer clients send the system prompt as `developer`.
      role: message.role === 'developer' ? 'system' : message.role,
      content:
        typeof message.content === 'string'
          ? [{ type: 'text', text: message.content }]
          : message.content.map((part, p): ContentPart => {
              if (part.type === 'text') {
                return part;
              }
              const problem = imageUrlProblem(part.image_url.url, imageHosts);
              if (problem) {
                throw badRequest(problem.code, problem.message, `messages[${m}].content[${p}].image_url.url`);
              }
              return { type: 'image', url: part.image_url.url };
            })
    })),
    maxTokens: limits.length ? Math.min(...limits) : DEFAULT_MAX_TOKENS,
    temperature: body.temperature ?? undefined,
    topP: body.top_p ?? undefined,
    stop: typeof body.stop === 'string' ? [body.stop] : (body.stop ?? undefined)
  };
}

/**
 * Refuses (422, for the job routes) an image that is neither a data: URL of an image type nor an
 * http(s) URL on an allowed host: a model server fetching any URL a client names would let
 * clients reach the server's private network (SSRF).
 */
export function checkImageUrl(url: string, imageHosts: readonly string[], param: string): void {
  const problem = imageUrlProblem(url, imageHosts);
  if (problem) {
    throw unprocessable(problem.message, problem.code, param);
  }
}

/** Why an image URL is refused, or undefined when it is allowed. */
function imageUrlProblem(url: string, imageHosts: readonly string[]): { code: string; message: string } | undefined {
  if (url.startsWith('data:')) {
    return DATA_IMAGE.test(url)
      ? undefined
      : { code: 'invalid_image_url', message: 'An image data: URL must be base64 PNG, JPEG, WebP or GIF' };
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { code: 'invalid_image_url', message: 'The image URL is not a URL' };
  }
  if (!/^https?:$/.test(parsed.protocol) || !imageHosts.includes(parsed.hostname)) {
    return {
      code: 'image_url_not_allowed',
      message: `Images may come from data: URLs or these hosts only: ${imageHosts.join(', ') || 'none configured'}`
    };
  }
  return undefined;
}
