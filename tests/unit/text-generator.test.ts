import { describe, expect, it } from 'vitest';
import { UnsupportedRequestError } from '#lib/core/errors.ts';
import { messageText, singleTurn, type ChatMessage } from '#lib/core/text-generator.ts';

describe('chat requests for single-turn engines', () => {
  it('a single user message is its own prompt, with its one image', () => {
    const messages: ChatMessage<string>[] = [
      {
        role: 'user',
        content: [
          { type: 'image', image: 'frame-1' },
          { type: 'text', text: 'What do you see?' }
        ]
      }
    ];
    expect(singleTurn(messages)).toEqual({ prompt: 'What do you see?', image: 'frame-1' });
    expect(singleTurn([{ role: 'user', content: 'Just text' }])).toEqual({ prompt: 'Just text', image: null });
  });

  it('keeps instructions and earlier turns as labelled lines before the question', () => {
    const { prompt } = singleTurn([
      { role: 'system', content: 'Answer in one sentence.' },
      { role: 'user', content: 'Is the kettle on?' },
      { role: 'assistant', content: 'Yes.' },
      { role: 'user', content: 'Is it boiling?' }
    ]);
    expect(prompt).toBe(
      'Instructions: Answer in one sentence.\n\nUser: Is the kettle on?\n\nAssistant: Yes.\n\nIs it boiling?'
    );
  });

  it('refuses what a single-turn engine cannot answer: two images, or no user message last', () => {
    const two: ChatMessage<string>[] = [
      {
        role: 'user',
        content: [
          { type: 'image', image: 'a' },
          { type: 'image', image: 'b' },
          { type: 'text', text: 'Compare' }
        ]
      }
    ];
    expect(() => singleTurn(two)).toThrow(UnsupportedRequestError);
    expect(() => singleTurn(two)).toThrow(/one image at a time; the request has 2/);
    expect(() => singleTurn([{ role: 'assistant', content: 'Hello' }])).toThrow(/end with the user/);
    expect(() => singleTurn([])).toThrow(UnsupportedRequestError);
  });

  it('the text of a message leaves its images out', () => {
    expect(
      messageText({
        role: 'user',
        content: [
          { type: 'text', text: 'one' },
          { type: 'image', image: 'x' },
          { type: 'text', text: 'two' }
        ]
      })
    ).toBe('one\ntwo');
  });
});
