import { createRoute } from '@hono/zod-openapi';
import type { BackendRegistry } from '../backends/registry.ts';
import { apiRouter } from '../http/validation.ts';
import { errorResponses } from '../schemas/common.ts';
import { ModelListSchema } from '../schemas/openai.ts';

const route = createRoute({
  method: 'get',
  path: '/models',
  summary: 'Models this API serves (OpenAI-compatible), with what each can do',
  responses: {
    200: { description: 'The models', content: { 'application/json': { schema: ModelListSchema } } },
    ...errorResponses(401, 429)
  }
});

export function openAiModels(deps: { backends: BackendRegistry }) {
  return apiRouter().openapi(route, (c) =>
    c.json(
      {
        object: 'list' as const,
        data: deps.backends.models().map((model) => ({
          id: model.id,
          object: 'model' as const,
          created: 0,
          owned_by: model.ownedBy,
          capabilities: model.capabilities
        }))
      },
      200
    )
  );
}
