import type { Context } from 'hono';
import { contentTypeOf } from '../storage/content-type.ts';
import type { BlobStore } from '../storage/file-store.ts';

/**
 * Answers GET/HEAD for one stored blob with what resumable downloads need: ETag (304 when it
 * still matches), `Accept-Ranges`, single byte ranges (206, 416) and `If-Range`. `null` when it
 * is missing.
 */
export async function serveBlob(
  c: Context,
  store: BlobStore,
  key: string,
  extraHeaders: Record<string, string> = {}
): Promise<Response | null> {
  const info = await store.head(key);
  if (!info) {
    return null;
  }
  const etag = `"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
  const headers: Record<string, string> = {
    'accept-ranges': 'bytes',
    etag,
    'cache-control': 'no-cache',
    'content-type': contentTypeOf(key),
    ...extraHeaders
  };
  if (c.req.header('if-none-match') === etag) {
    return c.body(null, 304, headers);
  }
  // A resumed download of a file that changed since its first part must start over rather than
  // splice new bytes onto old ones (If-Range, RFC 9110 §13.1.5): a range only for the same ETag.
  const ifRange = c.req.header('if-range');
  const rangeHeader = ifRange === undefined || ifRange === etag ? c.req.header('range') : undefined;
  return rangedBody(c, headers, info.size, rangeHeader, (start, end) => store.read(key, start, end));
}

/**
 * The answer for `size` bytes once validators are settled: the one range `rangeHeader` asks for
 * (206, or 416 when it lies outside), else all of it (200); headers only for HEAD.
 */
export function rangedBody(
  c: Context,
  headers: Record<string, string>,
  size: number,
  rangeHeader: string | undefined,
  read: (start: number, end: number) => ReadableStream<Uint8Array>
): Response {
  const range = parseRange(rangeHeader, size);
  if (range === 'invalid') {
    return c.body(null, 416, { ...headers, 'content-range': `bytes */${size}` });
  }
  const [start, end] = range ?? [0, size - 1];
  headers['content-length'] = String(end - start + 1);
  if (range) {
    headers['content-range'] = `bytes ${start}-${end}/${size}`;
  }
  const status = range ? 206 : 200;
  if (c.req.method === 'HEAD' || size === 0) {
    return c.body(null, status, headers);
  }
  return c.body(read(start, end), status, headers);
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
