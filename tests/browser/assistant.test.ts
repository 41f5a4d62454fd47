import { cdp } from 'vitest/browser';
import { beforeAll, describe, expect, it } from 'vitest';
import { db } from '#lib/db/index.ts';
import { installModel } from '#lib/services/model-install.service.ts';
import { recentObservations } from '#lib/services/observations.service.ts';
import { saveSetting } from '#lib/services/settings.service.ts';
import { assistantStore, type FrameSource } from '#lib/state/assistant-store.svelte.ts';
import { modelsStore } from '#lib/state/models-store.svelte.ts';
import { devModel, mirror, testFrame, variantOn } from './helpers.ts';

const smolvlm = devModel('vision-hub-dev/tiny-smolvlm');

/** A camera stand-in: `scene` decides what it shows, and every grab is counted. */
function fakeCamera(): FrameSource & { scene: number; grabs: number; grabsWhileBusy: number } {
  const camera = {
    scene: 0,
    grabs: 0,
    grabsWhileBusy: 0,
    async grab() {
      camera.grabs += 1;
      camera.grabsWhileBusy += assistantStore.busy ? 1 : 0;
      return testFrame(320 + camera.scene * 8, 240);
    },
    signature() {
      return new Uint8Array(32 * 32).fill(camera.scene * 40);
    }
  };
  return camera;
}

async function until(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const started = performance.now();
  while (!condition()) {
    if (performance.now() - started > timeoutMs) {
      throw new Error(`Timed out waiting until ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

beforeAll(async () => {
  await db.observations.clear();
  await db.models.clear();
  await installModel(smolvlm, variantOn(smolvlm, 'webgpu'), mirror, () => undefined);
  await saveSetting('visionModelId', smolvlm.id);
  await modelsStore.init();
});

describe('assistant store', () => {
  it('answers on WebGPU and records the observation; after a GPU loss the next answer runs on WASM', async () => {
    expect(await assistantStore.ask(await testFrame(), 'What do you see?', 'upload')).toBe(true);
    expect(assistantStore.stats?.device).toBe('webgpu');
    expect(assistantStore.history[0]).toMatchObject({ prompt: 'What do you see?', modelId: smolvlm.id });

    await cdp().send('Browser.crashGpuProcess');
    await until(() => assistantStore.notice !== null, 'the user is told about the lost GPU');
    expect(assistantStore.notice).toMatch(/GPU was lost.*WASM/);

    expect(await assistantStore.ask(await testFrame(), 'Read the text', 'upload')).toBe(true);
    expect(assistantStore.stats?.device).toBe('wasm');
    expect((await recentObservations()).map((o) => o.prompt)).toEqual(['Read the text', 'What do you see?']);
  });

  it('continuous mode asks one at a time and skips frames that did not change', async () => {
    const camera = fakeCamera();
    const asked = (await recentObservations()).length;
    // 0.05 s: far shorter than an answer, so a loop that did not wait would overlap requests.
    assistantStore.startContinuous(camera, 0.05);
    await until(() => assistantStore.history.length >= asked + 1, 'the first scene was described');
    await until(() => assistantStore.skippedFrames >= 3, 'unchanged frames were skipped');
    const grabsWhileStill = camera.grabs;
    camera.scene = 1;
    await until(() => assistantStore.history.length >= asked + 2, 'the changed scene was described');
    assistantStore.stopContinuous();

    expect(grabsWhileStill).toBe(1);
    expect(camera.grabs).toBe(2);
    expect(camera.grabsWhileBusy).toBe(0);
    const continuous = (await recentObservations()).filter((o) => o.source === 'continuous');
    expect(continuous).toHaveLength(2);
  });
});
