import { Hono } from 'hono';
import type { BlobStore } from '../storage/file-store.ts';

const CONTENT_TYPES: Record<string, string> = {
  json: 'application/json',
  txt: 'text/plain; charset=utf-8',
  onnx: 'application/octet-stream',
  onnx_data: 'application/octet-stream',
  bin: 'application/octet-stream'
};

/**
 * Model mirror in the Hugging Face layout, `/{owner}/{name}/resolve/{revision}/{file}`, so the
 * PWA can point its model host here instead of huggingface.co (offline classrooms, tests).
 * Files live at `{owner}/{name}/{file}` in the store; any revision maps to the same files.
 * Missing files answer 404, never an HTML fallback: transformers.js would parse it as a model.
 */
export function modelMirror(store: BlobStore): Hono {
  const app = new Hono();
  app.on(['GET', 'HEAD'], '/:owner/:name/resolve/:revision/:file{.+}', async (c) => {
    const { owner, name, file } = c.req.param();
    const key = `${owner}/${name}/${file}`;
    // A file path may not climb out of its repo, even to somewhere inside the models folder.
    const climbs = key.split(/[\\/]/).some((segment) => segment === '..' || segment === '.');
    const info = climbs ? null : await store.head(key);
    if (!info) {
      return c.json(
        { error: { message: `Model file not found: ${key}`, type: 'not_found', code: 'model_file_not_found' } },
        404
      );
    }
    const etag = `"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
    const headers: Record<string, string> = {
      'accept-ranges': 'bytes',
      etag,
      'cache-control': 'no-cache',
      'content-type': CONTENT_TYPES[file.split('.').pop() ?? ''] ?? 'application/octet-stream'
    };
    if (c.req.header('if-none-match') === etag) {
      return c.body(null, 304, headers);
    }
    const range = parseRange(c.req.header('range'), info.size);
    if (range === 'invalid') {
      return c.body(null, 416, { ...headers, 'content-range': `bytes */${info.size}` });
    }
    const [start, end] = range ?? [0, info.size - 1];
    headers['content-length'] = String(end - start + 1);
    if (range) {
      headers['content-range'] = `bytes ${start}-${end}/${info.size}`;
    }
    const status = range ? 206 : 200;
    if (c.req.method === 'HEAD' || info.size === 0) {
      return c.body(null, status, headers);
    }
    return c.body(store.read(key, start, end), status, headers);
  });
  return app;
}

/** A single `bytes=a-b`, `bytes=a-` or `bytes=-n` range; multi-range requests get the whole file. */
export function parseRange(header: string | undefined, size: number): [number, number] | null | 'invalid' {
  const match = header?.match(/^bytes=(\d*)-(\d*)$/);
  if (!match) {
    return null;
  }
  const [, from = '', to = ''] = match;
  if (from === '' && to === '') {
    return 'invalid';
  }
  const start = from === '' ? Math.max(0, size - Number(to)) : Number(from);
  const end = from === '' || to === '' ? size - 1 : Math.min(Number(to), size - 1);
  return start > end || start >= size ? 'invalid' : [start, end];
}
