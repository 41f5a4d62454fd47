import { createRoute } from '@hono/zod-openapi';
import type { BackendRegistry } from '../backends/registry.ts';
import { apiRouter, requireJson } from '../http/validation.ts';
import { COMMON_ERRORS, errorResponses } from '../schemas/common.ts';
import { EmbeddingListSchema, EmbeddingRequestSchema } from '../schemas/openai.ts';

const route = createRoute({
  method: 'post',
  path: '/embeddings',
  summary: 'Embeddings (OpenAI-compatible)',
  middleware: [requireJson] as const,
  request: { body: { content: { 'application/json': { schema: EmbeddingRequestSchema } }, required: true } },
  responses: {
    200: { description: 'One vector per input', content: { 'application/json': { schema: EmbeddingListSchema } } },
    ...errorResponses(...COMMON_ERRORS, 404, 503, 504)
  }
});

export function embeddings(deps: { backends: BackendRegistry }) {
  return apiRouter().openapi(route, async (c) => {
    const { model, input } = c.req.valid('json');
    const texts = typeof input === 'string' ? [input] : input;
    const result = await deps.backends
      .forModel(model, 'embeddings')
      .embed(model, texts, { signal: c.req.raw.signal, requestId: c.get('requestId') });
    return c.json(
      {
        object: 'list' as const,
        data: result.vectors.map((embedding, index) => ({ object: 'embedding' as const, index, embedding })),
        model,
        usage: { prompt_tokens: result.promptTokens, total_tokens: result.promptTokens }
      },
      200
    );
  });
}
