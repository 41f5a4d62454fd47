import { beforeAll, describe, expect, it } from 'vitest';
import { EngineBusyError, UnsupportedRequestError } from '#lib/core/errors.ts';
import type { ChatRequest } from '#lib/core/text-generator.ts';
import { db } from '#lib/db/index.ts';
import { appEvents, type EngineStatus } from '#lib/services/app-events.ts';
import { engineStatus, generateText } from '#lib/services/engine.service.ts';
import { installModel } from '#lib/services/model-install.service.ts';
import { residentModels } from '#lib/services/model-runtime.service.ts';
import { DEFAULT_SETTINGS } from '#lib/services/settings.service.ts';
import { devModel, mirror, testFrame, variantOn } from './helpers.ts';

const smolvlm = devModel('vision-hub-dev/tiny-smolvlm');
const settings = { ...DEFAULT_SETTINGS, variantOverrides: { [smolvlm.id]: variantOn(smolvlm, 'wasm').id } };
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
    const result = await generateText(
      smolvlm,
      settings,
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
      { onToken: (delta) => (streamed += delta) }
    );
    off();
    expect(phases).toEqual(['loading', 'generating', 'idle']);
    expect(result.text).toBe(streamed.trim());
    expect(result.usage.completion_tokens).toBe(result.stats.tokens);
    // The prompt holds the image tokens besides the question's words.
    expect(result.usage.prompt_tokens).toBeGreaterThan(10);
    expect(result.usage.total_tokens).toBe(result.usage.prompt_tokens + result.usage.completion_tokens);
    expect(result.finish_reason).toBe(result.stats.tokens >= 4 ? 'length' : 'stop');
    expect(result.ready.model.id).toBe(smolvlm.id);
    expect(residentModels().get('vlm')?.model.id).toBe(smolvlm.id);
    expect(engineStatus()).toMatchObject({ phase: 'idle', ready: { model: { id: smolvlm.id } } });
  });

  it('runs one generation at a time: a second caller is refused, or waits its turn when it asks to', async () => {
    const first = generateText(smolvlm, settings, question('First question', 24));
    await expect(generateText(smolvlm, settings, question('Second question'))).rejects.toThrow(EngineBusyError);
    const order: string[] = [];
    const waiting = generateText(smolvlm, settings, question('Third question'), { wait: true }).then((r) => {
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
    const result = await generateText(smolvlm, settings, question('Tell me everything', 200), {
      signal: controller.signal,
      onToken: () => (tokens += 1) === 2 && controller.abort()
    });
    expect(result.finish_reason).toBe('aborted');
    expect(result.usage.completion_tokens).toBeLessThan(200);
    expect(engineStatus().phase).toBe('idle');
    expect((await generateText(smolvlm, settings, question('Again'))).finish_reason).not.toBe('aborted');
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
    await expect(generateText(smolvlm, settings, twoImages)).rejects.toThrow(UnsupportedRequestError);
    expect(engineStatus().phase).toBe('idle');
    expect((await generateText(smolvlm, settings, question('Still there?'))).usage.completion_tokens).toBeGreaterThan(
      0
    );
  });
});
