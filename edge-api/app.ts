import { Hono } from 'hono';
import { modelMirror } from './routes/models.ts';
import type { BlobStore } from './storage/file-store.ts';

export interface AppDeps {
  models: BlobStore;
  version: string;
}

/**
 * Cross-origin isolation lets onnxruntime-web use SharedArrayBuffer (WASM threads).
 * HTML documents carry SvelteKit's hashed CSP meta tag; everything else (workers, WASM
 * loaders, JSON) gets this header CSP, since a worker's policy comes from its own response.
 */
const ASSET_CSP =
  "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' blob:; worker-src 'self' blob:; " +
  "connect-src 'self' https://huggingface.co https://*.huggingface.co https://*.hf.co; " +
  "img-src 'self' data: blob:; object-src 'none'; base-uri 'self'";

/** Builds the edge API: runtime-portable, every dependency passed in. */
export function createApp(deps: AppDeps) {
  return new Hono()
    .use(async (c, next) => {
      await next();
      c.header('cross-origin-opener-policy', 'same-origin');
      c.header('cross-origin-embedder-policy', 'require-corp');
      c.header('cross-origin-resource-policy', 'same-origin');
      c.header('x-content-type-options', 'nosniff');
      c.header('referrer-policy', 'no-referrer');
      if (!c.res.headers.get('content-type')?.startsWith('text/html')) {
        c.header('content-security-policy', ASSET_CSP);
      }
    })
    .get('/health', (c) => c.json({ status: 'ok', version: deps.version }))
    .route('/models', modelMirror(deps.models));
}

export type AppType = ReturnType<typeof createApp>;
