import { z, type RouteConfig } from '@hono/zod-openapi';
import { Hono } from 'hono';
import { errorResponse, notFound } from '../http/errors.ts';
import { serveBlob } from '../http/serve-blob.ts';
import { errorResponses } from '../schemas/common.ts';
import type { BlobStore } from '../storage/file-store.ts';

/**
 * The mirror in the API document. Routed by plain Hono: a file path spans several segments,
 * which an OpenAPI path parameter cannot express.
 */
export const MODEL_MIRROR_DOC: RouteConfig = {
  method: 'get',
  path: '/models/{owner}/{name}/resolve/{revision}/{file}',
  summary: 'Model file (Hugging Face layout), public: Range, If-Range and ETag for resumable downloads',
  security: [],
  request: { params: z.object({ owner: z.string(), name: z.string(), revision: z.string(), file: z.string() }) },
  responses: {
    200: { description: 'The whole file' },
    206: { description: 'The requested byte range' },
    304: { description: 'Unchanged since the ETag in If-None-Match' },
    416: { description: 'The range lies outside the file' },
    ...errorResponses(404)
  }
};

/**
 * Model mirror in the Hugging Face layout, `/{owner}/{name}/resolve/{revision}/{file}`, so the
 * PWA can point its model host here instead of huggingface.co (offline classrooms, tests).
 * Files live at `{owner}/{name}/{file}` in the store; any revision maps to the same files.
 * Missing files answer 404, never an HTML fallback: transformers.js would parse it as a model.
 */
export function modelMirror(store: BlobStore): Hono {
  return new Hono().on(['GET', 'HEAD'], '/:owner/:name/resolve/:revision/:file{.+}', async (c) => {
    const { owner, name, file } = c.req.param();
    const key = `${owner}/${name}/${file}`;
    // A file path may not climb out of its repo, even to somewhere inside the models folder.
    const climbs = key.split(/[\\/]/).some((segment) => segment === '..' || segment === '.');
    const response = climbs ? null : await serveBlob(c, store, key);
    // Answered here rather than thrown: the dev server mounts this without the API's error handler.
    return response ?? errorResponse(c, notFound(`Model file not found: ${key}`, 'model_file_not_found'));
  });
}
