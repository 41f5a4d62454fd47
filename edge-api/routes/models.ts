import { Hono } from 'hono';
import { errorResponse, notFound } from '../http/errors.ts';
import { serveBlob } from '../http/serve-blob.ts';
import type { BlobStore } from '../storage/file-store.ts';

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
