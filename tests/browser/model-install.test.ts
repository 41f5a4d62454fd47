import { cdp } from 'vitest/browser';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { selectVariant } from '#lib/core/capabilities.ts';
import type { ModelVariant } from '#lib/core/manifest.ts';
import { MODEL_CACHE_NAME } from '#lib/core/model-cache.ts';
import { db } from '#lib/db/index.ts';
import { detectCapabilities } from '#lib/services/capabilities.service.ts';
import { installModel, uninstallModel, type InstallProgress } from '#lib/services/model-install.service.ts';
import { devModel, mirror, registry, variantOn } from './helpers.ts';

const model = devModel('vision-hub-dev/tiny-moondream');
const variant = variantOn(model, 'wasm');

async function reset(): Promise<void> {
  await caches.delete(MODEL_CACHE_NAME);
  await db.downloadParts.clear();
  await db.models.clear();
}

describe('installModel failures', () => {
  afterEach(async () => {
    await cdp().send('Storage.overrideQuotaForOrigin', { origin: location.origin });
    await reset();
  });

  it('refuses before downloading when the storage quota cannot hold the model', async () => {
    await reset();
    const { quota = 0 } = await navigator.storage.estimate();
    const huge: ModelVariant = { ...variant, bytes: quota * 2 };
    const events: InstallProgress[] = [];
    await expect(installModel(model, huge, mirror, (p) => events.push(p))).rejects.toMatchObject({
      name: 'QuotaError',
      message: expect.stringMatching(/needs .* of storage but only .* is free/)
    });
    expect(events).toHaveLength(0);
    expect(await db.models.count()).toBe(0);
  });

  it('says the device is out of storage when a write fails mid-download, and records no model', async () => {
    await reset();
    const { usage = 0 } = await navigator.storage.estimate();
    // Chromium enforces this on writes (estimate() keeps reporting the real quota).
    await cdp().send('Storage.overrideQuotaForOrigin', { origin: location.origin, quotaSize: usage + 1000 });
    await expect(installModel(model, variant, mirror, () => undefined)).rejects.toMatchObject({
      name: 'QuotaError',
      message: expect.stringContaining('ran out of storage')
    });
    expect(await db.models.count()).toBe(0);
  });

  it('names the missing file when the host answers 404, and records nothing', async () => {
    await reset();
    const missing: ModelVariant = { ...variant, files: [...variant.files, { path: 'onnx/not-there.onnx', size: 10 }] };
    await expect(installModel(model, missing, mirror, () => undefined)).rejects.toMatchObject({
      name: 'DownloadError',
      message: expect.stringContaining('onnx/not-there.onnx was not found on the model host (404)')
    });
    expect(await db.models.count()).toBe(0);
  });

  it('says which host cannot be reached and what to try instead, when a network blocks it', async () => {
    await reset();
    const real = registry.models.find((m) => !m.dev)!;
    // Nothing listens on the discard port: the request fails the way a blocked host does.
    const blocked = 'http://127.0.0.1:9/';
    await expect(installModel(real, variantOn(real, 'wasm'), blocked, () => undefined)).rejects.toMatchObject({
      name: 'DownloadError',
      message:
        "The model host (127.0.0.1:9) can't be reached from this network. Install the small test model to try the app, " +
        'or set a model mirror under Model host on this page.'
    });
    await expect(installModel(model, variant, blocked, () => undefined)).rejects.toMatchObject({
      message: expect.stringContaining("This app's server can't be reached")
    });
    expect(await db.models.count()).toBe(0);
  });

  it('says plainly that nothing downloads while offline', async () => {
    await reset();
    // Emulating the network offline would cut this test runner off from the browser too.
    const onLine = vi.spyOn(navigator, 'onLine', 'get').mockReturnValue(false);
    try {
      await expect(installModel(model, variant, 'http://127.0.0.1:9/', () => undefined)).rejects.toMatchObject({
        name: 'DownloadError',
        message: expect.stringMatching(/^Can't download while offline\./)
      });
    } finally {
      onLine.mockRestore();
    }
  });

  it('discards a file whose sha256 does not match the manifest', async () => {
    await reset();
    const [first, ...rest] = variant.files;
    const tampered: ModelVariant = { ...variant, files: [{ ...first!, sha256: '0'.repeat(64) }, ...rest] };
    await expect(installModel(model, tampered, mirror, () => undefined)).rejects.toMatchObject({
      name: 'IntegrityError'
    });
    expect(await db.downloadParts.count()).toBe(0);
  });

  it('resumes a cancelled download from the bytes already saved', async () => {
    await reset();
    const controller = new AbortController();
    const largest = [...variant.files].sort((a, b) => (b.size ?? 0) - (a.size ?? 0))[0]!;
    const first = installModel(
      model,
      variant,
      mirror,
      (p) => {
        if (p.file === largest.path && p.fileLoaded > 0) {
          controller.abort();
        }
      },
      controller.signal
    );
    await expect(first).rejects.toMatchObject({ name: 'AbortError' });
    const saved = await db.downloadParts.where('url').startsWith(mirror).toArray();
    expect(saved.length).toBeGreaterThan(0);

    const resumedFrom: number[] = [];
    const installed = await installModel(model, variant, mirror, (p) => {
      if (p.file === largest.path) {
        resumedFrom.push(p.fileLoaded);
      }
    });
    expect(resumedFrom[0]).toBeGreaterThan(0);
    expect(installed.files.find((f) => f.path === largest.path)?.sha256).toBe(largest.sha256);
    expect(await db.downloadParts.count()).toBe(0);
  });

  it('uninstall removes the files from the cache and the record', async () => {
    await reset();
    const installed = await installModel(model, variant, mirror, () => undefined);
    await uninstallModel(model, installed);
    expect(await db.models.get(model.id)).toBeUndefined();
    expect(await (await caches.open(MODEL_CACHE_NAME)).keys()).toHaveLength(0);
  });
});

describe('detectCapabilities', () => {
  it("sees that this browser's WebGPU is SwiftShader, and picks WASM for it", async () => {
    // The test browser's adapter reports vendor "google", architecture "swiftshader", isFallbackAdapter true.
    const caps = await detectCapabilities();
    expect(caps).toMatchObject({ webgpu: true, softwareAdapter: true, adapter: 'google swiftshader' });
    expect(selectVariant(model, caps).variant.device).toBe('wasm');
  });
});
