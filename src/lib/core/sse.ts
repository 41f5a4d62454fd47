/**
 * A streamed parser for `text/event-stream` (the WHATWG "server-sent events" format). The app
 * reads job events with `fetch` rather than `EventSource`, which cannot send an `Authorization`
 * header, so it needs its own parser. Chunks may split anywhere, even between the CR and LF of
 * one line break; the parser keeps the unfinished line until the next chunk.
 */

export interface SseEvent {
  /** `message` when the event named no type. */
  event: string;
  data: string;
  /** The last `id` seen on the stream, as `Last-Event-ID` would carry it. */
  id: string;
  /** A reconnection delay the server asked for, in ms. */
  retry: number | null;
}

export class SseParser {
  #buffer = '';
  /** A chunk ended in CR: an LF starting the next one belongs to that line break. */
  #pendingCr = false;
  #event = '';
  #data: string[] = [];
  #lastId = '';
  #retry: number | null = null;

  /** Feeds decoded text; returns the events completed by it, in order. */
  push(chunk: string): SseEvent[] {
    let text = chunk;
    if (this.#pendingCr && text.startsWith('\n')) {
      text = text.slice(1);
    }
    this.#pendingCr = false;
    this.#buffer += text;
    const events: SseEvent[] = [];
    const lineBreak = /\r\n|\r|\n/g;
    let start = 0;
    for (let match = lineBreak.exec(this.#buffer); match; match = lineBreak.exec(this.#buffer)) {
      // A CR at the very end may be the first half of a CRLF split across chunks.
      if (match[0] === '\r' && match.index === this.#buffer.length - 1) {
        this.#pendingCr = true;
      }
      const event = this.#line(this.#buffer.slice(start, match.index));
      if (event) {
        events.push(event);
      }
      start = match.index + match[0].length;
    }
    this.#buffer = this.#buffer.slice(start);
    return events;
  }

  #line(line: string): SseEvent | null {
    if (line === '') {
      return this.#dispatch();
    }
    if (line.startsWith(':')) {
      return null;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) {
      value = value.slice(1);
    }
    if (field === 'event') {
      this.#event = value;
    } else if (field === 'data') {
      this.#data.push(value);
    } else if (field === 'id' && !value.includes('\0')) {
      this.#lastId = value;
    } else if (field === 'retry' && /^\d+$/.test(value)) {
      this.#retry = Number(value);
    }
    return null;
  }

  /** A blank line ends an event; one without data lines is dropped, as browsers do. */
  #dispatch(): SseEvent | null {
    const event = this.#data.length
      ? { event: this.#event || 'message', data: this.#data.join('\n'), id: this.#lastId, retry: this.#retry }
      : null;
    this.#event = '';
    this.#data = [];
    return event;
  }
}

/** The events of a byte stream (a fetch body, a Node response), in order, as they arrive. */
export async function* readSse(body: AsyncIterable<Uint8Array>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  const parser = new SseParser();
  for await (const chunk of body) {
    yield* parser.push(decoder.decode(chunk, { stream: true }));
  }
  yield* parser.push(decoder.decode());
}
