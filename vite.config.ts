import { readFileSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, constants as zlib, gzip } from 'node:zlib';
import { getRequestListener } from '@hono/node-server';
import adapter from '@sveltejs/adapter-static';
import { sveltekit } from '@sveltejs/kit/vite';
import { playwright } from '@vitest/browser-playwright';
import { Hono } from 'hono';
import type { Plugin } from 'vite';
import { defineConfig } from 'vitest/config';
import { modelMirror } from './edge-api/routes/models.ts';
import { fileStore } from './edge-api/storage/file-store.ts';
import { ORT_RUNTIME_FILES, ORT_RUNTIME_PATH } from './src/lib/core/ort-runtime.ts';
import { chromiumArgs, findChromium } from './scripts/chromium.ts';

const require = createRequire(import.meta.url);
const ortDist = dirname(require.resolve('onnxruntime-web'));
const ortVersion = (JSON.parse(readFileSync(join(ortDist, '../package.json'), 'utf8')) as { version: string }).version;

/**
 * Serves onnxruntime-web's WASM runtime from the app itself (never a CDN, so offline works)
 * and, in dev/test, the model mirror over the generated tiny models.
 */
function onDeviceRuntime(): Plugin {
  const models = getRequestListener(
    new Hono().route('/models', modelMirror(fileStore(process.env.MODELS_DIR ?? '.cache/models'))).fetch
  );
  return {
    name: 'vision-hub-on-device-runtime',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const url = req.url ?? '';
        if (url.startsWith('/models/')) {
          void models(req, res);
          return;
        }
        const file = ORT_RUNTIME_FILES.find((name) => url.split('?')[0] === `${ORT_RUNTIME_PATH}${name}`);
        if (file) {
          res.setHeader('content-type', file.endsWith('.wasm') ? 'application/wasm' : 'text/javascript');
          res.end(readFileSync(join(ortDist, file)));
          return;
        }
        next();
      });
    },
    generateBundle() {
      if (this.environment.name !== 'client') {
        return;
      }
      for (const name of ORT_RUNTIME_FILES) {
        this.emitFile({
          type: 'asset',
          fileName: `${ORT_RUNTIME_PATH.slice(1)}${name}`,
          source: readFileSync(join(ortDist, name))
        });
      }
    }
  };
}

/** Where adapter-static writes the site, and what the edge API serves as `STATIC_DIR`. */
const BUILD_DIR = 'build';

/** Formats that are compressed already: compressing them again only costs build time. */
const INCOMPRESSIBLE = /\.(?:png|jpe?g|webp|avif|gif|woff2?|br|gz|zip)$/;
/**
 * Above this, top compression costs far more than it saves: the 27 MB ORT .wasm (twice in the
 * build) takes 60 s at brotli 11 against 4.0 s at 9 for 15 % more bytes, and gzip 9 1.6 s against
 * 0.6 s at 6 for 1 %. Still worth it at the lower levels: 26.9 MB → 4.7 MB brotli on a first model use.
 */
const LARGE_FILE = 4 * 1024 * 1024;

/**
 * Writes `file.br` and `file.gz` beside every file of the finished site, for the edge API to send
 * by `Accept-Encoding` (edge-api/http/serve-app.ts), and keeps only those that shrink the file.
 * node:zlib has brotli and gzip built in, so no plugin dependency is needed; its async calls
 * run on libuv's thread pool, so both cores work. Runs after SvelteKit's adapter (`buildApp`,
 * order `post`, listed after it), when prerendered pages and the service worker are on disk.
 */
function precompress(): Plugin {
  const brotli = promisify(brotliCompress);
  const gz = promisify(gzip);
  return {
    name: 'vision-hub-precompress',
    apply: 'build',
    buildApp: {
      order: 'post',
      async handler() {
        const started = performance.now();
        const files = (await readdir(BUILD_DIR, { recursive: true, withFileTypes: true }))
          .filter((entry) => entry.isFile() && !INCOMPRESSIBLE.test(entry.name))
          .map((entry) => join(entry.parentPath, entry.name));
        let before = 0;
        let after = 0;
        await Promise.all(
          files.map(async (file) => {
            const source = await readFile(file);
            const large = source.length > LARGE_FILE;
            const quality = large ? 9 : zlib.BROTLI_MAX_QUALITY;
            const [br, gzipped] = await Promise.all([
              brotli(source, {
                params: { [zlib.BROTLI_PARAM_QUALITY]: quality, [zlib.BROTLI_PARAM_SIZE_HINT]: source.length }
              }),
              gz(source, { level: large ? 6 : zlib.Z_BEST_COMPRESSION })
            ]);
            before += source.length;
            after += Math.min(source.length, br.length);
            await Promise.all([
              br.length < source.length && writeFile(`${file}.br`, br),
              gzipped.length < source.length && writeFile(`${file}.gz`, gzipped)
            ]);
          })
        );
        const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        console.log(`Precompressed ${files.length} files: ${mb(before)} MB → ${mb(after)} MB brotli in ${seconds} s`);
      }
    }
  };
}

/**
 * A fresh object per project: Vitest writes the project name into it. `persistentContext` gives
 * an on-disk profile like a real user's: incognito contexts refuse Cache API entries over ~256 MB.
 */
const browser = (options: { persistentContext?: string } = {}) => ({
  enabled: true,
  headless: true,
  provider: playwright({
    launchOptions: { executablePath: findChromium(), args: chromiumArgs },
    persistentContext: options.persistentContext
  }),
  instances: [{ browser: 'chromium' as const }]
});

/**
 * The build's version (SvelteKit's default, the build time), also compiled in as
 * `__APP_VERSION__`: `$app/env`'s copy is read when its module runs, and in the shell chunk that
 * is before SvelteKit has set it.
 */
const APP_VERSION = Date.now().toString();

/** SvelteKit 3 takes its configuration here; it no longer reads svelte.config.js. */
const kit = sveltekit({
  compilerOptions: { runes: true },
  // Prerendered shell per route + SPA fallback, so any static host (or edge-api) serves it.
  adapter: adapter({ pages: BUILD_DIR, assets: BUILD_DIR, fallback: '200.html', strict: true }),
  // Registered by workbox-window in the app so we can prompt when an update is waiting.
  serviceWorker: { register: false },
  version: { name: APP_VERSION },
  // Every page's CSS (the app's 9 KB and the page's own) goes in its HTML: on slow 4G each
  // render-blocking stylesheet costs a round trip before the first paint.
  inlineStyleThreshold: 16 * 1024,
  csp: {
    mode: 'hash',
    directives: {
      'default-src': ['self'],
      'script-src': ['self', 'wasm-unsafe-eval'],
      'worker-src': ['self', 'blob:'],
      'style-src': ['self', 'unsafe-inline'],
      'img-src': ['self', 'data:', 'blob:'],
      'media-src': ['self', 'blob:', 'mediastream:'],
      // Models come from Hugging Face or any https mirror the user sets; scripts stay 'self' only.
      'connect-src': ['self', 'https:'],
      'object-src': ['none'],
      'base-uri': ['self'],
      'form-action': ['self']
    }
  }
});

export default defineConfig({
  plugins: [kit, onDeviceRuntime(), precompress()],
  // The service worker caches the ORT runtime per version, so app updates keep the 27 MB download.
  define: { __ORT_VERSION__: JSON.stringify(ortVersion), __APP_VERSION__: JSON.stringify(APP_VERSION) },
  worker: { format: 'es' },
  environments: {
    client: {
      build: {
        rolldownOptions: {
          output: {
            codeSplitting: {
              groups: [
                {
                  // What every page runs (the layout, its stores and services, Dexie, Svelte and
                  // SvelteKit's runtime) in one file: split by sharing, it came as ~20 files of 1-5 KB,
                  // each a request queued behind six HTTP/1.1 connections and main-thread time to start.
                  name: 'shell',
                  test: /[\\/]src[\\/]routes[\\/]\+layout\.svelte$/
                }
              ]
            }
          }
        }
      }
    }
  },
  // Pre-bundled up front: a dependency first discovered mid-run (the worker's transformers.js)
  // makes Vite reload the page, which kills a running browser test.
  optimizeDeps: {
    include: [
      '@huggingface/transformers',
      '@noble/hashes/sha2.js',
      '@noble/hashes/utils.js',
      'comlink',
      'dexie',
      'pitchy',
      'unpdf',
      'workbox-window',
      'zod/mini'
    ]
  },
  server: {
    headers: {
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-embedder-policy': 'require-corp'
    }
  },
  test: {
    projects: [
      {
        extends: true,
        test: { name: 'unit', environment: 'node', include: ['tests/unit/**/*.test.ts', 'tests/edge-api/**/*.test.ts'] }
      },
      {
        extends: true,
        test: {
          name: 'browser',
          include: ['tests/browser/**/*.test.ts'],
          browser: browser(),
          testTimeout: 60_000,
          // A real edge API for the edge client and outbox tests.
          globalSetup: ['tests/browser/edge-server.setup.ts']
        }
      },
      {
        extends: true,
        // Run by `npm run bench` only: timings are reported, never asserted.
        test: {
          name: 'bench',
          include: ['tests/bench/**/*.bench.test.ts'],
          browser: browser({ persistentContext: '.cache/bench-profile' }),
          testTimeout: 600_000,
          // One at a time: both install the same 1 GB model, and parallel runs would skew the timings.
          fileParallelism: false
        }
      }
    ]
  }
});
