/// <reference types="@sveltejs/kit" />
/// <reference no-default-lib="true"/>
/// <reference lib="esnext" />
/// <reference lib="webworker" />
import { version } from '$app/env';
import { assets, immutable, prerendered } from '$app/manifest';
import { ORT_RUNTIME_PATH } from '#lib/core/ort-runtime.ts';

/** onnxruntime-web's version, set by vite.config.ts (`define`). */
declare const __ORT_VERSION__: string;

const sw = self as unknown as ServiceWorkerGlobalScope;
/** Versioned: each deploy gets a fresh shell cache and the old one is deleted on activate. */
const SHELL_CACHE = `shell-${version}`;
/** Model files sit in their own long-lived cache (see model-cache.ts); never touched here. */
/** The ONNX runtime outlives app versions: its cache changes only with onnxruntime-web's version. */
const ORT_CACHE = `ort-${__ORT_VERSION__}`;
const SHELL = [...immutable, ...assets, ...prerendered].map((entry) => `/${entry.path.replace(/^\//, '')}`);

sw.addEventListener('install', (event) => {
  event.waitUntil(caches.open(SHELL_CACHE).then((cache) => cache.addAll(SHELL)));
});

sw.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) =>
        Promise.all(
          keys
            .filter((k) => (k.startsWith('shell-') || k.startsWith('ort-')) && k !== SHELL_CACHE && k !== ORT_CACHE)
            .map((k) => caches.delete(k))
        )
      )
      .then(() => sw.clients.claim())
  );
});

sw.addEventListener('message', (event) => {
  if ((event.data as { type?: string } | null)?.type === 'SKIP_WAITING') {
    void sw.skipWaiting();
  }
});

sw.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== location.origin || url.pathname.startsWith('/models/')) {
    return;
  }
  event.respondWith(respond(event.request, url));
});

async function respond(request: Request, url: URL): Promise<Response> {
  const cache = await caches.open(SHELL_CACHE);
  const shellHit = SHELL.includes(url.pathname) ? await cache.match(url.pathname) : undefined;
  if (shellHit) {
    return shellHit;
  }
  // The ONNX runtime (~27 MB) is cached on first use rather than precached for every visitor.
  if (url.pathname.startsWith(ORT_RUNTIME_PATH)) {
    const ort = await caches.open(ORT_CACHE);
    const hit = await ort.match(url.pathname);
    if (hit) {
      return hit;
    }
    const response = await fetch(request);
    if (response.ok) {
      await ort.put(url.pathname, response.clone());
    }
    return response;
  }
  try {
    return await fetch(request);
  } catch (error) {
    if (request.mode === 'navigate') {
      const page = (await cache.match(url.pathname)) ?? (await cache.match('/'));
      if (page) {
        return page;
      }
    }
    throw error;
  }
}
