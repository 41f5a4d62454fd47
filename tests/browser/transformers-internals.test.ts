/**
 * The VLM worker wraps two transformers.js internals (workers/runtime/transformers-internals.ts).
 * They are not public API: this fails, naming them, when an upgrade renames them or generate()
 * stops calling them, instead of the app silently losing its timings and its prompt aborts.
 */
import { env, type PreTrainedModel } from '@huggingface/transformers';
import { describe, expect, it } from 'vitest';
import { installModel } from '#lib/services/model-install.service.ts';
import { configureTransformers } from '../../workers/runtime/transformers.ts';
import { wrapModelMethod, type WrappedInternal } from '../../workers/runtime/transformers-internals.ts';
import { buildVlm, prepareInputs } from '../../workers/vlm-model.ts';
import packageJson from '../../package.json';
import { devModel, loadRequest, mirror, testFrame, variantOn } from './helpers.ts';

const internals: WrappedInternal[] = ['encode_image', 'forward'];

describe('transformers.js internals the VLM worker wraps', () => {
  it('come from the one exact version the project pins', () => {
    const pinned = packageJson.dependencies['@huggingface/transformers'];
    expect(
      pinned,
      'package.json must pin @huggingface/transformers exactly: its internals change between versions'
    ).toMatch(/^\d+\.\d+\.\d+$/);
    expect(env.version, 'the installed transformers.js is not the pinned one: run npm ci').toBe(pinned);
  });

  for (const repo of ['vision-hub-dev/tiny-smolvlm', 'vision-hub-dev/tiny-moondream']) {
    it(`exist on ${repo} and generate() calls them`, async () => {
      const entry = devModel(repo);
      await installModel(entry, variantOn(entry, 'wasm'), mirror, () => undefined);
      const request = loadRequest(entry, 'wasm');
      configureTransformers(request);
      const vlm = await buildVlm(request, () => undefined);

      const runs: Record<WrappedInternal, number> = { encode_image: 0, forward: 0 };
      for (const name of internals) {
        expect(
          typeof (vlm.model as unknown as Record<string, unknown>)[name],
          `${vlm.model.constructor.name}.${name} is gone: see workers/runtime/transformers-internals.ts`
        ).toBe('function');
        wrapModelMethod(vlm.model, name, (call) => {
          runs[name] += 1;
          return call();
        });
      }
      await vlm.model.generate({
        ...prepareInputs(vlm, await testFrame(), 'What do you see?'),
        max_new_tokens: 2,
        do_sample: false
      });
      expect(runs.encode_image, 'generate() no longer calls encode_image: the vision timing is lost').toBeGreaterThan(
        0
      );
      expect(runs.forward, 'generate() no longer calls forward: abort would wait for the whole answer').toBeGreaterThan(
        0
      );
      await vlm.model.dispose();
    });
  }

  it('refuses, naming the method and the version, to wrap a method the model lacks', () => {
    const modelWithoutForward = {} as PreTrainedModel;
    expect(() => wrapModelMethod(modelWithoutForward, 'forward', (call) => call())).toThrow(
      /^transformers\.js \d+\.\d+\.\d+ has no Object\.forward\(\)/
    );
  });
});
