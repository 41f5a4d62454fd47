import { describe, expect, it } from 'vitest';
import { isJobKind, JOB_KINDS, reportArtifactOf, resultOf } from '#lib/core/job-kinds.ts';
import { jobView } from './fixtures/job-view.ts';

const medgemma = JOB_KINDS['medgemma.analyze'];
const image = { url: 'data:image/jpeg;base64,AA==' };

describe('job kinds', () => {
  it('knows the kinds the app sends, and no others', () => {
    expect(isJobKind('medgemma.analyze')).toBe(true);
    expect(isJobKind('sdxl.generate')).toBe(false);
    // Inherited names are not kinds.
    expect(isJobKind('toString')).toBe(false);
    expect(reportArtifactOf('medgemma.analyze')).toBe('report.md');
    expect(reportArtifactOf('sdxl.generate')).toBeNull();
  });

  it('takes a MedGemma input within the limits the server enforces, and refuses one outside them', () => {
    const input = { images: [{ ...image, timestamp_ms: 40 }], prompt: 'What is this?', max_tokens: 256 };
    expect(medgemma.input.parse(input)).toEqual(input);
    expect(medgemma.input.safeParse({ images: [image] }).success).toBe(true);
    for (const bad of [
      { images: [] },
      { images: Array.from({ length: 65 }, () => image) },
      { images: [{ url: '' }] },
      { images: [{ ...image, timestamp_ms: -1 }] },
      { images: [image], prompt: '' },
      { images: [image], prompt: 'x'.repeat(4_001) },
      { images: [image], max_tokens: 2_049 },
      { images: [image], max_tokens: 1.5 },
      { prompt: 'No images' }
    ]) {
      expect(medgemma.input.safeParse(bad).success, JSON.stringify(bad).slice(0, 80)).toBe(false);
    }
  });

  it('reads a MedGemma result only from a completed job of that type and shape', () => {
    const result = { model: 'tiny-smolvlm', findings: [{ index: 0, timestamp_ms: null, text: 'x' }], summary: 'x' };
    expect(resultOf('medgemma.analyze', jobView('completed', { result }))).toEqual(result);
    expect(resultOf('medgemma.analyze', jobView('running', { result }))).toBeNull();
    expect(resultOf('medgemma.analyze', jobView('completed', { result, type: 'sdxl.generate' }))).toBeNull();
    expect(resultOf('medgemma.analyze', jobView('completed', { result: { summary: 1 } }))).toBeNull();
    expect(
      resultOf('medgemma.analyze', jobView('completed', { result: { ...result, findings: [{ index: 0 }] } }))
    ).toBeNull();
    expect(resultOf('medgemma.analyze', null)).toBeNull();
  });
});
