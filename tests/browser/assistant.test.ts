import { cdp } from 'vitest/browser';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { db } from '#lib/db/index.ts';
import { appEvents, type AppEvents } from '#lib/services/app-events.ts';
import { installModel } from '#lib/services/model-install.service.ts';
import { recentObservations } from '#lib/services/observations.service.ts';
import { watchVoices, type VoiceChoice } from '#lib/services/speech-voices.service.ts';
import { saveSetting } from '#lib/services/settings.service.ts';
import { assistantStore, type FrameSource } from '#lib/state/assistant-store.svelte.ts';
import { modelsStore } from '#lib/state/models-store.svelte.ts';
import { toasts } from '#lib/state/toasts.svelte.ts';
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

describe('assistant store: questions, stops and the history', () => {
  const upload = async () => ({ frame: await testFrame(), source: 'upload' as const });
  const prompts = async () => (await recentObservations()).map((o) => o.prompt);

  afterEach(() => {
    vi.restoreAllMocks();
    assistantStore.setReadAloud(false);
  });

  it('a question asked while an answer is written waits for its turn; a dropped one is never asked', async () => {
    const first = assistantStore.request('First question', upload);
    await until(() => assistantStore.busy, 'the first answer started');
    void assistantStore.request('Asked meanwhile', upload);
    expect(assistantStore.queued).toBe('Asked meanwhile');
    await first;
    await until(() => !assistantStore.busy && assistantStore.queued === null, 'the queued question was answered');
    expect((await prompts()).slice(0, 2)).toEqual(['Asked meanwhile', 'First question']);

    const third = assistantStore.request('Third question', upload);
    await until(() => assistantStore.busy, 'the third answer started');
    void assistantStore.request('Dropped question', upload);
    assistantStore.cancelQueued();
    expect(assistantStore.queued).toBeNull();
    await third;
    await until(() => !assistantStore.busy, 'the engine is idle');
    expect((await prompts())[0]).toBe('Third question');
    // Three answers in a row: on a busy machine's CPU that takes longer than one test usually may.
  }, 180_000);

  it('a stopped answer is kept in the history, marked as stopped', async () => {
    const asking = assistantStore.ask(await testFrame(), 'Stop me', 'upload');
    await until(() => assistantStore.answer.length > 0, 'the answer started streaming');
    assistantStore.stop();
    expect(await asking).toBe(true);
    expect(assistantStore.stats?.aborted).toBe(true);
    expect(assistantStore.history[0]).toMatchObject({ prompt: 'Stop me', stats: { aborted: true } });
  });

  it("reports the answer's first token, speed and frame hand-off with the model's name and the device", async () => {
    const samples: AppEvents['perf:sample'][] = [];
    const unsubscribe = appEvents.on('perf:sample', (sample) => samples.push(sample));
    try {
      expect(await assistantStore.ask(await testFrame(), 'Measure me', 'upload')).toBe(true);
    } finally {
      unsubscribe();
    }
    const device = assistantStore.stats!.device;
    expect(samples).toContainEqual({
      metric: 'first-token-ms',
      value: assistantStore.stats!.timeToFirstTokenMs,
      model: smolvlm.name,
      device
    });
    expect(samples).toContainEqual({
      metric: 'frame-handoff-ms',
      value: assistantStore.stats!.preprocessMs,
      model: smolvlm.name,
      device
    });
    expect(samples.filter((s) => s.metric === 'tokens-per-second')).toEqual([
      { metric: 'tokens-per-second', value: assistantStore.stats!.tokensPerSecond, model: smolvlm.name, device }
    ]);
  });

  it('names models as the registry does, and a server model it does not know by its id', () => {
    expect(assistantStore.modelName(smolvlm.id)).toBe(smolvlm.name);
    expect(smolvlm.name).not.toBe(smolvlm.id);
    expect(assistantStore.modelName('google/medgemma-4b-it')).toBe('google/medgemma-4b-it');
  });

  it('deletes one answer from the history, and Undo brings it back', async () => {
    const [target, next] = assistantStore.history;
    await assistantStore.remove(target!);
    expect(assistantStore.history[0]?.id).toBe(next!.id);
    expect((await recentObservations()).some((o) => o.id === target!.id)).toBe(false);

    const toast = toasts.items.at(-1)!;
    expect(toast).toMatchObject({ message: 'Answer removed', action: { label: 'Undo' } });
    await toasts.act(toast.id);
    expect(assistantStore.history[0]).toMatchObject({ id: target!.id, prompt: target!.prompt });
  });

  it('reads a finished answer aloud when asked to, remembers the choice, and Stop silences it', async () => {
    expect(assistantStore.canReadAloud).toBe(true);
    const speak = vi.spyOn(speechSynthesis, 'speak').mockImplementation(() => undefined);
    const cancel = vi.spyOn(speechSynthesis, 'cancel');

    expect(await assistantStore.ask(await testFrame(), 'Quietly', 'upload')).toBe(true);
    expect(speak).not.toHaveBeenCalled();

    assistantStore.setReadAloud(true);
    await assistantStore.init();
    expect(assistantStore.readAloud).toBe(true);
    expect(await assistantStore.ask(await testFrame(), 'Out loud', 'upload')).toBe(true);
    expect(speak).toHaveBeenCalledOnce();
    expect(speak.mock.calls[0]![0].text).toBe(assistantStore.answer);

    cancel.mockClear();
    assistantStore.stop();
    expect(cancel).toHaveBeenCalled();

    // A speed and a voice that this browser does not have: kept across a reload, read at that
    // speed in the default voice.
    assistantStore.setVoice({ rate: 1.5, voiceUri: 'voice-from-another-device' });
    await assistantStore.init();
    expect(assistantStore.voice).toEqual({ rate: 1.5, voiceUri: 'voice-from-another-device' });
    speak.mockClear();
    expect(await assistantStore.ask(await testFrame(), 'Faster', 'upload')).toBe(true);
    const utterance = speak.mock.calls[0]![0];
    expect(utterance.rate).toBe(1.5);
    expect(utterance.voice).toBeNull();
    assistantStore.setVoice({ rate: 1, voiceUri: null });
  });

  it('lists the voices on this device before the online ones, again when the browser changes them', () => {
    const voice = (name: string, localService: boolean) =>
      ({ name, lang: 'en-GB', voiceURI: `uri:${name}`, localService, default: false }) as SpeechSynthesisVoice;
    const getVoices = vi.spyOn(speechSynthesis, 'getVoices').mockReturnValue([]);
    const lists: VoiceChoice[][] = [];
    const unwatch = watchVoices((voices) => lists.push(voices));
    getVoices.mockReturnValue([voice('Zed online', false), voice('Amy', true)]);
    speechSynthesis.dispatchEvent(new Event('voiceschanged'));
    unwatch();
    speechSynthesis.dispatchEvent(new Event('voiceschanged'));
    expect(lists).toEqual([
      [],
      [
        { uri: 'uri:Amy', label: 'Amy (en-GB)' },
        { uri: 'uri:Zed online', label: 'Zed online (en-GB) · online' }
      ]
    ]);
  });
});
