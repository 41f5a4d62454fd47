import { describe, expect, it } from 'vitest';
import { chooseModels, detectIntent, type ChoiceContext, type ChoiceModel } from '#lib/core/model-choice.ts';

describe('detectIntent', () => {
  it.each([
    ['What do you see?', 'describe'],
    ['Is anything unsafe?', 'describe'],
    ['Read the text', 'read-text'],
    ['What does the sign say?', 'read-text'],
    ['Read the label on the pill bottle', 'read-text'],
    ['How many apples are on the table?', 'count'],
    ['Count the screws', 'count'],
    ['Where is the kettle?', 'find'],
    ['Find the red cable', 'find'],
    ['Does this rash look infected?', 'medical'],
    ['What does this X-ray show?', 'medical'],
    ['Describe the wound', 'medical']
  ] as const)('%s → %s', (prompt, intent) => {
    expect(detectIntent(prompt)).toBe(intent);
  });

  it('matches whole words only: "contextual" is not "text", "skinny" not "skin"', () => {
    expect(detectIntent('Is the layout contextual?')).toBe('describe');
    expect(detectIntent('Is the dog skinny?')).toBe('describe');
  });
});

const model = (id: string, overrides: Partial<ChoiceModel> = {}): ChoiceModel => ({
  id,
  name: id,
  skills: ['describe', 'read-text', 'count'],
  freeform: true,
  runsOn: 'device',
  available: true,
  ...overrides
});
const smolvlm = model('smolvlm');
const moondream = model('moondream', { skills: ['describe', 'count'] });
const florence = model('florence-2', { skills: ['read-text', 'find', 'describe'], freeform: false });
const medgemma = model('medgemma', { skills: ['medical'], runsOn: 'server' });
const phi = model('phi-3.5-vision', { runsOn: 'server', skills: ['describe', 'read-text', 'count', 'find'] });
const here: ChoiceContext = { allowServer: false, online: true, pinned: null };
const anywhere: ChoiceContext = { ...here, allowServer: true };
const ids = (models: ReturnType<typeof chooseModels>) => models.map((candidate) => candidate.model.id);

describe('chooseModels (intent × what runs where × what is installed → ordered candidates)', () => {
  const all = [smolvlm, moondream, florence, medgemma, phi];

  it('reading text: the model for which it is the main skill first, then others that read, then those that can only try', () => {
    const candidates = chooseModels('read-text', all, here);
    expect(ids(candidates)).toEqual(['florence-2', 'smolvlm', 'moondream']);
    expect(candidates.map((c) => c.reason)).toEqual([
      'Best here at reading text',
      'Also good at reading text',
      'Answers any question'
    ]);
    expect(ids(chooseModels('describe', all, here))).toEqual(['smolvlm', 'moondream', 'florence-2']);
  });

  it('a task model never gets a question it cannot answer', () => {
    expect(ids(chooseModels('count', [florence, moondream], here))).toEqual(['moondream']);
    expect(chooseModels('count', [florence], here)).toEqual([]);
  });

  it('server models only when the user allows it and the network is there, after the device ones', () => {
    expect(ids(chooseModels('find', all, here))).toEqual(['florence-2', 'smolvlm', 'moondream']);
    expect(ids(chooseModels('find', all, anywhere))).toEqual([
      'florence-2',
      'phi-3.5-vision',
      'smolvlm',
      'moondream',
      'medgemma'
    ]);
    expect(ids(chooseModels('find', all, { ...anywhere, online: false }))).toEqual([
      'florence-2',
      'smolvlm',
      'moondream'
    ]);
  });

  it('a medical question goes to the medical model on the server when allowed, else a general model says what it can', () => {
    const allowed = chooseModels('medical', all, anywhere);
    expect(ids(allowed)[0]).toBe('medgemma');
    expect(allowed[0]!.reason).toBe('Best here at medical images');
    const local = chooseModels('medical', all, here);
    expect(ids(local)).toEqual(['smolvlm', 'moondream']);
    expect(local[0]!.reason).toBe('Answers any question; none here is better at medical images');
  });

  it('models not installed (or that cannot run on this device) are left out', () => {
    const missing = [model('smolvlm', { available: false }), moondream];
    expect(ids(chooseModels('describe', missing, here))).toEqual(['moondream']);
  });

  it('a pinned model answers alone, whatever the question; a pinned model that is not usable gives none', () => {
    const pinned = chooseModels('read-text', all, { ...here, pinned: 'moondream' });
    expect(pinned).toEqual([{ model: moondream, reason: 'Chosen by you for every question' }]);
    expect(chooseModels('describe', all, { ...here, pinned: 'medgemma' })).toEqual([]);
  });
});
