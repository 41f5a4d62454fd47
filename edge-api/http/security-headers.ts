import type { MiddlewareHandler } from 'hono';

/**
 * Cross-origin isolation lets onnxruntime-web use SharedArrayBuffer (WASM threads).
 * HTML documents carry SvelteKit's hashed CSP meta tag; everything else (workers, WASM
 * loaders, JSON) gets this header CSP, since a worker's policy comes from its own response.
 */
const ASSET_CSP =
  "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' blob:; worker-src 'self' blob:; " +
  "connect-src 'self' https://huggingface.co https://*.huggingface.co https://*.hf.co; " +
  "img-src 'self' data: blob:; object-src 'none'; base-uri 'self'";

const HEADERS: [string, string][] = [
  ['x-content-type-options', 'nosniff'],
  ['x-frame-options', 'DENY'],
  ['referrer-policy', 'no-referrer'],
  ['strict-transport-security', 'max-age=15552000; includeSubDomains'],
  ['x-permitted-cross-domain-policies', 'none'],
  ['origin-agent-cluster', '?1'],
  ['cross-origin-resource-policy', 'same-origin'],
  ['cross-origin-opener-policy', 'same-origin'],
  ['cross-origin-embedder-policy', 'require-corp']
];

/**
 * Secure headers and cross-origin isolation on every response. Set before the route runs, which
 * is also why this is not Hono's `secureHeaders()`: headers added after a response exists make
 * Hono rebuild it, and on Node that costs a full WHATWG Response per request. API responses
 * are never HTML pages, so they get the CSP up front; for the PWA's files it depends on the file.
 */
export function securityHeaders(isApiPath: (path: string) => boolean): MiddlewareHandler {
  return async (c, next) => {
    for (const [name, value] of HEADERS) {
      c.header(name, value);
    }
    if (isApiPath(c.req.path)) {
      c.header('content-security-policy', ASSET_CSP);
      await next();
      return;
    }
    await next();
    if (!c.res.headers.get('content-type')?.startsWith('text/html') && !c.res.headers.has('content-security-policy')) {
      c.header('content-security-policy', ASSET_CSP);
    }
  };
}
