import { createHash } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** One file of a model repo; built only when it is written, so large graphs are never all in memory at once. */
export interface RepoFile {
  path: string;
  build: () => Uint8Array;
}

/** What models-manifest.json pins for one file. */
export interface GeneratedFile {
  path: string;
  size: number;
  sha256: string;
}

export interface GeneratedRepo {
  repo: string;
  files: GeneratedFile[];
}

export function jsonFile(path: string, value: unknown): RepoFile {
  return { path, build: () => Buffer.from(`${JSON.stringify(value, null, 2)}\n`) };
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

async function existingHash(path: string, size: number): Promise<string | null> {
  try {
    return (await stat(path)).size === size ? sha256(await readFile(path)) : null;
  } catch {
    return null;
  }
}

/**
 * Writes `files` under `outDir/repo` in the Hugging Face layout, leaving files whose bytes are
 * already identical untouched (so re-runs neither churn mtimes nor invalidate caches).
 */
export async function writeRepo(outDir: string, repo: string, files: readonly RepoFile[]): Promise<GeneratedRepo> {
  const generated: GeneratedFile[] = [];
  for (const file of files) {
    const content = file.build();
    const hash = sha256(content);
    const target = join(outDir, repo, file.path);
    if ((await existingHash(target, content.byteLength)) !== hash) {
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, content);
    }
    generated.push({ path: file.path, size: content.byteLength, sha256: hash });
  }
  generated.sort((a, b) => (a.path < b.path ? -1 : 1));
  return { repo, files: generated };
}
