import { createRoute } from '@hono/zod-openapi';
import type { BackendRegistry } from '../backends/registry.ts';
import { badRequest } from '../http/errors.ts';
import { openAiRouter, requireJson } from '../http/validation.ts';
import { errorResponses } from '../schemas/common.ts';
import { EmbeddingListSchema, EmbeddingRequestSchema } from '../schemas/openai.ts';

const route = createRoute({
  method: 'post',
  path: '/embeddings',
  summary: 'Embeddings (OpenAI-compatible)',
  description:
    'Vectors as JSON numbers (`encoding_format: "float"`) or as base64 little-endian float32 bytes (`"base64"`, ' +
    'what the OpenAI SDKs ask by default and decode). `dimensions` only where the model was trained for it.',
  middleware: [requireJson] as const,
  request: { body: { content: { 'application/json': { schema: EmbeddingRequestSchema } }, required: true } },
  responses: {
    200: { description: 'One vector per input', content: { 'application/json': { schema: EmbeddingListSchema } } },
    ...errorResponses(400, 401, 404, 413, 415, 429, 503, 504)
  }
});

/** `POST /embeddings`: one vector per input, in order, as floats or base64. */
export function embeddings(deps: { backends: BackendRegistry }) {
  return openAiRouter().openapi(route, async (c) => {
    const { model, input, encoding_format: encoding, dimensions } = c.req.valid('json');
    const texts = typeof input === 'string' ? [input] : input;
    const result = await deps.backends.forModel(model, 'embeddings').embed(model, texts, {
      signal: c.req.raw.signal,
      requestId: c.get('requestId'),
      dimensions: dimensions ?? undefined
    });
    const size = result.vectors[0]?.length;
    if (dimensions && size !== dimensions) {
      throw badRequest(
        'dimensions_not_supported',
        `The model "${model}" makes ${size}-dimensional embeddings and cannot shorten them (it was not trained ` +
          `for it, or its server does not support it): omit dimensions`,
        'dimensions'
      );
    }
    return c.json(
      {
        object: 'list' as const,
        data: result.vectors.map((vector, index) => ({
          object: 'embedding' as const,
          index,
          embedding: encoding === 'base64' ? float32Base64(vector) : vector
        })),
        model,
        usage: { prompt_tokens: result.promptTokens, total_tokens: result.promptTokens }
      },
      200
    );
  });
}

/** A vector as the SDKs decode `encoding_format: "base64"`: float32, little-endian, base64. */
function float32Base64(vector: readonly number[]): string {
  const bytes = Buffer.alloc(vector.length * 4);
  vector.forEach((value, i) => bytes.writeFloatLE(value, i * 4));
  return bytes.toString('base64');
}
