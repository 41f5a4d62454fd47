import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MODEL_CACHE_NAME, modelFileUrl } from '#lib/core/model-cache.ts';
import type { ModelEntry } from '#lib/core/manifest.ts';
import { db } from '#lib/db/index.ts';
import { appEvents, type AppEvents } from '#lib/services/app-events.ts';
import { installModel } from '#lib/services/model-install.service.ts';
import { saveSetting } from '#lib/services/settings.service.ts';
import { assistantStore } from '#lib/state/assistant-store.svelte.ts';
import { modelsStore } from '#lib/state/models-store.svelte.ts';
import { devModel, mirror, testFrame, variantOn } from './helpers.ts';

const smolvlm = devModel('vision-hub-dev/tiny-smolvlm');
const moondream = devModel('vision-hub-dev/tiny-moondream');

/** Swaps one of the model's cached files for a web page (a broken mirror's answer); returns the undo. */
async function breakModel(model: ModelEntry): Promise<() => Promise<void>> {
  const cache = await caches.open(MODEL_CACHE_NAME);
  const file = variantOn(model, 'wasm').files.find((f) => f.path.includes('decoder_model_merged'))!;
  const url = modelFileUrl(mirror, model.source.repo, 'main', file.path);
  const good = await (await cache.match(url))!.blob();
  await cache.put(url, new Response('<!doctype html><title>Not found</title>'));
  return () => cache.put(url, new Response(good));
}

beforeAll(async () => {
  await db.observations.clear();
  await db.models.clear();
  for (const model of [smolvlm, moondream]) {
    await installModel(model, variantOn(model, 'wasm'), mirror, () => undefined);
  }
  // No model chosen: each question picks its own.
  await saveSetting('visionModelId', null);
  await modelsStore.init();
});

describe('the camera picks a model per question, and falls back when one fails', () => {
  const errors: AppEvents['app:error'][] = [];
  const unsubscribe = appEvents.on('app:error', (error) => errors.push(error));
  afterEach(() => {
    errors.length = 0;
  });

  it('a model that fails to load hands the question to the next, and the answer says why', async () => {
    const repair = await breakModel(smolvlm);
    try {
      expect(await assistantStore.ask(await testFrame(), 'Read the text', 'upload')).toBe(true);
    } finally {
      await repair();
    }
    expect(assistantStore.history[0]).toMatchObject({ prompt: 'Read the text', modelId: moondream.id });
    expect(assistantStore.answer.length).toBeGreaterThan(0);
    expect(assistantStore.error).toBeNull();
    expect(assistantStore.choice?.modelName).toBe(moondream.name);
    expect(assistantStore.choice?.reason).toMatch(
      new RegExp(`^${literal(smolvlm.name)} could not answer \\(.+\\), so ${literal(moondream.name)} did$`)
    );
    // Recovered, yet logged for the status page with the model that failed.
    expect(errors).toEqual([expect.objectContaining({ where: 'Camera', model: smolvlm.name })]);
  });

  it("the question's intent picks the model: SmolVLM is the one here that reads text", async () => {
    expect(await assistantStore.ask(await testFrame(), 'What does the sign say?', 'upload')).toBe(true);
    expect(assistantStore.history[0]).toMatchObject({ modelId: smolvlm.id });
    expect(assistantStore.choice).toEqual({ modelName: smolvlm.name, reason: 'Best here at reading text' });
    expect(errors).toEqual([]);
  });

  it('a model the user chose answers every question', async () => {
    await modelsStore.choose(moondream);
    try {
      expect(await assistantStore.ask(await testFrame(), 'Read the text', 'upload')).toBe(true);
      expect(assistantStore.history[0]).toMatchObject({ modelId: moondream.id });
      expect(assistantStore.choice).toEqual({ modelName: moondream.name, reason: 'Chosen by you for every question' });
    } finally {
      await saveSetting('visionModelId', null);
      await modelsStore.init();
      unsubscribe();
    }
  });
});

function literal(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
