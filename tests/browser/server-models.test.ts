import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { db } from '#lib/db/index.ts';
import { installModel } from '#lib/services/model-install.service.ts';
import { SERVER_VARIANT } from '#lib/services/assistant.service.ts';
import { saveSetting } from '#lib/services/settings.service.ts';
import { assistantStore } from '#lib/state/assistant-store.svelte.ts';
import { edgeConnectionStore } from '#lib/state/edge-connection-store.svelte.ts';
import { modelsStore } from '#lib/state/models-store.svelte.ts';
import { serverModelsStore } from '#lib/state/server-models-store.svelte.ts';
import { devModel, mirror, testFrame, variantOn } from './helpers.ts';

/**
 * The edge server's models in the camera's choice, against the real edge API the browser tests
 * start: its only vision model is the tiny SmolVLM, which it lists as `tiny-smolvlm`.
 */
const edgeUrl = inject('edgeUrl');
const SERVER_MODEL = 'tiny-smolvlm';
const smolvlm = devModel('vision-hub-dev/tiny-smolvlm');
const MEDICAL = 'Does this rash look infected?';
const FIND = 'Where is the kettle?';

/** Asks about a test frame, noting every length the answer had on the way (it streams, so more than one). */
async function ask(prompt: string): Promise<{ answered: boolean; lengths: number[] }> {
  const lengths: number[] = [];
  let asking = true;
  const watch = (): void => {
    const length = assistantStore.answer.length;
    if (length > 0 && length !== lengths.at(-1)) {
      lengths.push(length);
    }
    if (asking) {
      setTimeout(watch, 1);
    }
  };
  watch();
  const answered = await assistantStore.ask(await testFrame(), prompt, 'upload');
  asking = false;
  return { answered, lengths };
}

const serverAnswers = async () =>
  (await db.observations.toArray()).filter((observation) => observation.variantId === SERVER_VARIANT);

beforeAll(async () => {
  await db.observations.clear();
  await db.models.clear();
  await saveSetting('visionModelId', null);
  await saveSetting('serverModels', false);
  // Nothing installed would otherwise send every question over the live channel instead.
  await saveSetting('answerOn', 'device');
  await edgeConnectionStore.save(edgeUrl, inject('edgeKeys').client);
  await modelsStore.init();
  await assistantStore.init();
});

afterAll(async () => {
  // The settings are the other test files' too.
  await saveSetting('serverModels', false);
  await saveSetting('answerOn', null);
  await edgeConnectionStore.save(null, null);
});

describe("the edge server's models in the camera's choice", () => {
  it('lists the vision models of the server set in the settings, not its others', async () => {
    await serverModelsStore.refresh();
    expect(serverModelsStore.error).toBeNull();
    expect(serverModelsStore.models).toEqual([{ id: SERVER_MODEL }]);
  });

  it('allowed, a medical question that nothing here can answer goes to the server, streamed, and says so', async () => {
    await modelsStore.setServerModels(true);
    const { answered, lengths } = await ask(MEDICAL);
    expect(answered).toBe(true);
    expect(assistantStore.error).toBeNull();
    expect(assistantStore.choice).toEqual({
      modelName: SERVER_MODEL,
      reason: 'Answers any question; none here is better at medical images · on the edge server'
    });
    expect(assistantStore.served).toMatchObject({ model: SERVER_MODEL, text: assistantStore.answer });
    expect(assistantStore.stats).toBeNull();
    expect(lengths.length, 'the answer arrived in pieces').toBeGreaterThan(1);
    expect(assistantStore.history[0]).toMatchObject({
      prompt: MEDICAL,
      answer: assistantStore.answer,
      modelId: SERVER_MODEL,
      variantId: SERVER_VARIANT,
      stats: { device: 'server', aborted: false }
    });
    expect(assistantStore.history[0]!.stats.tokens).toBeGreaterThan(0);
  });

  it('with a model installed here, the server answers first what only it does well (finding things)', async () => {
    await installModel(smolvlm, variantOn(smolvlm, 'wasm'), mirror, () => undefined);
    await modelsStore.init();
    expect(await assistantStore.ask(await testFrame(), FIND, 'upload')).toBe(true);
    expect(assistantStore.choice).toEqual({
      modelName: SERVER_MODEL,
      reason: 'Best here at finding things in the picture · on the edge server'
    });
    expect(assistantStore.history[0]).toMatchObject({ prompt: FIND, variantId: SERVER_VARIANT });
  });

  it('a server that fails to answer hands the question to the model here, and the answer says why', async () => {
    const credential = inject('edgeKeys').client;
    await edgeConnectionStore.save(edgeUrl, 'vh_not-a-key');
    try {
      expect(await assistantStore.ask(await testFrame(), FIND, 'upload')).toBe(true);
    } finally {
      await edgeConnectionStore.save(edgeUrl, credential);
    }
    expect(assistantStore.error).toBeNull();
    expect(assistantStore.choice?.modelName).toBe(smolvlm.name);
    expect(assistantStore.choice?.reason).toMatch(
      new RegExp(
        `^${SERVER_MODEL} on the edge server could not answer \\(.+\\), so ${smolvlm.name.replace(/[()]/g, '\\$&')} did$`
      )
    );
    expect(assistantStore.history[0]).toMatchObject({ prompt: FIND, modelId: smolvlm.id });
    expect(assistantStore.served).toBeNull();
  });

  it('not allowed, no question goes to the server, whatever it asks', async () => {
    await modelsStore.setServerModels(false);
    const before = (await serverAnswers()).length;
    for (const prompt of [MEDICAL, FIND]) {
      expect(await assistantStore.ask(await testFrame(), prompt, 'upload')).toBe(true);
      expect(assistantStore.choice?.modelName).toBe(smolvlm.name);
      expect(assistantStore.served).toBeNull();
      expect(assistantStore.history[0]).toMatchObject({ prompt, modelId: smolvlm.id });
    }
    expect((await serverAnswers()).length).toBe(before);
    // The list is still shown on the Models page: only the choice leaves it out.
    expect(serverModelsStore.models).toEqual([{ id: SERVER_MODEL }]);
  });
});
