/**
 * The one HTTP call the OpenAI-compatible backend makes, as a port: the portable adapter uses the
 * platform's `fetch` (any Hono runtime); on Node the server passes `undiciHttp()`, which keeps
 * connections alive through undici pools and costs a fraction of `fetch` per request.
 */
export interface UpstreamRequest {
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  /** JSON text, or the bytes of a multipart form (its content type in `headers`). */
  body?: string | Uint8Array<ArrayBuffer>;
  /** The caller went away: stop, and stop reading the body too. */
  signal: AbortSignal;
  /** Until the response head arrives; a stream may then run as long as it streams. */
  timeoutMs: number;
}

export interface UpstreamReply {
  status: number;
  /** The body as it arrives. */
  body: AsyncIterable<Uint8Array>;
  text(): Promise<string>;
  /** Frees the connection without reading the rest. */
  discard(): void;
}

export type UpstreamHttp = (url: string, request: UpstreamRequest) => Promise<UpstreamReply>;

/** No response head within the request's `timeoutMs`. */
export class UpstreamTimeoutError extends Error {
  override name = 'UpstreamTimeoutError';
}

/** The portable adapter: `fetch`, with the timeout covering the wait for the response head. */
export const fetchHttp: UpstreamHttp = async (url, request) => {
  const controller = new AbortController();
  const abort = () => controller.abort(request.signal.reason);
  request.signal.addEventListener('abort', abort, { once: true });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, request.timeoutMs);
  try {
    const response = await fetch(url, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      signal: controller.signal
    });
    const body = response.body ?? new ReadableStream<Uint8Array>({ start: (stream) => stream.close() });
    return {
      status: response.status,
      body,
      text: () => new Response(body).text(),
      discard: () => void body.cancel().catch(() => undefined)
    };
  } catch (error) {
    throw timedOut ? new UpstreamTimeoutError(`no answer within ${request.timeoutMs} ms`, { cause: error }) : error;
  } finally {
    clearTimeout(timer);
  }
};
