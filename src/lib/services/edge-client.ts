import { isTransientStatus, parseRetryAfter, retryDelay, type BackoffOptions } from '#lib/core/backoff.ts';
import {
  isFinalJobState,
  type ApiErrorBody,
  type EdgeHealth,
  type EdgeModelList,
  type JobList,
  type JobRequest,
  type JobState,
  type JobView
} from '#lib/core/edge-wire.ts';
import {
  abortError,
  EdgeAuthError,
  EdgeRequestError,
  EdgeUnavailableError,
  type EdgeErrorDetails
} from '#lib/core/errors.ts';
import { pageBlocks } from '#lib/core/page-policy.ts';
import { SseParser, type SseEvent } from '#lib/core/sse.ts';
import type { ChatUsage } from '#lib/core/text-generator.ts';

export interface EdgeConnection {
  /** Where the API lives, e.g. the app's own origin when the edge server also serves the app. */
  baseUrl: string;
  /** An API key (`vh_…`) or a JWT; null asks anonymously (allowed by a server on this machine). */
  credential: string | null;
}

export interface EdgeClientOptions {
  fetch?: typeof fetch;
  /** Per request, until the whole answer is read (for an event stream: until it starts). */
  timeoutMs?: number;
  /** Retries of a request that may be repeated safely (GET, or a POST with an Idempotency-Key). */
  retries?: number;
  backoff?: BackoffOptions;
  /** A longer `Retry-After` is not sat through: the error goes to the caller (the outbox waits instead). */
  maxWaitMs?: number;
  /** An event stream silent for this long is taken as dead (the server sends a comment every 15 s). */
  streamIdleMs?: number;
  random?: () => number;
}

interface Call {
  method?: 'GET' | 'POST';
  body?: unknown;
  idempotencyKey?: string;
  accept?: string;
  signal?: AbortSignal;
}

/** `GET /health/detailed`: what an operator sees of the server (queue, storage, model backends). */
export interface EdgeHealthReport {
  status: 'ok' | 'degraded';
  version: string;
  uptime_s: number;
  queue: {
    adapter: string;
    ok: boolean;
    counts?: Partial<Record<JobState, number>>;
    error?: string;
    latency_ms: number | null;
  };
  storage: { name: string; ok: boolean; detail?: string }[];
  backends: {
    id: string;
    kind: string;
    models: string[];
    healthy: boolean;
    circuit: string;
    latency_ms: number | null;
    error?: string;
  }[];
}

/** A part of a chat message as OpenAI's wire has it: an image is a `data:` URL (or an https URL the server allows). */
export type ChatContentPart = { type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string } };

/** `POST /v1/chat/completions` as the app sends it (the client adds the streaming fields). */
export interface ChatStreamRequest {
  model: string;
  messages: { role: 'system' | 'user' | 'assistant'; content: string | ChatContentPart[] }[];
  max_tokens?: number;
}

/** A streamed chat answer, whole, with how long it took as seen from here. */
export interface ChatStreamResult {
  text: string;
  /** The model that answered, as the server names it. */
  model: string;
  /** From sending the request to the first word of the answer (the whole time when it had none). */
  firstTokenMs: number;
  totalMs: number;
  /** Tokens written: the server's count, else the pieces it sent. */
  tokens: number;
  finishReason: 'stop' | 'length';
}

/** One `chat.completion.chunk`, or the error a stream ends with once its status line has gone out. */
interface ChatChunk {
  model?: string;
  choices?: { delta?: { content?: string }; finish_reason?: 'stop' | 'length' | null }[];
  usage?: ChatUsage | null;
  error?: ApiErrorBody['error'];
}

/** The code of a request the page itself forbids: trying again cannot help. */
export const BLOCKED_BY_PAGE = 'blocked_by_page';

/**
 * The browser's refusal of a request this page may not make (mixed content, or its CSP), said
 * as such: its own "failed to fetch" would read as a server that is down.
 */
function blockedByPage(target: URL): EdgeUnavailableError | null {
  if (typeof location === 'undefined' || typeof document === 'undefined') {
    return null;
  }
  const policies = [...document.querySelectorAll<HTMLMetaElement>('meta[http-equiv="content-security-policy" i]')].map(
    (meta) => meta.content
  );
  const block = pageBlocks(target, new URL(location.href), policies);
  if (!block) {
    return null;
  }
  const why =
    block === 'mixed-content'
      ? 'this app is open over https, and an https page may not call an http:// server (mixed content)'
      : "this app's security policy (connect-src) lets it call only its own server and https:// servers";
  return new EdgeUnavailableError(
    `The browser blocked ${target.origin}: ${why}. Give the edge server an https:// address, or open the app from the edge server itself (${target.origin}).`,
    { status: 0, code: BLOCKED_BY_PAGE }
  );
}

/** A connection that failed, a stream that went quiet, or a deadline: all "the server is not there". */
const unreachable = (message: string, cause?: unknown) => new EdgeUnavailableError(message, { status: 0, cause });

/**
 * The edge API over plain `fetch`, typed with the shapes of `edge-wire.ts`. Requests time out,
 * and those that can be repeated without doing anything twice are retried with backoff on
 * network errors, 429 and 502–504. Failures arrive as `EdgeAuthError`, `EdgeRequestError` or
 * `EdgeUnavailableError`, carrying the status, the server's code and its request id.
 */
export class EdgeClient {
  readonly #fetch: typeof fetch;
  readonly #timeoutMs: number;
  readonly #retries: number;
  readonly #backoff: BackoffOptions;
  readonly #maxWaitMs: number;
  readonly #streamIdleMs: number;
  readonly #random: () => number;
  readonly #base: string;

  constructor(
    readonly connection: EdgeConnection,
    options: EdgeClientOptions = {}
  ) {
    // Unbound, window.fetch throws "Illegal invocation".
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.#timeoutMs = options.timeoutMs ?? 15_000;
    this.#retries = options.retries ?? 3;
    this.#backoff = options.backoff ?? { baseMs: 500, maxMs: 8_000 };
    this.#maxWaitMs = options.maxWaitMs ?? 10_000;
    this.#streamIdleMs = options.streamIdleMs ?? 45_000;
    this.#random = options.random ?? Math.random;
    this.#base = connection.baseUrl.endsWith('/') ? connection.baseUrl : `${connection.baseUrl}/`;
  }

  health(signal?: AbortSignal): Promise<EdgeHealth> {
    return this.#json('health', { signal });
  }

  /** The operator's report: queue counts, storage checks and every model backend. */
  healthDetailed(signal?: AbortSignal): Promise<EdgeHealthReport> {
    return this.#json('health/detailed', { signal });
  }

  models(signal?: AbortSignal): Promise<EdgeModelList> {
    return this.#json('v1/models', { signal });
  }

  /** Queues a job; the same key always answers the same job, so a resend never makes a second one. */
  submitJob(
    request: JobRequest,
    idempotencyKey: string,
    signal?: AbortSignal
  ): Promise<{ job: JobView; replayed: boolean }> {
    return this.#request('v1/jobs', { method: 'POST', body: request, idempotencyKey, signal }, async (response) => ({
      job: (await response.json()) as JobView,
      replayed: response.headers.get('idempotent-replayed') === 'true'
    }));
  }

  listJobs(query: { limit?: number; cursor?: string; state?: JobState } = {}, signal?: AbortSignal): Promise<JobList> {
    const params = new URLSearchParams(
      Object.entries(query).flatMap(([name, value]) => (value === undefined ? [] : [[name, String(value)]]))
    );
    return this.#json(`v1/jobs${params.size ? `?${params}` : ''}`, { signal });
  }

  getJob(id: string, signal?: AbortSignal): Promise<JobView> {
    return this.#json(`v1/jobs/${encodeURIComponent(id)}`, { signal });
  }

  cancelJob(id: string, signal?: AbortSignal): Promise<JobView> {
    return this.#json(`v1/jobs/${encodeURIComponent(id)}/cancel`, { method: 'POST', signal });
  }

  /** An artifact of a completed job (e.g. `report.md`) as text. */
  async artifactText(job: JobView, name: string, signal?: AbortSignal): Promise<string> {
    const artifact = job.artifacts.find((a) => a.name === name);
    if (!artifact) {
      throw new EdgeRequestError(`Job ${job.id} has no artifact "${name}"`, {
        status: 404,
        code: 'artifact_not_found'
      });
    }
    // Artifact URLs are relative to the API's origin (a leading slash).
    return this.#request(artifact.url, { accept: '*/*', signal }, (response) => response.text());
  }

  /**
   * Follows a job through its event stream until it reaches a final state, telling `onJob` every
   * update, and returns the final job. A stream that breaks off or ends early is reopened after
   * asking `GET /v1/jobs/:id` (which sees a job that finished meanwhile); after `retries`
   * reconnections without news it gives up with `EdgeUnavailableError`.
   */
  async followJob(id: string, onJob: (job: JobView) => void, signal?: AbortSignal): Promise<JobView> {
    for (let failures = 0; ;) {
      let heard = false;
      try {
        const final = await this.#streamEvents(id, (job) => ((heard = true), onJob(job)), signal);
        if (final) {
          return final;
        }
      } catch (error) {
        if (!(error instanceof EdgeUnavailableError)) {
          throw error;
        }
      }
      failures = heard ? 0 : failures + 1;
      if (failures > this.#retries) {
        throw unreachable('Lost the connection to the edge server while following the job');
      }
      const job = await this.getJob(id, signal);
      onJob(job);
      if (isFinalJobState(job.state)) {
        return job;
      }
      await sleep(retryDelay(failures, null, this.#backoff, this.#random()), signal);
    }
  }

  /** One event stream; null when it ended before the job did. */
  #streamEvents(id: string, onJob: (job: JobView) => void, signal?: AbortSignal): Promise<JobView | null> {
    return this.#stream(
      `v1/jobs/${encodeURIComponent(id)}/events`,
      { signal },
      'The job’s event stream broke off',
      (event) => {
        if (event.event !== 'state' && event.event !== 'progress') {
          return undefined;
        }
        const job = JSON.parse(event.data) as JobView;
        onJob(job);
        return isFinalJobState(job.state) ? job : undefined;
      }
    );
  }

  /**
   * Asks a chat model with `stream: true` and hands each piece of the answer to `onToken` as it
   * arrives. Never retried: half an answer cannot be asked for again, and the caller has other
   * models to turn to. A stream that breaks off, falls silent or ends early is
   * `EdgeUnavailableError`; a failure the server reports midway carries its message and code.
   */
  async chat(
    request: ChatStreamRequest,
    onToken: (delta: string) => void,
    signal?: AbortSignal
  ): Promise<ChatStreamResult> {
    const started = performance.now();
    let text = '';
    let model = request.model;
    let firstTokenMs: number | null = null;
    let pieces = 0;
    // Set inside the callback, which the compiler does not follow: annotated, not narrowed to null.
    let usage = null as ChatUsage | null;
    let finishReason: ChatStreamResult['finishReason'] = 'stop';
    const body = { ...request, stream: true, stream_options: { include_usage: true } };
    const done = await this.#stream(
      'v1/chat/completions',
      { method: 'POST', body, signal },
      'The edge server’s answer broke off',
      (event) => {
        if (event.data === '[DONE]') {
          return true;
        }
        const chunk = JSON.parse(event.data) as ChatChunk;
        if (chunk.error) {
          throw new EdgeUnavailableError(chunk.error.message, { code: chunk.error.code });
        }
        model = chunk.model ?? model;
        usage = chunk.usage ?? usage;
        for (const choice of chunk.choices ?? []) {
          const delta = choice.delta?.content;
          if (delta) {
            firstTokenMs ??= performance.now() - started;
            pieces += 1;
            text += delta;
            onToken(delta);
          }
          finishReason = choice.finish_reason ?? finishReason;
        }
        return undefined;
      }
    );
    if (!done) {
      throw unreachable('The edge server stopped before the answer was complete');
    }
    const totalMs = performance.now() - started;
    return {
      text,
      model,
      firstTokenMs: firstTokenMs ?? totalMs,
      totalMs,
      tokens: usage?.completion_tokens ?? pieces,
      finishReason
    };
  }

  /**
   * Reads an event stream until `onEvent` returns a result; null when the stream ended first. A
   * stream silent for `streamIdleMs` is stopped, and ends so. The caller's abort is an AbortError;
   * anything else that breaks the stream is `EdgeUnavailableError` (`brokeOff` says what broke).
   */
  async #stream<T>(
    path: string,
    call: Call,
    brokeOff: string,
    onEvent: (event: SseEvent) => T | undefined
  ): Promise<T | null> {
    const { signal } = call;
    const stream = new AbortController();
    let reader: ReadableStreamDefaultReader<string> | undefined;
    // Cancelling the reader ends a pending read even where aborting the request would not reach the body.
    const stop = () => {
      stream.abort();
      void reader?.cancel().catch(() => undefined);
    };
    signal?.addEventListener('abort', stop, { once: true });
    let idle: ReturnType<typeof setTimeout> | undefined;
    const watchIdle = () => {
      clearTimeout(idle);
      idle = setTimeout(stop, this.#streamIdleMs);
    };
    try {
      const response = await this.#attempt(
        path,
        { ...call, accept: 'text/event-stream', signal: stream.signal },
        (opened) => Promise.resolve(opened)
      );
      reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
      const parser = new SseParser();
      watchIdle();
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
        watchIdle();
        for (const event of parser.push(chunk.value)) {
          const result = onEvent(event);
          if (result !== undefined) {
            return result;
          }
        }
      }
      if (signal?.aborted) {
        throw abortError();
      }
      // Ended (or went silent and was stopped) before the result came.
      return null;
    } catch (error) {
      if (signal?.aborted) {
        throw abortError();
      }
      throw error instanceof EdgeAuthError || error instanceof EdgeRequestError || error instanceof EdgeUnavailableError
        ? error
        : unreachable(brokeOff, error);
    } finally {
      clearTimeout(idle);
      signal?.removeEventListener('abort', stop);
      stop();
    }
  }

  #json<T>(path: string, call: Call): Promise<T> {
    return this.#request(path, call, (response) => response.json() as Promise<T>);
  }

  /** A request with the retries it may have; `read` takes the answer apart under the same deadline. */
  async #request<T>(path: string, call: Call, read: (response: Response) => Promise<T>): Promise<T> {
    const repeatable = (call.method ?? 'GET') === 'GET' || call.idempotencyKey !== undefined;
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await this.#attempt(path, call, read);
      } catch (error) {
        const transient =
          error instanceof EdgeUnavailableError &&
          error.code !== BLOCKED_BY_PAGE &&
          (error.status === 0 || isTransientStatus(error.status));
        if (!repeatable || !transient || attempt >= this.#retries) {
          throw error;
        }
        const wait = retryDelay(attempt, error.retryAfterMs, this.#backoff, this.#random());
        if (wait > this.#maxWaitMs) {
          throw error;
        }
        await sleep(wait, call.signal);
      }
    }
  }

  /**
   * One try. The deadline covers the answer and whatever `read` does with its body, so a body
   * that stalls midway times out too; an event stream's `read` returns at once, so only its
   * start is timed.
   */
  async #attempt<T>(path: string, call: Call, read: (response: Response) => Promise<T>): Promise<T> {
    const target = new URL(path, this.#base);
    const blocked = blockedByPage(target);
    if (blocked) {
      throw blocked;
    }
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), this.#timeoutMs);
    const headers = new Headers({ accept: call.accept ?? 'application/json' });
    if (this.connection.credential) {
      headers.set('authorization', `Bearer ${this.connection.credential}`);
    }
    if (call.body !== undefined) {
      headers.set('content-type', 'application/json');
    }
    if (call.idempotencyKey !== undefined) {
      headers.set('idempotency-key', call.idempotencyKey);
    }
    try {
      const response = await this.#fetch(target, {
        method: call.method ?? 'GET',
        headers,
        body: call.body === undefined ? undefined : JSON.stringify(call.body),
        signal: call.signal ? AbortSignal.any([call.signal, deadline.signal]) : deadline.signal,
        cache: 'no-store'
      });
      if (!response.ok) {
        throw await errorOf(response, this.#base);
      }
      return await read(response).catch((error: unknown) => {
        throw error instanceof SyntaxError ? notTheApi(this.#base, response, error) : error;
      });
    } catch (error) {
      if (call.signal?.aborted) {
        throw abortError();
      }
      if (deadline.signal.aborted) {
        throw unreachable(`The edge server did not answer within ${Math.round(this.#timeoutMs / 1000)} s`, error);
      }
      if (
        error instanceof EdgeAuthError ||
        error instanceof EdgeRequestError ||
        error instanceof EdgeUnavailableError
      ) {
        throw error;
      }
      throw unreachable(`Could not reach the edge server at ${this.#base}`, error);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** The right error class for a refused request, with the server's message, code and request id. */
async function errorOf(response: Response, base: string): Promise<Error> {
  const body = (await response.json().catch(() => null)) as Partial<ApiErrorBody> | null;
  const details: EdgeErrorDetails = {
    status: response.status,
    code: body?.error?.code,
    requestId: response.headers.get('x-request-id'),
    retryAfterMs: parseRetryAfter(response.headers.get('retry-after'))
  };
  const message = body?.error?.message ?? `The edge server answered ${response.status} ${response.statusText}`.trim();
  if (response.status === 401 || response.status === 403) {
    return new EdgeAuthError(message, details);
  }
  if (response.status >= 500 || isTransientStatus(response.status)) {
    return new EdgeUnavailableError(message, details);
  }
  // A refusal without the API's error body came from something else: the job itself is not at fault.
  return body?.error ? new EdgeRequestError(message, details) : notTheApi(base, response);
}

/**
 * An answer from a server that is not the edge API (a wrong URL, a proxy's or a portal's page).
 * "Unavailable" rather than "refused": once the URL is fixed, waiting jobs can still be sent.
 */
function notTheApi(base: string, response: Response, cause?: unknown): EdgeUnavailableError {
  const type = response.headers.get('content-type') ?? 'no content type';
  return new EdgeUnavailableError(
    `${base} did not answer like the edge API (HTTP ${response.status}, ${type}). Check the server URL.`,
    { status: response.status, cause }
  );
}

/** Waits `ms`, or rejects with an AbortError as soon as `signal` aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError());
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', cancel);
      resolve();
    }, ms);
    const cancel = () => {
      clearTimeout(timer);
      reject(abortError());
    };
    signal?.addEventListener('abort', cancel, { once: true });
  });
}
