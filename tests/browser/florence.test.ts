import { describe, expect, it } from 'vitest';
import { installModel } from '#lib/services/model-install.service.ts';
import { VlmBridge } from '#lib/workers/vlm-bridge.ts';
import { devModel, loadRequest, mirror, testFrame, variantOn } from './helpers.ts';

const florence = devModel('vision-hub-dev/tiny-florence2');
const generateOptions = { maxNewTokens: 64 };

describe('Florence-2 in the VLM worker: tasks, regions and text', () => {
  for (const device of ['wasm', 'webgpu'] as const) {
    it(`reads text with regions and finds a phrase, on ${device}`, async () => {
      await installModel(florence, variantOn(florence, device), mirror, () => undefined);
      const bridge = new VlmBridge();
      try {
        await bridge.load(loadRequest(florence, device), () => undefined);
        const pieces: string[] = [];
        const read = await bridge.generate(await testFrame(320, 240), 'Read the text', generateOptions, (piece) =>
          pieces.push(piece)
        );
        expect(read.device).toBe(device);
        // Streamed as words, never as location tokens; summed up as one line per region.
        expect(pieces.length).toBeGreaterThan(1);
        expect(pieces.join('')).not.toMatch(/<loc_|<\/?s>/);
        const lines = read.annotations!.items;
        expect(read.annotations).toMatchObject({ width: 320, height: 240 });
        expect(lines.length).toBeGreaterThan(0);
        expect(lines.every((line) => line.kind === 'text' && line.corners.length === 4)).toBe(true);
        for (const [x, y] of lines.flatMap((line) => line.corners)) {
          expect(x).toBeGreaterThanOrEqual(0);
          expect(x).toBeLessThanOrEqual(320);
          expect(y).toBeGreaterThanOrEqual(0);
          expect(y).toBeLessThanOrEqual(240);
        }
        expect(read.text).toBe(
          lines
            .map((line) => line.label)
            .filter(Boolean)
            .join('\n')
        );

        const find = await bridge.generate(await testFrame(), 'Where is the kettle?', generateOptions, () => undefined);
        expect(find.annotations!.items.every((item) => item.kind === 'phrase')).toBe(true);
        expect(find.text).toMatch(/^(Found the kettle in (one place|\d+ places)|Could not find the kettle)\.$/);
      } finally {
        bridge.dispose();
      }
    });
  }

  it('says it answers about images only when asked without one (a knowledge answer)', async () => {
    const bridge = new VlmBridge();
    try {
      await bridge.load(loadRequest(florence, 'wasm'), () => undefined);
      await expect(bridge.generate(null, 'Summarise the passages', generateOptions, () => undefined)).rejects.toThrow(
        /Florence-2 answers about images only/
      );
    } finally {
      bridge.dispose();
    }
  });
});
