import { beforeAll, describe, expect, inject, it } from 'vitest';
import { db } from '#lib/db/index.ts';
import { appEvents } from '#lib/services/app-events.ts';
import { SERVER_VARIANT } from '#lib/services/assistant.service.ts';
import { dataUrlOf, thumbnailOf } from '#lib/services/observations.service.ts';
import { RealtimeClient, RealtimeError } from '#lib/services/realtime-client.ts';
import { assistantStore } from '#lib/state/assistant-store.svelte.ts';
import { edgeConnectionStore } from '#lib/state/edge-connection-store.svelte.ts';
import { modelsStore } from '#lib/state/models-store.svelte.ts';
import { testFrame } from './helpers.ts';

const baseUrl = inject('edgeUrl');
const key = inject('edgeKeys').client;

async function frameUrl(): Promise<string> {
  const frame = await testFrame();
  const blob = await thumbnailOf(frame, frame.width, frame.height, 512);
  frame.close();
  return dataUrlOf(blob);
}

beforeAll(async () => {
  await db.observations.clear();
  await db.settings.clear();
  // No vision model on this device: the store is to choose the server by itself.
  await db.models.clear();
  await modelsStore.init();
});

describe('realtime client against the real edge API (/ws)', () => {
  it('asks the server about a frame and gets the tiny model’s answer', async () => {
    const client = new RealtimeClient({ baseUrl, credential: key });
    const answer = await client.ask(await frameUrl(), 'What is in this frame?');
    expect(answer.model).toBe('tiny-smolvlm');
    expect(typeof answer.text).toBe('string');
    expect(answer.latencyMs).toBeGreaterThan(0);
    // The same session answers the next question on the open connection.
    expect((await client.ask(await frameUrl(), 'And now?')).model).toBe('tiny-smolvlm');
    client.close();
  });

  it('a refused credential, a server that is not there and a stop each end the wait clearly', async () => {
    const stranger = new RealtimeClient({ baseUrl, credential: `vh_${'x'.repeat(43)}` });
    const refused = await stranger.ask(await frameUrl(), 'Hello?').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(RealtimeError);
    expect(refused).toMatchObject({ action: 'edge-settings', message: /refused the credential/ });

    const nowhere = new RealtimeClient({ baseUrl: 'http://127.0.0.1:9', credential: key });
    await expect(nowhere.ask(await frameUrl(), 'Hello?')).rejects.toThrow(/could not be reached/);

    const client = new RealtimeClient({ baseUrl, credential: key });
    const abort = new AbortController();
    const stopped = client.ask(await frameUrl(), 'Hello?', abort.signal);
    abort.abort();
    await expect(stopped).rejects.toMatchObject({ name: 'AbortError' });
    // The ignored answer does not stand in for the next question's.
    expect((await client.ask(await frameUrl(), 'Again?')).model).toBe('tiny-smolvlm');
    client.close();
  });
});

describe('assistant store answering on the server', () => {
  it('without a model on the device it answers on the server and records the observation as the device does', async () => {
    expect(assistantStore.deviceLimit).toMatch(/No vision model/);
    expect(assistantStore.answerOn).toBe('server');
    await edgeConnectionStore.save(baseUrl, key);
    const told: string[] = [];
    const stop = appEvents.on('assistant:answer', ({ text }) => told.push(text));

    expect(await assistantStore.ask(await testFrame(), 'What do you see?', 'upload')).toBe(true);
    stop();
    expect(assistantStore.served?.model).toBe('tiny-smolvlm');
    expect(assistantStore.answer).toBe(assistantStore.served?.text);
    expect(assistantStore.phase).toBe('idle');
    expect(assistantStore.history[0]).toMatchObject({
      prompt: 'What do you see?',
      answer: assistantStore.answer,
      modelId: 'tiny-smolvlm',
      variantId: SERVER_VARIANT,
      source: 'upload',
      stats: { device: 'server' }
    });
    expect(told).toEqual([assistantStore.answer]);

    // The choice is a setting, kept for the next visit.
    await assistantStore.setAnswerOn('device');
    expect(assistantStore.answerOn).toBe('device');
    await assistantStore.setAnswerOn('server');
    expect((await db.settings.get('answerOn'))?.value).toBe('server');
  });
});
