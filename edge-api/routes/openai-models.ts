import { createRoute, z } from '@hono/zod-openapi';
import type { ModelInfo } from '../backends/backend.ts';
import type { BackendRegistry } from '../backends/registry.ts';
import { notFound } from '../http/errors.ts';
import { openAiRouter } from '../http/validation.ts';
import { errorResponses } from '../schemas/common.ts';
import { ModelListSchema, ModelSchema } from '../schemas/openai.ts';

const list = createRoute({
  method: 'get',
  path: '/models',
  summary: 'Models this API serves (OpenAI-compatible), with what each can do',
  responses: {
    200: { description: 'The models', content: { 'application/json': { schema: ModelListSchema } } },
    ...errorResponses(401, 429)
  }
});

const retrieve = createRoute({
  method: 'get',
  path: '/models/{model}',
  summary: 'One model (OpenAI-compatible)',
  request: {
    params: z.object({
      model: z.string().min(1).openapi({ description: 'The model id, URL-encoded (`google%2Fmedgemma-4b-it`)' })
    })
  },
  responses: {
    200: { description: 'The model', content: { 'application/json': { schema: ModelSchema } } },
    ...errorResponses(401, 404, 429)
  }
});

const wire = (model: ModelInfo) => ({
  id: model.id,
  object: 'model' as const,
  created: 0,
  owned_by: model.ownedBy,
  capabilities: model.capabilities
});

/** `GET /models` and `GET /models/{model}`: the models a backend serves, with their capabilities. */
export function openAiModels(deps: { backends: BackendRegistry }) {
  return openAiRouter()
    .openapi(list, (c) => c.json({ object: 'list' as const, data: deps.backends.models().map(wire) }, 200))
    .openapi(retrieve, (c) => {
      const { model } = c.req.valid('param');
      const found = deps.backends.models().find((info) => info.id === model);
      if (!found) {
        throw notFound(`The model "${model}" does not exist; GET /v1/models lists them`, 'model_not_found');
      }
      return c.json(wire(found), 200);
    });
}
