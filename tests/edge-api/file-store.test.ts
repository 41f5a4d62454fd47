import { mkdtempSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileStore } from '../../edge-api/storage/file-store.ts';

const text = async (stream: ReadableStream<Uint8Array>) => new Response(stream).text();

describe('file store (job artifacts)', () => {
  it('writes, lists and reads ranges', async () => {
    const store = fileStore(mkdtempSync(join(tmpdir(), 'store-')));
    await store.write('jobs/t/1/report.md', '# Report');
    await store.write('jobs/t/1/image.png', new Uint8Array([1, 2, 3]));
    expect((await store.list('jobs/t/1')).sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { name: 'image.png', size: 3 },
      { name: 'report.md', size: 8 }
    ]);
    expect(await text(store.read('jobs/t/1/report.md', 2, 7))).toBe('Report');
    expect(await store.list('jobs/t/2')).toEqual([]);
    expect(await store.head('jobs/t/1/missing.md')).toBeNull();
  });

  it('refuses keys that climb out of its folder', async () => {
    const store = fileStore(mkdtempSync(join(tmpdir(), 'store-')));
    expect(await store.head('../etc/passwd')).toBeNull();
    await expect(store.write('../outside.txt', 'x')).rejects.toThrow(/Invalid key/);
  });

  it('sweeps job folders older than the retention, keeping recent ones', async () => {
    const root = mkdtempSync(join(tmpdir(), 'store-'));
    const store = fileStore(root);
    await store.write('jobs/a/old/report.md', 'old');
    await store.write('jobs/a/new/report.md', 'new');
    await store.write('jobs/b/old/report.md', 'old');
    const twoDaysAgo = new Date(Date.now() - 48 * 3_600_000);
    utimesSync(join(root, 'jobs/a/old'), twoDaysAgo, twoDaysAgo);
    utimesSync(join(root, 'jobs/b/old'), twoDaysAgo, twoDaysAgo);
    expect(await store.removeOlderThan('jobs', 2, 24 * 3_600_000)).toBe(2);
    expect(await store.head('jobs/a/new/report.md')).not.toBeNull();
    expect(await store.head('jobs/a/old/report.md')).toBeNull();
    expect(await store.head('jobs/b/old/report.md')).toBeNull();
  });
});
