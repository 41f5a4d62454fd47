import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** What the routes need to read from storage; Node's filesystem is one adapter, object storage another. */
export interface BlobStore {
  /** Size and modification time, or null when the key does not exist. */
  head(key: string): Promise<{ size: number; mtimeMs: number } | null>;
  /** Bytes [start, end] inclusive. */
  read(key: string, start: number, end: number): ReadableStream<Uint8Array>;
}

/** A store jobs also write to: their artifacts (reports, generated images). */
export interface WritableBlobStore extends BlobStore {
  /** Writes the whole blob; readers never see a half-written one. */
  write(key: string, data: Uint8Array | string): Promise<void>;
  /**
   * Appends the bytes of `source` to the blob (creating it) as they arrive, never holding more
   * than a chunk; resolves to the blob's size after. Bytes written before a failure stay.
   */
  append(key: string, source: AsyncIterable<Uint8Array>): Promise<number>;
  /** Names and sizes of the blobs directly under `prefix` (a folder-like key ending without `/`). */
  list(prefix: string): Promise<{ name: string; size: number }[]>;
  /**
   * Deletes the entries `depth` levels below `prefix` (`jobs/{tenant}/{job}` is depth 2 under
   * `jobs`) last changed more than `maxAgeMs` ago; returns how many went.
   */
  removeOlderThan(prefix: string, depth: number, maxAgeMs: number): Promise<number>;
}

export function fileStore(root: string): WritableBlobStore {
  const base = resolve(root);
  const pathOf = (key: string): string | null => {
    const full = resolve(base, key);
    // Keys come from URLs: anything escaping the root is treated as missing.
    return full.startsWith(base + sep) ? full : null;
  };
  const mustPath = (key: string): string => {
    const path = pathOf(key);
    if (!path) {
      throw new Error(`Invalid key ${key}`);
    }
    return path;
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
      return Readable.toWeb(createReadStream(mustPath(key), { start, end })) as ReadableStream<Uint8Array>;
    },
    async write(key, data) {
      const path = mustPath(key);
      await mkdir(dirname(path), { recursive: true });
      // Written beside and renamed: a crash mid-write leaves a temp file, never a truncated blob.
      const partial = `${path}.${process.pid}.partial`;
      await writeFile(partial, data);
      await rename(partial, path);
    },
    async append(key, source) {
      const path = mustPath(key);
      await mkdir(dirname(path), { recursive: true });
      await pipeline(source, createWriteStream(path, { flags: 'a' }));
      return (await stat(path)).size;
    },
    async list(prefix) {
      const dir = pathOf(prefix);
      if (!dir) {
        return [];
      }
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
      const files = entries.filter((entry) => entry.isFile() && !entry.name.endsWith('.partial'));
      return Promise.all(
        files.map(async (entry) => ({ name: entry.name, size: (await stat(join(dir, entry.name))).size }))
      );
    },
    async removeOlderThan(prefix, depth, maxAgeMs) {
      const cutoff = Date.now() - maxAgeMs;
      const sweep = async (dir: string, level: number): Promise<number> => {
        const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
        let removed = 0;
        for (const entry of entries) {
          const path = join(dir, entry.name);
          if (level < depth) {
            removed += entry.isDirectory() ? await sweep(path, level + 1) : 0;
          } else if ((await stat(path)).mtimeMs < cutoff) {
            await rm(path, { recursive: true, force: true });
            removed += 1;
          }
        }
        return removed;
      };
      return sweep(mustPath(prefix), 1);
    }
  };
}
