import { createHash } from 'node:crypto';
import { createReadStream, statSync, type Stats } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { MiddlewareHandler } from 'hono';
import { getMimeType } from 'hono/utils/mime';
import { rangedBody } from './serve-blob.ts';

/** Content codings the build writes beside each file (see vite.config.ts), best first. */
const ENCODINGS = [
  ['br', '.br'],
  ['gzip', '.gz']
] as const;
type Coding = (typeof ENCODINGS)[number][0] | 'identity';

/** SvelteKit puts a content hash in every name below this folder, so a changed file is a new URL. */
const IMMUTABLE_PREFIX = '/_app/immutable/';
const IMMUTABLE = 'public, max-age=31536000, immutable';
/**
 * Everything else keeps its URL across versions (pages, the manifest, the service worker, `/ort/`
 * whose names carry no version), so it is revalidated on every use: a 304 costs one round trip,
 * a stale page or an old ORT runtime beside new glue code would break the app.
 */
const REVALIDATE = 'no-cache';

/** Paths where a missing file is a 404, never the SPA shell: the page would parse HTML as a script. */
const FILES_ONLY = /^\/(?:_app|ort|models)\//;

interface Variant {
  path: string;
  size: number;
  etag: string;
}

interface Entry {
  mtimeMs: number;
  size: number;
  variants: Partial<Record<Coding, Variant>>;
}

/**
 * Serves the built PWA from `root`: precompressed brotli/gzip by `Accept-Encoding` (q-values
 * honoured), strong ETags and 304s, `immutable` for hashed assets and `no-cache` for the rest,
 * byte ranges, prerendered pages by their link (`/models` → `models.html`) and the SPA shell
 * (`200.html`) for other page routes. Missing files fall through to `next()` (the app's 404).
 *
 * Not `serveStatic` from @hono/node-server: it matches `Accept-Encoding` tokens literally, so any
 * q-value (`br;q=1`) turns that coding off, sends no ETag, and answers a Range request with bytes
 * of the compressed file.
 */
export function serveApp(root: string): MiddlewareHandler {
  const entries = new Map<string, Entry>();

  /** The file's representations, cached until its size or mtime changes (a new build). */
  async function entryFor(path: string, stats: Stats): Promise<Entry> {
    const cached = entries.get(path);
    if (cached && cached.mtimeMs === stats.mtimeMs && cached.size === stats.size) {
      return cached;
    }
    // Strong ETags from the content: the same bytes in two builds keep their tag, so an unchanged
    // page revalidates to a 304 after a deploy. Each coding is its own representation (RFC 9110 §8.8.3).
    const hash = createHash('sha256')
      .update(await readFile(path))
      .digest('base64url')
      .slice(0, 27);
    const entry: Entry = {
      mtimeMs: stats.mtimeMs,
      size: stats.size,
      variants: { identity: { path, size: stats.size, etag: `"${hash}"` } }
    };
    for (const [coding, suffix] of ENCODINGS) {
      const variant = statOrNull(path + suffix);
      // Written by the same build, so never older than its source; an older one is left over.
      if (variant?.isFile() && variant.mtimeMs >= stats.mtimeMs) {
        entry.variants[coding] = { path: path + suffix, size: variant.size, etag: `"${hash}-${coding}"` };
      }
    }
    entries.set(path, entry);
    return entry;
  }

  return async (c, next) => {
    const found = locate(root, c.req.path);
    if (!found) {
      return next();
    }
    const entry = await entryFor(found.path, found.stats);
    const compressed = Object.keys(entry.variants).length > 1;
    const headers: Record<string, string> = {
      'content-type': getMimeType(found.path) ?? 'application/octet-stream',
      'cache-control': c.req.path.startsWith(IMMUTABLE_PREFIX) ? IMMUTABLE : REVALIDATE,
      'accept-ranges': 'bytes'
    };
    if (compressed) {
      headers.vary = 'Accept-Encoding';
    }
    const identity = entry.variants.identity!;
    // Ranges always count bytes of the file itself: a resumed or partial read must not depend on
    // which coding the first request happened to get (If-Range then holds the identity ETag).
    const rangeHeader = c.req.header('range');
    const ifRange = c.req.header('if-range');
    const wantsRange = rangeHeader !== undefined && (ifRange === undefined || ifRange === identity.etag);
    const coding = wantsRange ? 'identity' : negotiate(c.req.header('accept-encoding'), entry.variants);
    const variant = entry.variants[coding]!;
    headers.etag = variant.etag;
    if (coding !== 'identity') {
      headers['content-encoding'] = coding;
    }
    // Content-Type stays on the 304: a cache merges its headers into the stored ones, and the
    // security middleware gives a response without text/html the file CSP, which would then
    // block the page's hashed inline scripts.
    if (matches(c.req.header('if-none-match'), variant.etag)) {
      return c.body(null, 304, headers);
    }
    return rangedBody(
      c,
      headers,
      variant.size,
      wantsRange ? rangeHeader : undefined,
      (start, end) => Readable.toWeb(createReadStream(variant.path, { start, end })) as ReadableStream<Uint8Array>
    );
  };
}

/**
 * The file a request path names: itself, a folder's `index.html`, a prerendered page
 * (`/models` → `models.html`), else the SPA shell for page routes. `null` for a missing file or a
 * path that tries to leave `root`.
 */
function locate(root: string, urlPath: string): { path: string; stats: Stats } | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (/(?:^|[/\\])\.\.?(?:[/\\]|$)|\\|\0/.test(decoded)) {
    return null;
  }
  const path = join(root, decoded);
  const candidates = [path, join(path, 'index.html')];
  const isPage = !FILES_ONLY.test(decoded) && !/\.[^/]*$/.test(decoded);
  if (isPage) {
    candidates.push(`${path.replace(/\/$/, '')}.html`, join(root, '200.html'));
  }
  for (const candidate of candidates) {
    const stats = statOrNull(candidate);
    if (stats?.isFile()) {
      return { path: candidate, stats };
    }
  }
  return null;
}

/**
 * The coding to send (RFC 9110 §12.5.3): the highest q among those on disk, brotli before gzip
 * before identity on a tie. Without the header, or when nothing listed is acceptable, identity:
 * every client can read it, and a 406 for a static file helps nobody.
 */
export function negotiate(header: string | undefined, available: Partial<Record<Coding, Variant>>): Coding {
  if (!header) {
    return 'identity';
  }
  const q = new Map<string, number>();
  for (const part of header.split(',')) {
    const [name = '', ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    const weight = params.find((p) => p.startsWith('q='));
    const value = weight === undefined ? 1 : Number(weight.slice(2));
    q.set(name === 'x-gzip' ? 'gzip' : name, Number.isFinite(value) ? value : 0);
  }
  const star = q.get('*');
  // Unlisted identity stays acceptable (RFC 9110 §12.5.3) but last: `gzip;q=0.9` still means gzip.
  const weightOf = (coding: Coding) => q.get(coding) ?? star ?? (coding === 'identity' ? Number.MIN_VALUE : 0);
  let best: Coding = 'identity';
  let bestQ = 0;
  for (const coding of ['br', 'gzip', 'identity'] as const) {
    const weight = weightOf(coding);
    if (available[coding] && weight > bestQ) {
      best = coding;
      bestQ = weight;
    }
  }
  return best;
}

/** `If-None-Match` by weak comparison (RFC 9110 §13.1.2): a list of tags or `*`. */
function matches(header: string | undefined, etag: string): boolean {
  if (header === undefined) {
    return false;
  }
  return header
    .split(',')
    .map((tag) => tag.trim().replace(/^W\//, ''))
    .some((tag) => tag === '*' || tag === etag);
}

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}
