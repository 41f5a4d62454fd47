import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { answerParts, groundedPrompt, NOT_IN_PASSAGES, sourceLabel } from '#lib/core/grounded-answer.ts';
import { advance, createTracker, jumpTo, parseTaskDefinition, taskContext } from '#lib/core/tracker/index.ts';

const coffee = parseTaskDefinition(JSON.parse(readFileSync('static/tasks/brewing-coffee.json', 'utf8')));

describe('groundedPrompt', () => {
  const passages = [
    { source: 'guide.md › Bloom', text: 'Pour 30 g of water and wait 30 seconds.' },
    { source: 'guide.md › Pour', text: 'Pour the rest in slow circles.' }
  ];

  it('numbers the passages in rank order, asks for citations and for "not in the passages"', () => {
    const prompt = groundedPrompt('  How long is the bloom? ', passages);
    expect(prompt).toContain('[1] guide.md › Bloom\nPour 30 g of water and wait 30 seconds.');
    expect(prompt).toContain('[2] guide.md › Pour\nPour the rest in slow circles.');
    expect(prompt.indexOf('[1]')).toBeLessThan(prompt.indexOf('[2] guide'));
    expect(prompt).toContain('like [1]');
    expect(prompt).toContain(NOT_IN_PASSAGES);
    expect(prompt.endsWith('Question: How long is the bloom?')).toBe(true);
  });

  it('keeps the passages within the budget, the best ones keeping the most, cut at a word', () => {
    const words = (word: string, n: number) => ({ source: word, text: `${word} `.repeat(n).trim() });
    const prompt = groundedPrompt('q', [words('alpha', 100), words('beta', 200), words('gamma', 50)], {
      budget: 1_500
    });
    const texts = prompt.split('\n\n').filter((part) => /^\[\d\]/.test(part));
    expect(texts).toHaveLength(2);
    expect(texts[0]).toBe(`[1] alpha\n${words('alpha', 100).text}`);
    expect(texts[1]).toMatch(/^\[2\] beta\n(beta )+beta…$/);
    expect(texts.reduce((sum, part) => sum + part.split('\n')[1]!.length, 0)).toBeLessThanOrEqual(1_500);
    expect(prompt).not.toContain('gamma');
  });

  it('puts context first, and with no passages asks the question with the context alone', () => {
    const prompt = groundedPrompt('What now?', [], { context: 'The user is brewing coffee.' });
    expect(prompt).toBe('The user is brewing coffee.\n\nQuestion: What now?');
    expect(groundedPrompt('What now?', passages, { context: 'Task.' })).toMatch(/^Task\.\n\nAnswer .* the task above/);
  });
});

describe('answerParts', () => {
  it('turns [n], [n, m] and [n][m] into citations of existing passages', () => {
    expect(answerParts('Wait 30 s [1]. Then pour [1, 2][2].', 2)).toEqual([
      { text: 'Wait 30 s ' },
      { cite: 1 },
      { text: '. Then pour ' },
      { cite: 1 },
      { cite: 2 },
      { cite: 2 },
      { text: '.' }
    ]);
  });

  it('leaves invented or malformed references as text', () => {
    expect(answerParts('See [7] and [0] and [a].', 2)).toEqual([{ text: 'See [7] and [0] and [a].' }]);
    expect(answerParts('', 2)).toEqual([]);
    expect(answerParts('[2]', 2)).toEqual([{ cite: 2 }]);
  });
});

describe('sourceLabel and taskContext', () => {
  it('names a passage by document, headings and page', () => {
    expect(sourceLabel('manual.pdf', ['Safety', 'Gloves'], 3)).toBe('manual.pdf › Safety › Gloves › page 3');
    expect(sourceLabel('notes.txt', [])).toBe('notes.txt');
  });

  it('lists the steps, marks where the tracker thinks the user is, and the last move', () => {
    const state = advance(createTracker(coffee, 0), 1_000);
    const context = taskContext(coffee, state);
    expect(context).toContain(`"${coffee.title}"`);
    coffee.steps.forEach((step, i) => expect(context).toContain(`${i + 1}. ${step.title}`));
    const marked = context.split('\n').filter((line) => line.includes('the tracker thinks the user is here'));
    expect(marked).toHaveLength(1);
    expect(marked[0]).toMatch(/^2\. /);
    expect(context).toContain('Last move: from step 1 the user went to step 2 (by hand).');

    const finished = jumpTo(state, coffee.steps.length - 1, 2_000);
    expect(taskContext(coffee, advance(finished, 3_000))).toContain(`all ${coffee.steps.length} steps are done`);
  });
});
