import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { serve } from '@hono/node-server';
import { serveStatic } from '@hono/node-server/serve-static';
import { createApp } from './app.ts';
import { fileStore } from './storage/file-store.ts';

export interface ServerOptions {
  port: number;
  host: string;
  modelsDir: string;
  /** The built PWA (`npm run build` output); omitted to run the API alone. */
  staticDir?: string;
}

/** Starts the edge API on Node; with `staticDir` it also serves the PWA on the same origin. */
export function startServer(options: ServerOptions) {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  const app = createApp({ models: fileStore(options.modelsDir), version: pkg.version });
  const { staticDir } = options;
  if (staticDir) {
    const root = resolve(staticDir);
    app.use('/*', serveStatic({ root }));
    // SPA fallback for client-side routes that were not prerendered.
    app.get('/*', serveStatic({ root, path: '200.html' }));
  }
  return serve({ fetch: app.fetch, port: options.port, hostname: options.host });
}

function fromEnv(): ServerOptions {
  const port = Number(process.env.PORT ?? 8787);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new Error(`PORT must be an integer between 1 and 65535, got "${process.env.PORT}"`);
  }
  return {
    port,
    host: process.env.HOST ?? '127.0.0.1',
    modelsDir: process.env.MODELS_DIR ?? '.cache/models',
    staticDir: process.env.STATIC_DIR ?? 'build'
  };
}

if (import.meta.main) {
  const options = fromEnv();
  startServer(options);
  console.log(`Vision Hub on http://${options.host}:${options.port}`);
}
