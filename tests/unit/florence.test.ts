import { describe, expect, it } from 'vitest';
import { florenceAnswer, florenceRequest, florenceStreamFilter } from '#lib/core/florence.ts';

describe('florenceRequest: a camera question as a Florence-2 task', () => {
  it.each([
    ['Read the text', '<OCR_WITH_REGION>', ''],
    ['Where is the kettle?', '<CAPTION_TO_PHRASE_GROUNDING>the kettle', 'the kettle'],
    ['Find the red cable.', '<CAPTION_TO_PHRASE_GROUNDING>the red cable', 'the red cable'],
    ["Where's my phone", '<CAPTION_TO_PHRASE_GROUNDING>my phone', 'my phone'],
    ['Where?', '<DENSE_REGION_CAPTION>', ''],
    ['What is where?', '<DENSE_REGION_CAPTION>', ''],
    ['Can you find the red cable?', '<CAPTION_TO_PHRASE_GROUNDING>the red cable', 'the red cable'],
    ['How many cups are there?', '<OD>', ''],
    ['What do you see?', '<MORE_DETAILED_CAPTION>', '']
  ])('%s → %s', (question, text, phrase) => {
    expect(florenceRequest(question)).toMatchObject({ text, phrase });
  });
});

describe('florenceStreamFilter', () => {
  it('drops sequence markers and ends a line at each run of locations, across piece boundaries', () => {
    const filter = florenceStreamFilter();
    const pieces = ['<s>EXIT<loc_1><loc_2>', '<loc_3><lo', 'c_4>Fire door', '<loc_5><loc_6></s>'];
    expect(pieces.map(filter).join('')).toBe('EXIT\nFire door\n');
  });
});

describe('florenceAnswer', () => {
  const ocr = florenceRequest('Read the text');
  it('text read with regions: one line per region, and the regions as text annotations', () => {
    const parsed = {
      labels: ['EXIT', 'Fire door'],
      quad_boxes: [
        [1, 1, 9, 1, 9, 5, 1, 5],
        [1, 6, 9, 6, 9, 9, 1, 9]
      ]
    };
    const { text, annotations } = florenceAnswer(ocr, parsed, 10, 10);
    expect(text).toBe('EXIT\nFire door');
    expect(annotations?.items.map((item) => [item.kind, item.label])).toEqual([
      ['text', 'EXIT'],
      ['text', 'Fire door']
    ]);
    expect(florenceAnswer(ocr, { labels: [], quad_boxes: [] }, 10, 10).text).toBe('No text found.');
  });

  it('a phrase found in so many places, or not at all', () => {
    const find = florenceRequest('Where is the kettle?');
    const twice = {
      labels: ['the kettle', 'the kettle'],
      bboxes: [
        [0, 0, 4, 4],
        [5, 5, 9, 9]
      ]
    };
    expect(florenceAnswer(find, twice, 10, 10).text).toBe('Found the kettle in 2 places.');
    expect(florenceAnswer(find, { labels: [], bboxes: [] }, 10, 10).text).toBe('Could not find the kettle.');
  });

  it('regions described one per line', () => {
    const dense = florenceRequest('Where?');
    const parsed = {
      labels: ['a red kettle', 'a wooden table'],
      bboxes: [
        [0, 0, 4, 4],
        [0, 5, 9, 9]
      ]
    };
    const { text, annotations } = florenceAnswer(dense, parsed, 10, 10);
    expect(text).toBe('a red kettle\na wooden table');
    expect(annotations?.items.map((item) => item.kind)).toEqual(['object', 'object']);
  });

  it('objects counted by name; a caption as it is, without regions', () => {
    const od = florenceRequest('How many cups?');
    const parsed = {
      labels: ['cup', 'cup', 'table'],
      bboxes: [
        [0, 0, 1, 1],
        [2, 2, 3, 3],
        [0, 0, 9, 9]
      ]
    };
    expect(florenceAnswer(od, parsed, 10, 10).text).toBe('2 × cup, table');
    const caption = florenceAnswer(florenceRequest('What do you see?'), ' A kettle on a table. ', 10, 10);
    expect(caption).toEqual({ text: 'A kettle on a table.', annotations: null });
  });
});
