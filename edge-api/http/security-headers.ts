import type { MiddlewareHandler } from 'hono';

/**
 * Cross-origin isolation lets onnxruntime-web use SharedArrayBuffer (WASM threads).
 * HTML documents carry SvelteKit's hashed CSP meta tag; every other file (workers, WASM
 * loaders, model files) gets this header CSP, since a worker's policy comes from its own response.
 */
const FILE_CSP =
  "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' blob:; worker-src 'self' blob:; " +
  "connect-src 'self' https://huggingface.co https://*.huggingface.co https://*.hf.co; " +
  "img-src 'self' data: blob:; object-src 'none'; base-uri 'self'";

const HSTS: [string, string] = ['strict-transport-security', 'max-age=15552000; includeSubDomains'];
const NOSNIFF: [string, string] = ['x-content-type-options', 'nosniff'];
const NO_FRAMING: [string, string] = ['x-frame-options', 'DENY'];

/** The PWA's files and the model mirror: what a document and its workers need. */
const FILE_HEADERS: [string, string][] = [
  NOSNIFF,
  NO_FRAMING,
  HSTS,
  ['referrer-policy', 'no-referrer'],
  ['x-permitted-cross-domain-policies', 'none'],
  ['origin-agent-cluster', '?1'],
  ['cross-origin-resource-policy', 'same-origin'],
  ['cross-origin-opener-policy', 'same-origin'],
  ['cross-origin-embedder-policy', 'require-corp']
];

/**
 * API answers (JSON, event streams, the docs page) are never loaded as documents or scripts, so
 * the document-level isolation headers say nothing there; this is OWASP's set for REST APIs.
 * Every header costs a few microseconds per request on Node (see the gateway benchmark).
 */
const API_HEADERS: [string, string][] = [
  NOSNIFF,
  NO_FRAMING,
  HSTS,
  ['content-security-policy', "default-src 'none'; frame-ancestors 'none'"]
];

/**
 * Secure headers on every response, and cross-origin isolation on the app's files. Set before
 * the route runs, which is also why this is not Hono's `secureHeaders()`: headers added after a
 * response exists make Hono rebuild it, and on Node that costs a full WHATWG Response per
 * request. Whether a file needs the CSP depends on the file (HTML has its own), so only files
 * get it afterwards.
 */
export function securityHeaders(isApiPath: (path: string) => boolean): MiddlewareHandler {
  return async (c, next) => {
    if (isApiPath(c.req.path)) {
      for (const [name, value] of API_HEADERS) {
        c.header(name, value);
      }
      await next();
      return;
    }
    for (const [name, value] of FILE_HEADERS) {
      c.header(name, value);
    }
    await next();
    if (!c.res.headers.get('content-type')?.startsWith('text/html') && !c.res.headers.has('content-security-policy')) {
      c.header('content-security-policy', FILE_CSP);
    }
  };
}
