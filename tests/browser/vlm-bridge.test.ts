import { cdp } from 'vitest/browser';
import { beforeAll, describe, expect, it } from 'vitest';
import { MODEL_CACHE_NAME, modelFileUrl } from '#lib/core/model-cache.ts';
import type { LoadProgress } from '#lib/core/engine-types.ts';
import { installModel, type InstallProgress } from '#lib/services/model-install.service.ts';
import { VlmBridge } from '#lib/workers/vlm-bridge.ts';
import { devModel, loadRequest, mirror, testFrame, variantOn } from './helpers.ts';

const smolvlm = devModel('vision-hub-dev/tiny-smolvlm');
const generateOptions = { maxNewTokens: 8 };

describe('model install', () => {
  it('downloads every file with per-file and total progress, then verifies it', async () => {
    await caches.delete(MODEL_CACHE_NAME);
    const variant = variantOn(smolvlm, 'wasm');
    const events: InstallProgress[] = [];
    const installed = await installModel(smolvlm, variant, mirror, (p) => events.push(p));

    expect(installed.files.map((f) => f.path).sort()).toEqual(variant.files.map((f) => f.path).sort());
    expect(installed.files.map((f) => f.sha256)).toEqual(variant.files.map((f) => f.sha256));
    const totals = events.map((e) => e.loaded);
    expect(totals).toEqual([...totals].sort((a, b) => a - b));
    expect(events.at(-1)).toMatchObject({ loaded: variant.bytes, total: variant.bytes });
    expect(new Set(events.map((e) => e.file)).size).toBe(variant.files.length);
    for (const file of variant.files) {
      const url = modelFileUrl(mirror, smolvlm.source.repo, smolvlm.source.revision, file.path);
      expect(await (await caches.open(MODEL_CACHE_NAME)).match(url), file.path).toBeDefined();
    }
  });
});

describe('VlmBridge', () => {
  beforeAll(async () => {
    await installModel(smolvlm, variantOn(smolvlm, 'wasm'), mirror, () => undefined);
  });

  it('loads on WASM with progress and streams an answer token by token', async () => {
    const bridge = new VlmBridge();
    const progress: LoadProgress[] = [];
    const { request } = await bridge.load(loadRequest(smolvlm, 'wasm'), (p) => progress.push(p));
    expect(request.device).toBe('wasm');
    expect(progress.length).toBeGreaterThan(0);

    const tokens: string[] = [];
    const stats = await bridge.generate(await testFrame(), 'What do you see?', generateOptions, (t) => tokens.push(t));
    expect(tokens.length).toBeGreaterThan(0);
    expect(stats.text).toBe(tokens.join('').trim());
    expect(stats.tokens).toBeGreaterThan(0);
    expect(stats.timeToFirstTokenMs).toBeGreaterThan(0);
    expect(stats.device).toBe('wasm');
    bridge.dispose();
  });

  it('loads on WebGPU when the browser has an adapter', async () => {
    const adapter = await navigator.gpu?.requestAdapter();
    expect(adapter, 'Chromium runs with --enable-unsafe-webgpu in these tests').toBeTruthy();
    const bridge = new VlmBridge();
    const { request } = await bridge.load(loadRequest(smolvlm, 'webgpu'), () => undefined);
    expect(request.device).toBe('webgpu');
    const stats = await bridge.generate(await testFrame(), 'Read the text', generateOptions, () => undefined);
    expect(stats.device).toBe('webgpu');
    expect(stats.tokens).toBeGreaterThan(0);
    bridge.dispose();
  });

  it('stops mid-generation on abort and returns the partial answer', async () => {
    const bridge = new VlmBridge();
    await bridge.load(loadRequest(smolvlm, 'wasm'), () => undefined);
    const controller = new AbortController();
    let seen = 0;
    const stats = await bridge.generate(
      await testFrame(),
      'What do you see?',
      { ...generateOptions, maxNewTokens: 200 },
      () => {
        seen += 1;
        if (seen === 2) {
          controller.abort();
        }
      },
      controller.signal
    );
    expect(stats.aborted).toBe(true);
    expect(stats.tokens).toBeLessThan(200);
    expect(stats.tokens).toBeGreaterThanOrEqual(2);
    bridge.dispose();
  });

  it('rejects the pending call when the worker crashes, and works again after a respawn', async () => {
    const workers: Worker[] = [];
    const bridge = new VlmBridge({
      factory: () => {
        const worker = new Worker(new URL('./fixtures/crashable-vlm.worker.ts', import.meta.url), { type: 'module' });
        workers.push(worker);
        return worker;
      }
    });
    await bridge.load(loadRequest(smolvlm, 'wasm'), () => undefined);
    const pending = bridge.generate(
      await testFrame(),
      'What do you see?',
      { ...generateOptions, maxNewTokens: 200 },
      () => workers[0]!.postMessage('crash')
    );
    await expect(pending).rejects.toMatchObject({ name: 'WorkerCrashError' });
    expect(bridge.loaded).toBeNull();

    await bridge.load(loadRequest(smolvlm, 'wasm'), () => undefined);
    expect(workers).toHaveLength(2);
    const stats = await bridge.generate(await testFrame(), 'What do you see?', generateOptions, () => undefined);
    expect(stats.tokens).toBeGreaterThan(0);
    bridge.dispose();
  });

  it('gives a clear error for a model file that is a web page, and the next load still works', async () => {
    const brokenHost = await cacheWithHtmlDecoder();
    const bridge = new VlmBridge();
    await expect(bridge.load(loadRequest(smolvlm, 'wasm', brokenHost), () => undefined)).rejects.toMatchObject({
      name: 'ModelLoadError',
      message: expect.stringContaining(`Could not load ${smolvlm.id} on wasm`)
    });
    expect(bridge.loaded).toBeNull();

    await bridge.load(loadRequest(smolvlm, 'wasm'), () => undefined);
    const stats = await bridge.generate(await testFrame(), 'What do you see?', generateOptions, () => undefined);
    expect(stats.tokens).toBeGreaterThan(0);
    bridge.dispose();
  });

  it('moves to a fresh WASM worker when WebGPU fails to load, and says why', async () => {
    const workers: Worker[] = [];
    const reasons: string[] = [];
    const bridge = new VlmBridge({
      factory: () => {
        const worker = new Worker(new URL('../../workers/vlm.worker.ts', import.meta.url), { type: 'module' });
        workers.push(worker);
        return worker;
      },
      events: { onFallback: (reason) => reasons.push(reason) }
    });
    const failingOnGpu = loadRequest(smolvlm, 'webgpu', await cacheWithHtmlDecoder());
    const { request } = await bridge.load(failingOnGpu, () => undefined, loadRequest(smolvlm, 'wasm'));
    expect(request.device).toBe('wasm');
    expect(workers).toHaveLength(2);
    expect(reasons).toEqual([expect.stringMatching(/^WebGPU could not load the model .*using WASM instead\.$/)]);
    const stats = await bridge.generate(await testFrame(), 'What do you see?', generateOptions, () => undefined);
    expect(stats.device).toBe('wasm');
    bridge.dispose();
  });

  it('on a lost GPU, fails the running answer, says so, and the WASM reload works', async () => {
    const reasons: string[] = [];
    const bridge = new VlmBridge({ events: { onFallback: (reason) => reasons.push(reason) } });
    await bridge.load(loadRequest(smolvlm, 'webgpu'), () => undefined);
    let crashed = false;
    const pending = bridge.generate(
      await testFrame(),
      'What do you see?',
      { ...generateOptions, maxNewTokens: 500 },
      () => {
        if (!crashed) {
          crashed = true;
          // A real GPU process crash, as a driver reset or an out-of-memory kill causes.
          void cdp().send('Browser.crashGpuProcess');
        }
      }
    );
    await expect(pending).rejects.toMatchObject({ name: 'DeviceLostError' });
    expect(reasons).toEqual([expect.stringMatching(/^The GPU was lost .*reloaded on WASM\.$/)]);
    expect(bridge.loaded).toBeNull();

    await bridge.load(loadRequest(smolvlm, 'wasm'), () => undefined);
    const stats = await bridge.generate(await testFrame(), 'What do you see?', generateOptions, () => undefined);
    expect(stats.device).toBe('wasm');
    bridge.dispose();
  });

  it('runs moondream (no chat template: one <image> token per image feature)', async () => {
    const moondream = devModel('vision-hub-dev/tiny-moondream');
    await installModel(moondream, variantOn(moondream, 'wasm'), mirror, () => undefined);
    const bridge = new VlmBridge();
    await bridge.load(loadRequest(moondream, 'wasm'), () => undefined);
    const tokens: string[] = [];
    for (const frame of [await testFrame(), await testFrame(90, 300)]) {
      const stats = await bridge.generate(frame, 'What do you see?', generateOptions, (t) => tokens.push(t));
      expect(stats.tokens).toBeGreaterThan(0);
      expect(stats.visionMs).toBeGreaterThan(0);
    }
    expect(tokens.join('').trim()).not.toBe('');
    bridge.dispose();
  });

  it('runs SmolVLM2 and LLaVA-OneVision (one <image> token per feature, chat template from its tokenizer)', async () => {
    for (const repo of ['vision-hub-dev/tiny-smolvlm2', 'vision-hub-dev/tiny-llava-onevision']) {
      const model = devModel(repo);
      await installModel(model, variantOn(model, 'wasm'), mirror, () => undefined);
      const bridge = new VlmBridge();
      await bridge.load(loadRequest(model, 'wasm'), () => undefined);
      const answers: string[] = [];
      for (const frame of [await testFrame(), await testFrame(90, 300)]) {
        const stats = await bridge.generate(frame, 'What do you see?', generateOptions, () => undefined);
        expect(stats.tokens, repo).toBeGreaterThan(0);
        expect(stats.visionMs, repo).toBeGreaterThan(0);
        answers.push(stats.text);
      }
      expect(answers.join('').trim(), repo).not.toBe('');
      bridge.dispose();
    }
  });

  it('answers from the prompt alone, without a frame (passages in, text out), on every free-form architecture', async () => {
    const others = [
      'vision-hub-dev/tiny-moondream',
      'vision-hub-dev/tiny-smolvlm2',
      'vision-hub-dev/tiny-llava-onevision'
    ];
    for (const model of [smolvlm, ...others.map(devModel)]) {
      await installModel(model, variantOn(model, 'wasm'), mirror, () => undefined);
      const bridge = new VlmBridge();
      await bridge.load(loadRequest(model, 'wasm'), () => undefined);
      const tokens: string[] = [];
      const prompt = 'Answer using only the passages.\n\n[1] guide.md › Bloom\nWait 30 seconds.\n\nQuestion: How long?';
      const stats = await bridge.generate(null, prompt, generateOptions, (t) => tokens.push(t));
      expect(stats.tokens, model.id).toBeGreaterThan(0);
      expect(stats.text).toBe(tokens.join('').trim());
      // No image: the vision encoder never ran.
      expect(stats.visionMs, model.id).toBe(0);
      // And a frame still works after a text-only answer.
      expect(
        (await bridge.generate(await testFrame(), 'What?', generateOptions, () => undefined)).visionMs
      ).toBeGreaterThan(0);
      bridge.dispose();
    }
  });

  it('says the model is not installed when its files are not in the cache', async () => {
    const bridge = new VlmBridge();
    const elsewhere = new URL('/empty-mirror/', location.origin).href;
    await expect(bridge.load(loadRequest(smolvlm, 'wasm', elsewhere), () => undefined)).rejects.toMatchObject({
      name: 'ModelNotInstalledError'
    });
    bridge.dispose();
  });
});

/** The dev model's files under another host key, but the decoder is an HTML page (a misconfigured mirror). */
async function cacheWithHtmlDecoder(): Promise<string> {
  const brokenHost = new URL('/broken-mirror/', location.origin).href;
  const cache = await caches.open(MODEL_CACHE_NAME);
  for (const file of variantOn(smolvlm, 'wasm').files) {
    const good = await cache.match(modelFileUrl(mirror, smolvlm.source.repo, 'main', file.path));
    const body = file.path.endsWith('decoder_model_merged.onnx')
      ? '<!doctype html><title>Not found</title>'
      : await good!.blob();
    await cache.put(modelFileUrl(brokenHost, smolvlm.source.repo, 'main', file.path), new Response(body));
  }
  return brokenHost;
}
