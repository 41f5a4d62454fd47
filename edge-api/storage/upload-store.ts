import { createHash, randomUUID } from 'node:crypto';
import type { WritableBlobStore } from './file-store.ts';

/** One resumable upload as it stands: `offset` of its `length` bytes have arrived. */
export interface Upload {
  id: string;
  length: number;
  offset: number;
  /** The media type the client declared (`application/octet-stream` when it did not). */
  contentType: string;
  /** Hex digest of the whole upload, once complete. */
  sha256: string | null;
  createdAt: number;
  /** After this (Unix ms) the upload is gone: `JOB_RETENTION_HOURS` after it was created or completed. */
  expiresAt: number;
}

export type UploadErrorCode = 'upload_offset_mismatch' | 'upload_too_large';

/** A write that does not fit the upload: at another offset than the one reached, or past its length. */
export class UploadError extends Error {
  override name = 'UploadError';
  readonly code: UploadErrorCode;
  /** Where the upload stands, for the client to resume from. */
  readonly offset: number;

  constructor(code: UploadErrorCode, message: string, offset: number) {
    super(message);
    this.code = code;
    this.offset = offset;
  }
}

/** Resumable uploads of large job inputs (video frames, big scans), per tenant, in the artifact store. */
export interface UploadStore {
  /** The most one upload may hold. */
  readonly maxBytes: number;
  /** Starts an empty upload of `length` bytes; throws `upload_too_large` above `maxBytes`. */
  create(tenant: string, declared: { length: number; contentType: string }): Promise<Upload>;
  /** The upload as it stands now; null when there is none (or another tenant's, or expired). */
  get(tenant: string, id: string): Promise<Upload | null>;
  /**
   * The upload once nothing is being written to it; null when there is none (or another tenant's,
   * or expired). A write still running is stopped first, as a new one would stop it: a client
   * asks where to resume because it has given up on that connection.
   */
  settle(tenant: string, id: string): Promise<Upload | null>;
  /**
   * Streams `body` onto the end of the upload, from `offset`, which must be where it stands. What
   * arrives stays, even when the connection drops midway; the upload's sha256 is taken when the
   * last byte lands. Throws an `UploadError` when the bytes do not fit; null when there is none.
   */
  append(tenant: string, id: string, offset: number, body: ReadableStream<Uint8Array>): Promise<Upload | null>;
  /** A complete upload's bytes, for a job to use; null when missing, expired or still incomplete. */
  bytes(tenant: string, id: string): Promise<{ upload: Upload; data: Uint8Array } | null>;
  /** Deletes expired uploads; returns how many went. */
  removeExpired(): Promise<number>;
}

interface Stored {
  id: string;
  length: number;
  content_type: string;
  sha256: string | null;
  created_at: number;
  expires_at: number;
}

const ROOT = 'uploads';

/**
 * Uploads as two blobs under `uploads/{tenant}/{id}/`: `upload.json` (declared length, type,
 * checksum, expiry) and `data`, appended to chunk by chunk; how much has arrived is the size of
 * `data`, so a crash loses nothing that was written. One writer per upload at a time, in this
 * process: a client resuming after a dropped connection stops the write still running for it.
 */
export function uploadStore(store: WritableBlobStore, options: { maxBytes: number; retentionMs: number }): UploadStore {
  const keyOf = (tenant: string, id: string) => `${ROOT}/${tenant}/${id}`;
  const writers = new Map<string, { stop: AbortController; done: Promise<unknown> }>();

  /** Runs `work` once the upload's previous writer stopped, stopping it first; the newest request wins. */
  function exclusive<T>(key: string, work: (stop: AbortSignal) => Promise<T>): Promise<T> {
    const previous = writers.get(key);
    previous?.stop.abort();
    const stop = new AbortController();
    const result = (previous?.done ?? Promise.resolve()).then(() => work(stop.signal));
    const entry = { stop, done: result.catch(() => undefined) };
    writers.set(key, entry);
    return result.finally(() => {
      if (writers.get(key) === entry) {
        writers.delete(key);
      }
    });
  }

  async function load(tenant: string, id: string): Promise<Upload | null> {
    const key = keyOf(tenant, id);
    const [info, data] = await Promise.all([store.head(`${key}/upload.json`), store.head(`${key}/data`)]);
    if (!info || !data) {
      return null;
    }
    const stored = JSON.parse(await new Response(store.read(`${key}/upload.json`, 0, info.size - 1)).text()) as Stored;
    if (stored.expires_at <= Date.now()) {
      return null;
    }
    return {
      id: stored.id,
      length: stored.length,
      offset: data.size,
      contentType: stored.content_type,
      sha256: stored.sha256,
      createdAt: stored.created_at,
      expiresAt: stored.expires_at
    };
  }

  const save = (tenant: string, upload: Upload) =>
    store.write(
      `${keyOf(tenant, upload.id)}/upload.json`,
      JSON.stringify({
        id: upload.id,
        length: upload.length,
        content_type: upload.contentType,
        sha256: upload.sha256,
        created_at: upload.createdAt,
        expires_at: upload.expiresAt
      } satisfies Stored)
    );

  async function sha256Of(key: string, length: number): Promise<string> {
    const hash = createHash('sha256');
    for await (const chunk of store.read(key, 0, length - 1)) {
      hash.update(chunk);
    }
    return hash.digest('hex');
  }

  return {
    maxBytes: options.maxBytes,

    async create(tenant, declared) {
      if (declared.length > options.maxBytes) {
        throw new UploadError(
          'upload_too_large',
          `An upload may hold at most ${options.maxBytes} bytes (UPLOAD_MAX_MB)`,
          0
        );
      }
      const now = Date.now();
      const upload: Upload = {
        id: randomUUID(),
        length: declared.length,
        offset: 0,
        contentType: declared.contentType,
        sha256: null,
        createdAt: now,
        expiresAt: now + options.retentionMs
      };
      // The empty data blob first: an upload without one reads as missing.
      await store.write(`${keyOf(tenant, upload.id)}/data`, new Uint8Array());
      await save(tenant, upload);
      return upload;
    },

    get: load,

    settle(tenant, id) {
      return exclusive(keyOf(tenant, id), () => load(tenant, id));
    },

    append(tenant, id, offset, body) {
      const key = keyOf(tenant, id);
      return exclusive(key, async (stop) => {
        const upload = await load(tenant, id);
        if (!upload) {
          await body.cancel();
          return null;
        }
        if (offset !== upload.offset) {
          await body.cancel();
          throw new UploadError(
            'upload_offset_mismatch',
            `The upload is at byte ${upload.offset}, not ${offset}: resume from there`,
            upload.offset
          );
        }
        const room = upload.length - upload.offset;
        const source = cappedChunks(body, room, stop);
        const size = await store.append(`${key}/data`, source.chunks);
        if (source.overflowed()) {
          throw new UploadError(
            'upload_too_large',
            `The upload is ${upload.length} bytes long (Upload-Length); this chunk goes past its end`,
            size
          );
        }
        if (size < upload.length) {
          return { ...upload, offset: size };
        }
        const now = Date.now();
        const complete: Upload = {
          ...upload,
          offset: size,
          sha256: await sha256Of(`${key}/data`, size),
          expiresAt: now + options.retentionMs
        };
        await save(tenant, complete);
        return complete;
      });
    },

    async bytes(tenant, id) {
      const upload = await load(tenant, id);
      if (!upload?.sha256) {
        return null;
      }
      const data = new Uint8Array(
        await new Response(store.read(`${keyOf(tenant, id)}/data`, 0, upload.length - 1)).arrayBuffer()
      );
      return { upload, data };
    },

    removeExpired() {
      return store.removeOlderThan(ROOT, 2, options.retentionMs);
    }
  };
}

/**
 * The chunks of a request body up to `room` bytes. A body that stops early (the connection
 * dropped, or `stop` took it over) simply ends: what arrived is kept. One that would go past
 * `room` ends before the chunk that overflows, and `overflowed()` says so.
 */
function cappedChunks(body: ReadableStream<Uint8Array>, room: number, stop: AbortSignal) {
  let overflowed = false;
  async function* chunks(): AsyncGenerator<Uint8Array> {
    const reader = body.getReader();
    const cancel = () => void reader.cancel().catch(() => undefined);
    stop.addEventListener('abort', cancel, { once: true });
    let total = 0;
    try {
      for (;;) {
        if (stop.aborted) {
          cancel();
          return;
        }
        const { done, value } = await reader.read().catch(() => ({ done: true as const, value: undefined }));
        if (done) {
          return;
        }
        total += value.byteLength;
        if (total > room) {
          overflowed = true;
          cancel();
          return;
        }
        yield value;
      }
    } finally {
      stop.removeEventListener('abort', cancel);
    }
  }
  return { chunks: chunks(), overflowed: () => overflowed };
}
