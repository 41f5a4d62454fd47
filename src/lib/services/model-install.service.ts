import { abortError, DownloadError, IntegrityError, isQuotaExceeded, QuotaError } from '#lib/core/errors.ts';
import { formatBytes } from '#lib/core/format.ts';
import { type ModelEntry, type ModelFile, type ModelVariant } from '#lib/core/manifest.ts';
import { MODEL_CACHE_NAME, modelFileUrl } from '#lib/core/model-cache.ts';
import { db, type InstalledModel } from '#lib/db/index.ts';
import { releaseModel } from './model-runtime.service.ts';

export interface InstallProgress {
  file: string;
  fileLoaded: number;
  fileTotal: number;
  loaded: number;
  total: number;
}

/** Unfinished bytes are saved every this many, so a dropped connection loses little. */
const PART_BYTES = 4 * 2 ** 20;
/** Headroom over the model's size, for IndexedDB/Cache bookkeeping. */
const QUOTA_MARGIN = 1.1;

export async function storageEstimate(): Promise<{ usage: number; quota: number; persisted: boolean }> {
  const [estimate, persisted] = await Promise.all([
    navigator.storage?.estimate?.() ?? Promise.resolve({ usage: 0, quota: 0 }),
    navigator.storage?.persisted?.() ?? Promise.resolve(false)
  ]);
  return { usage: estimate.usage ?? 0, quota: estimate.quota ?? 0, persisted };
}

export async function installedModels(): Promise<InstalledModel[]> {
  return db.models.toArray();
}

/**
 * Downloads every file of `variant` into the model cache with progress, resuming unfinished
 * files, verifying size (and sha256 where the manifest pins it), and refusing up front when the
 * storage quota cannot hold what is left to fetch. Already cached files are not fetched again.
 */
export async function installModel(
  model: ModelEntry,
  variant: ModelVariant,
  host: string,
  onProgress: (progress: InstallProgress) => void,
  signal?: AbortSignal
): Promise<InstalledModel> {
  const cache = await caches.open(MODEL_CACHE_NAME);
  const url = (file: ModelFile) => modelFileUrl(host, model.source.repo, model.source.revision, file.path);
  const total = variant.bytes;
  const cachedSizes = new Map<string, number>();
  let savedTotal = 0;
  for (const file of variant.files) {
    const hit = await cache.match(url(file));
    if (hit) {
      cachedSizes.set(file.path, Number(hit.headers.get('content-length') ?? 0));
    } else {
      savedTotal += await savedBytes(url(file));
    }
  }
  let done = [...cachedSizes.values()].reduce((sum, size) => sum + size, 0);
  await ensureRoom(Math.max(0, total - done - savedTotal), model.name);
  await navigator.storage?.persist?.();

  const files: InstalledModel['files'] = [];
  for (const file of variant.files) {
    const cachedSize = cachedSizes.get(file.path);
    if (cachedSize !== undefined) {
      files.push({ path: file.path, size: cachedSize, sha256: file.sha256 ?? '' });
      continue;
    }
    const blob = await downloadFile(
      url(file),
      file,
      signal,
      (fileLoaded, fileTotal) =>
        onProgress({ file: file.path, fileLoaded, fileTotal, loaded: Math.min(total, done + fileLoaded), total }),
      (cause) => unreachable(model, host, cause)
    );
    if (!blob) {
      continue;
    }
    const sha256 = await verify(url(file), file, blob);
    await storeFile(cache, url(file), blob);
    files.push({ path: file.path, size: blob.size, sha256 });
    done += blob.size;
  }
  const installed: InstalledModel = {
    modelId: model.id,
    variantId: variant.id,
    host,
    bytes: done,
    files,
    installedAt: Date.now()
  };
  await db.models.put(installed);
  return installed;
}

/** Removes a model's files and record; a worker that holds it lets it go first. */
export async function uninstallModel(model: ModelEntry, installed: InstalledModel): Promise<void> {
  releaseModel(model.id);
  const cache = await caches.open(MODEL_CACHE_NAME);
  const urls = installed.files.map((f) =>
    modelFileUrl(installed.host, model.source.repo, model.source.revision, f.path)
  );
  await Promise.all(urls.map((u) => cache.delete(u)));
  await db.transaction('rw', db.models, db.downloadParts, async () => {
    await db.models.delete(model.id);
    await db.downloadParts.where('url').anyOf(urls).delete();
  });
}

/**
 * Why no answer came, with what to do: on a first run offline or behind a filter that blocks the
 * model host, "Network error" would leave the user with nothing to try.
 */
function unreachable(model: ModelEntry, host: string, cause: unknown): DownloadError {
  if (!navigator.onLine) {
    return new DownloadError(
      "Can't download while offline. Connect to a network and press Install again; the download resumes where it stopped.",
      { cause }
    );
  }
  if (model.dev) {
    return new DownloadError("This app's server can't be reached, so the test model can't download. Try again later.", {
      cause
    });
  }
  return new DownloadError(
    `The model host (${new URL(host).host}) can't be reached from this network. Install the small test model ` +
      'to try the app, or set a model mirror under Model host on this page.',
    { cause }
  );
}

async function ensureRoom(bytes: number, name: string): Promise<void> {
  const { usage, quota } = await storageEstimate();
  if (quota > 0 && bytes * QUOTA_MARGIN > quota - usage) {
    throw new QuotaError(
      `${name} needs ${formatBytes(bytes * QUOTA_MARGIN)} of storage but only ${formatBytes(Math.max(0, quota - usage))} ` +
        'is free for this app. Remove other models or free space on the device, then try again.'
    );
  }
}

async function savedBytes(url: string): Promise<number> {
  const parts = await db.downloadParts.where('url').equals(url).toArray();
  return parts.reduce((sum, p) => sum + p.data.size, 0);
}

async function downloadFile(
  url: string,
  file: ModelFile,
  signal: AbortSignal | undefined,
  onBytes: (loaded: number, total: number) => void,
  unreachable: (cause: unknown) => DownloadError
): Promise<Blob | null> {
  const parts = await db.downloadParts.where('url').equals(url).sortBy('offset');
  let offset = parts.reduce((sum, p) => sum + p.data.size, 0);
  const etag = parts[0]?.etag ?? null;
  const headers: Record<string, string> = {};
  if (offset > 0) {
    headers.range = `bytes=${offset}-`;
    if (etag) {
      headers['if-range'] = etag;
    }
  }
  let response: Response;
  try {
    response = await fetch(url, { headers, signal, cache: 'no-store' });
  } catch (error) {
    throw signal?.aborted ? abortError('Download paused; it resumes where it stopped') : unreachable(error);
  }
  if (response.status === 416 && offset > 0) {
    // Every byte was saved before the file reached the cache.
    onBytes(offset, offset);
    return savedFile(url);
  }
  if (response.status === 404) {
    if (file.optional) {
      return null;
    }
    throw new DownloadError(`${file.path} was not found on the model host (404). Check the model host in Settings.`);
  }
  if (!response.ok) {
    throw new DownloadError(`Downloading ${file.path} failed: HTTP ${response.status}`);
  }
  if (response.headers.get('content-type')?.includes('text/html')) {
    throw new DownloadError(`The model host answered ${file.path} with a web page, not a model file.`);
  }
  if (response.status !== 206 && parts.length > 0) {
    // The host ignored the range or the file changed: start over.
    await db.downloadParts.where('url').equals(url).delete();
    parts.length = 0;
    offset = 0;
  }
  const fileTotal = file.size ?? offset + Number(response.headers.get('content-length') ?? 0);
  const responseEtag = response.headers.get('etag');
  const reader = response.body?.getReader();
  if (!reader) {
    throw new DownloadError(`Empty response for ${file.path}`);
  }
  let pending: Uint8Array[] = [];
  let pendingSize = 0;
  const flush = async () => {
    if (pendingSize === 0) {
      return;
    }
    const data = new Blob(pending as BlobPart[]);
    await db.downloadParts.put({ url, offset, data, etag: responseEtag });
    offset += data.size;
    pending = [];
    pendingSize = 0;
  };
  onBytes(offset, fileTotal);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        break;
      }
      pending.push(value);
      pendingSize += value.byteLength;
      onBytes(offset + pendingSize, fileTotal);
      signal?.throwIfAborted();
      if (pendingSize >= PART_BYTES) {
        await flush();
      }
    }
    await flush();
  } catch (error) {
    await flush().catch(() => undefined);
    // Only our own signal means "paused": IndexedDB reports a full disk as an aborted transaction too.
    if (signal?.aborted) {
      throw abortError('Download paused; it resumes where it stopped');
    }
    if (isQuotaExceeded(error)) {
      throw outOfStorage(error);
    }
    throw new DownloadError(`The connection dropped while downloading ${file.path}; it resumes where it stopped`, {
      cause: error
    });
  }
  return savedFile(url);
}

/**
 * The downloaded file as one Blob over the parts IndexedDB holds on disk. Holding the parts in
 * memory instead runs Chromium out of blob memory on files of a few hundred megabytes.
 */
async function savedFile(url: string): Promise<Blob> {
  const parts = await db.downloadParts.where('url').equals(url).sortBy('offset');
  return new Blob(parts.map((p) => p.data));
}

async function verify(url: string, file: ModelFile, blob: Blob): Promise<string> {
  const fail = async (message: string) => {
    await db.downloadParts.where('url').equals(url).delete();
    return new IntegrityError(message);
  };
  if (file.size !== undefined && blob.size !== file.size) {
    throw await fail(`${file.path} has ${blob.size} bytes, expected ${file.size}; the download was discarded.`);
  }
  const sha256 = await sha256Hex(blob);
  if (file.sha256 && sha256 !== file.sha256) {
    throw await fail(`${file.path} is corrupt (sha256 mismatch); the download was discarded.`);
  }
  return sha256;
}

async function storeFile(cache: Cache, url: string, blob: Blob): Promise<void> {
  try {
    await cache.put(url, new Response(blob, { headers: { 'content-length': String(blob.size) } }));
  } catch (error) {
    throw isQuotaExceeded(error) ? outOfStorage(error) : error;
  }
  await db.downloadParts.where('url').equals(url).delete();
}

function outOfStorage(cause: unknown): QuotaError {
  return new QuotaError(
    'The device ran out of storage while saving the model. Free some space (or remove other models) and try again; ' +
      'the download resumes where it stopped.',
    { cause }
  );
}

/** SHA-256 of a blob read as a stream: WebCrypto would need the whole file in memory at once. */
async function sha256Hex(blob: Blob): Promise<string> {
  // Loaded with the first download, not with every page that lists models.
  const [{ sha256 }, { bytesToHex }] = await Promise.all([
    import('@noble/hashes/sha2.js'),
    import('@noble/hashes/utils.js')
  ]);
  const hash = sha256.create();
  const reader = blob.stream().getReader();
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
    hash.update(chunk.value);
  }
  return bytesToHex(hash.digest());
}
