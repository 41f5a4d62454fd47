/**
 * Model files live in their own Cache Storage cache, never in the versioned app-shell cache,
 * so app updates keep them. Keys are the URLs transformers.js would fetch, so the runtime
 * finds installed files without any network.
 */
export const MODEL_CACHE_NAME = 'vision-hub-models';

/** `{host}{repo}/resolve/{revision}/{path}`: the Hugging Face layout our mirror also serves. */
export function modelFileUrl(host: string, repo: string, revision: string, path: string): string {
  const base = host.endsWith('/') ? host : `${host}/`;
  return `${base}${repo}/resolve/${encodeURIComponent(revision)}/${path}`;
}
