import { describe, expect, it } from 'vitest';
import { SseParser } from '#lib/core/sse.ts';

/** Feeds `text` to a fresh parser in pieces cut at `cuts` and collects every event. */
function parse(text: string, cuts: number[] = []) {
  const parser = new SseParser();
  const bounds = [0, ...cuts, text.length];
  return bounds.slice(1).flatMap((end, i) => parser.push(text.slice(bounds[i], end)));
}

describe('SSE parser', () => {
  it('reads named events with their data, id and retry, and skips comments', () => {
    const stream =
      ': keep-alive\n\nevent: state\nid: 1\ndata: {"a":1}\n\nretry: 3000\nevent: progress\nid: 2\ndata: {"a":2}\n\n';
    expect(parse(stream)).toEqual([
      { event: 'state', data: '{"a":1}', id: '1', retry: null },
      { event: 'progress', data: '{"a":2}', id: '2', retry: 3000 }
    ]);
  });

  it('joins data lines with newlines, defaults the type to message and keeps spaces after the first', () => {
    expect(parse('data:first\ndata:  second\ndata\n\n')).toEqual([
      { event: 'message', data: 'first\n second\n', id: '', retry: null }
    ]);
  });

  it('gives the same events however the stream is cut, CRLF split across chunks included', () => {
    const stream = 'event: state\r\ndata: {"x":"é"}\r\n\r\nevent: progress\rdata: 2\r\rdata: 3\n\n';
    const whole = parse(stream);
    expect(whole.map((e) => e.data)).toEqual(['{"x":"é"}', '2', '3']);
    for (let cut = 1; cut < stream.length; cut += 1) {
      expect(parse(stream, [cut]), `cut at ${cut}`).toEqual(whole);
    }
    expect(parse(stream, [...stream].map((_, i) => i).slice(1))).toEqual(whole);
  });

  it('holds an unfinished event until its blank line arrives, and drops events without data', () => {
    const parser = new SseParser();
    expect(parser.push('event: state\ndata: {"done":')).toEqual([]);
    expect(parser.push('false}\n')).toEqual([]);
    expect(parser.push('\n')).toEqual([{ event: 'state', data: '{"done":false}', id: '', retry: null }]);
    expect(parser.push('event: ping\n\n')).toEqual([]);
  });
});
