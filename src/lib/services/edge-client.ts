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
import { SseParser } from '#lib/core/sse.ts';

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
  async #streamEvents(id: string, onJob: (job: JobView) => void, signal?: AbortSignal): Promise<JobView | null> {
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
        `v1/jobs/${encodeURIComponent(id)}/events`,
        { accept: 'text/event-stream', signal: stream.signal },
        (opened) => Promise.resolve(opened)
      );
      reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
      const parser = new SseParser();
      watchIdle();
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
        watchIdle();
        for (const event of parser.push(chunk.value)) {
          if (event.event === 'state' || event.event === 'progress') {
            const job = JSON.parse(event.data) as JobView;
            onJob(job);
            if (isFinalJobState(job.state)) {
              return job;
            }
          }
        }
      }
      if (signal?.aborted) {
        throw abortError();
      }
      // Ended (or went silent and was stopped) before the job did.
      return null;
    } catch (error) {
      if (signal?.aborted) {
        throw abortError();
      }
      throw error instanceof EdgeAuthError || error instanceof EdgeRequestError
        ? error
        : unreachable('The job’s event stream broke off', error);
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
