import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import { Readable } from 'node:stream';

/** What the routes need from storage; Node's filesystem is one adapter, object storage another. */
export interface BlobStore {
  /** Size and modification time, or null when the key does not exist. */
  head(key: string): Promise<{ size: number; mtimeMs: number } | null>;
  /** Bytes [start, end] inclusive. */
  read(key: string, start: number, end: number): ReadableStream<Uint8Array>;
}

export function fileStore(root: string): BlobStore {
  const base = resolve(root);
  const pathOf = (key: string): string | null => {
    const full = resolve(base, key);
    // Keys come from URLs: anything escaping the root is treated as missing.
    return full.startsWith(base + sep) ? full : null;
  };
  return {
    async head(key) {
      const path = pathOf(key);
      if (!path) {
        return null;
      }
      try {
        const info = await stat(path);
        return info.isFile() ? { size: info.size, mtimeMs: info.mtimeMs } : null;
      } catch {
        return null;
      }
    },
    read(key, start, end) {
      const path = pathOf(key);
      if (!path) {
        throw new Error(`Invalid key ${key}`);
      }
      return Readable.toWeb(createReadStream(path, { start, end })) as ReadableStream<Uint8Array>;
    }
  };
}
