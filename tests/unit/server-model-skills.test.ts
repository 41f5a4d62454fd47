import { describe, expect, it } from 'vitest';
import { chooseModels, serverVisionSkills, visionSkills, type ChoiceModel } from '#lib/core/model-choice.ts';

const server = (id: string): ChoiceModel => ({
  id,
  name: id,
  ...serverVisionSkills(id),
  runsOn: 'server',
  available: true
});
const smolvlm: ChoiceModel = {
  id: 'smolvlm',
  name: 'SmolVLM',
  ...visionSkills('smolvlm')!,
  runsOn: 'device',
  available: true
};
const context = { allowServer: true, online: true, pinned: null };

describe("an edge server's vision models in the camera's choice", () => {
  it('MedGemma, by any spelling of its name, is the one for medical images, even with a model installed here', () => {
    for (const id of ['google/medgemma-4b-it', 'MedGemma-27B']) {
      expect(chooseModels('medical', [smolvlm, server(id)], context).map(({ model }) => model.id)).toEqual([
        id,
        'smolvlm'
      ]);
    }
    expect(chooseModels('medical', [smolvlm, server('google/medgemma-4b-it')], context)[0]!.reason).toBe(
      'Best here at medical images'
    );
  });

  it('any other server model answers everything, after the device for what the device does well', () => {
    const phi = server('microsoft/Phi-3.5-vision-instruct');
    expect(chooseModels('describe', [smolvlm, phi], context).map(({ model }) => model.id)).toEqual(['smolvlm', phi.id]);
    // SmolVLM does not point at things; the server's general model does.
    expect(chooseModels('find', [smolvlm, phi], context).map(({ model }) => model.id)).toEqual([phi.id, 'smolvlm']);
    // Not for medicine: a general model is no better at it than the one here.
    expect(chooseModels('medical', [smolvlm, phi], context).map(({ model }) => model.id)).toEqual(['smolvlm', phi.id]);
  });
});
