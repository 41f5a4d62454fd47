import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ManifestError } from '#lib/core/errors.ts';
import { findModel, isPinned, parseManifest, type ModelManifest } from '#lib/core/manifest.ts';

const shipped = JSON.parse(readFileSync('models-manifest.json', 'utf8')) as ModelManifest;

function withModel(patch: Record<string, unknown>): unknown {
  const [first] = structuredClone(shipped).models;
  return { version: 1, models: [{ ...first, ...patch }] };
}

describe('models-manifest.json', () => {
  it('is valid and lists the real vision models and the dev models', () => {
    const registry = parseManifest(shipped);
    const ids = registry.models.map((m) => m.id);
    expect(ids).toEqual(expect.arrayContaining(['smolvlm-256m', 'smolvlm-500m', 'moondream2']));
    expect(registry.models.filter((m) => m.dev).map((m) => m.source.repo)).toEqual(
      expect.arrayContaining(['vision-hub-dev/tiny-smolvlm', 'vision-hub-dev/tiny-moondream'])
    );
  });

  it('pins every file of the generated dev models by size and sha256', () => {
    for (const model of parseManifest(shipped).models.filter((m) => m.dev)) {
      for (const variant of model.variants) {
        expect(isPinned(variant), `${model.id}/${variant.id}`).toBe(true);
        expect(variant.bytes).toBe(variant.files.reduce((sum, f) => sum + (f.size ?? 0), 0));
      }
    }
  });

  it('offers a WASM variant for every model, so devices without WebGPU can run it', () => {
    for (const model of parseManifest(shipped).models) {
      expect(
        model.variants.some((v) => v.device === 'wasm'),
        model.id
      ).toBe(true);
    }
  });
});

describe('parseManifest', () => {
  it('rejects a wrong version with the path of the problem', () => {
    expect(() => parseManifest({ version: 2, models: shipped.models })).toThrow(/version/);
  });

  it('lists every problem: bad repo, empty variants, bad sha256', () => {
    const bad = withModel({ source: { repo: 'no-slash', revision: 'main' }, variants: [] });
    const error = (() => {
      try {
        parseManifest(bad);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ManifestError);
    expect((error as Error).message).toMatch(/owner\/name/);
    expect((error as Error).message).toMatch(/variants/);
  });

  it('rejects a malformed sha256 and a negative size', () => {
    const variant = { ...shipped.models[0]!.variants[0]!, files: [{ path: 'a.onnx', size: -1, sha256: 'XYZ' }] };
    expect(() => parseManifest(withModel({ variants: [variant] }))).toThrow(/sha256|positive|too_small|>0/i);
  });

  it('rejects duplicate model ids and duplicate variant ids', () => {
    const [first] = shipped.models;
    expect(() => parseManifest({ version: 1, models: [first, first] })).toThrow(/duplicate model id/);
    const variants = [first!.variants[0], first!.variants[0]];
    expect(() => parseManifest(withModel({ variants }))).toThrow(/duplicate variant id/);
  });

  it('rejects JSON that is not a manifest at all', () => {
    expect(() => parseManifest(null)).toThrow(ManifestError);
    expect(() => parseManifest('models')).toThrow(ManifestError);
  });

  it('finds models by id and names the unknown one', () => {
    const registry = parseManifest(shipped);
    expect(findModel(registry, 'smolvlm-256m').source.repo).toBe('HuggingFaceTB/SmolVLM-256M-Instruct');
    expect(() => findModel(registry, 'nope')).toThrow(/Unknown model "nope"/);
  });
});
