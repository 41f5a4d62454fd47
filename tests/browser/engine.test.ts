import { flushSync, mount, unmount } from 'svelte';
import { beforeAll, describe, expect, it } from 'vitest';
import EngineActivity from '#lib/components/EngineActivity.svelte';
import { EngineBusyError, UnsupportedRequestError } from '#lib/core/errors.ts';
import type { ChatRequest } from '#lib/core/text-generator.ts';
import { db } from '#lib/db/index.ts';
import { appEvents, type EngineStatus } from '#lib/services/app-events.ts';
import { deviceTextGenerator, engineHolder, engineStatus } from '#lib/services/engine.service.ts';
import { installModel } from '#lib/services/model-install.service.ts';
import { releaseModel, residentModels } from '#lib/services/model-runtime.service.ts';
import { DEFAULT_SETTINGS } from '#lib/services/settings.service.ts';
import { devModel, mirror, testFrame, variantOn } from './helpers.ts';

const smolvlm = devModel('vision-hub-dev/tiny-smolvlm');
const settings = { ...DEFAULT_SETTINGS, variantOverrides: { [smolvlm.id]: variantOn(smolvlm, 'wasm').id } };
const engine = deviceTextGenerator(smolvlm, settings);
const question = (text: string, max_tokens = 6): ChatRequest<ImageBitmap> => ({
  messages: [{ role: 'user', content: text }],
  max_tokens
});

beforeAll(async () => {
  await db.models.clear();
  await installModel(smolvlm, variantOn(smolvlm, 'wasm'), mirror, () => undefined);
});

describe('the text engine', () => {
  it('streams an answer in the chat-completions shape, with usage and a finish reason, and keeps the model resident', async () => {
    const phases: EngineStatus['phase'][] = [];
    const off = appEvents.on('engine:status', ({ phase }) => phases.at(-1) !== phase && phases.push(phase));
    let streamed = '';
    const frame = await testFrame();
    const result = await engine.generate(
      {
        messages: [
          {
            role: 'user',
            content: [
              { type: 'image', image: frame },
              { type: 'text', text: 'What do you see?' }
            ]
          }
        ],
        max_tokens: 4
      },
      (delta) => (streamed += delta)
    );
    off();
    expect(phases).toEqual(['loading', 'generating', 'idle']);
    expect(result.text).toBe(streamed.trim());
    expect(result.usage.completion_tokens).toBe(result.stats.tokens);
    // The prompt holds the image tokens besides the question's words.
    expect(result.usage.prompt_tokens).toBeGreaterThan(10);
    expect(result.usage.total_tokens).toBe(result.usage.prompt_tokens + result.usage.completion_tokens);
    expect(result.finish_reason).toBe(result.stats.tokens >= 4 ? 'length' : 'stop');
    expect(result.stats.variantId).toBe(variantOn(smolvlm, 'wasm').id);
    expect(residentModels().get('vlm')?.model.id).toBe(smolvlm.id);
    expect(engineStatus()).toMatchObject({ phase: 'idle', ready: { model: { id: smolvlm.id } } });
  });

  it('lets a model go when it is released (uninstalled), and loads it again when asked', async () => {
    await engine.generate(question('Warm up'));
    releaseModel(smolvlm.id);
    expect(residentModels().has('vlm')).toBe(false);
    const phases: EngineStatus['phase'][] = [];
    const off = appEvents.on('engine:status', ({ phase, progress }) => progress && phases.push(phase));
    expect((await engine.generate(question('Back again?'))).usage.completion_tokens).toBeGreaterThan(0);
    off();
    // Loading reported file progress: the model was read into a fresh worker, not found resident.
    expect(phases.length).toBeGreaterThan(0);
    expect(residentModels().get('vlm')?.model.id).toBe(smolvlm.id);
  });

  it('runs one generation at a time: a second caller is refused, or waits its turn when it asks to', async () => {
    const first = engine.generate(question('First question', 24));
    await expect(engine.generate(question('Second question'))).rejects.toThrow(EngineBusyError);
    const order: string[] = [];
    const waiting = deviceTextGenerator(smolvlm, settings, { wait: true })
      .generate(question('Third question'))
      .then((r) => {
        order.push('third');
        return r;
      });
    await first.then(() => order.push('first'));
    expect((await waiting).usage.completion_tokens).toBeGreaterThan(0);
    expect(order).toEqual(['first', 'third']);
  });

  it('an abort stops the answer after the current token, keeps the text so far, and frees the engine', async () => {
    const controller = new AbortController();
    let tokens = 0;
    const result = await engine.generate(
      question('Tell me everything', 200),
      () => (tokens += 1) === 2 && controller.abort(),
      controller.signal
    );
    expect(result.finish_reason).toBe('aborted');
    expect(result.usage.completion_tokens).toBeLessThan(200);
    expect(engineStatus().phase).toBe('idle');
    expect((await engine.generate(question('Again'))).finish_reason).not.toBe('aborted');
  });

  it('a generation that fails gives the engine back for the next one', async () => {
    const [a, b] = [await testFrame(), await testFrame()];
    const twoImages: ChatRequest<ImageBitmap> = {
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image', image: a },
            { type: 'image', image: b },
            { type: 'text', text: 'Compare them' }
          ]
        }
      ]
    };
    await expect(engine.generate(twoImages)).rejects.toThrow(UnsupportedRequestError);
    expect(engineStatus().phase).toBe('idle');
    expect((await engine.generate(question('Still there?'))).usage.completion_tokens).toBeGreaterThan(0);
  });
  it('says who holds the engine and with which model, and its Stop stops that caller and frees the engine', async () => {
    const target = document.body.appendChild(document.createElement('div'));
    const activity = mount(EngineActivity, { target });
    const shown = () => (flushSync(), target.textContent?.replace(/\s+/g, ' ').trim());
    try {
      expect(shown()).toBe('');
      let whileAsking = '';
      const result = await deviceTextGenerator(smolvlm, settings, { holder: 'The task guide' }).generate(
        question('Tell me everything', 200),
        () => {
          if (!whileAsking) {
            whileAsking = shown() ?? '';
            target.querySelector('button')!.click();
          }
        }
      );
      expect(whileAsking).toBe('The task guide is asking Tiny SmolVLM (test)… Stop');
      // Stopped as its own Stop would: the text so far, an aborted finish, no error.
      expect(result.finish_reason).toBe('aborted');
      expect(result.usage.completion_tokens).toBeLessThan(200);
      expect(engineHolder()).toBeNull();
      expect(shown()).toBe('');
      // Free at once: a caller that does not wait gets it.
      expect((await engine.generate(question('Free again?'))).finish_reason).not.toBe('aborted');
    } finally {
      await unmount(activity);
      target.remove();
    }
  });
});
