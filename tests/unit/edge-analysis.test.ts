import { describe, expect, it } from 'vitest';
import type { EdgeModelList } from '#lib/core/edge-wire.ts';
import { jobProblemInWords, modelForJob, NO_ANALYSIS_MODEL } from '#lib/services/edge-analysis.service.ts';

const model = (id: string, capabilities: string[]): EdgeModelList['data'][number] => ({
  id,
  object: 'model',
  created: 0,
  owned_by: 'local',
  capabilities
});

describe('the model a detailed analysis runs on', () => {
  it('is none when the server has no vision model (the default server with no models)', () => {
    expect(modelForJob([], 'medgemma.analyze')).toBeNull();
    expect(modelForJob([model('minilm', ['embeddings']), model('qwen', ['chat'])], 'medgemma.analyze')).toBeNull();
  });

  it('is MedGemma where the server runs it, else the vision model it has', () => {
    const tiny = model('tiny-smolvlm', ['chat', 'vision']);
    expect(modelForJob([tiny, model('google/medgemma-4b-it', ['chat', 'vision'])], 'medgemma.analyze')).toBe(
      'google/medgemma-4b-it'
    );
    expect(modelForJob([model('minilm', ['embeddings']), tiny], 'medgemma.analyze')).toBe('tiny-smolvlm');
  });
});

describe('why a job failed, in words', () => {
  it("replaces the server's operator advice about models with what it means for the user", () => {
    const operator =
      'The model "google/medgemma-4b-it" does not exist; GET /v1/models lists them. Point UPSTREAMS at a server that runs it.';
    expect(jobProblemInWords('model_not_found', operator)).toBe(NO_ANALYSIS_MODEL);
    expect(jobProblemInWords('model_not_capable', 'The model "x" cannot do vision')).toBe(NO_ANALYSIS_MODEL);
    expect(jobProblemInWords('payload_too_large', 'Too large')).toBe('Too large');
    expect(jobProblemInWords(undefined, 'Lost')).toBe('Lost');
  });
});
