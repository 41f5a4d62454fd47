import {
  BrokenCircuitError,
  circuitBreaker,
  CircuitState,
  ConsecutiveBreaker,
  ExponentialBackoff,
  handleWhen,
  retry,
  wrap,
  type IPolicy
} from 'cockatiel';
import { ApiError, gatewayTimeout, serviceUnavailable } from '../http/errors.ts';
import type { Logger } from '../http/logger.ts';
import type {
  Backend,
  BackendStatus,
  CallObserver,
  CallOptions,
  ChatMessage,
  Capability,
  ChatResult,
  ModelInfo,
  TranscriptionRequest,
  TranscriptionResult,
  Usage
} from './backend.ts';
import { readSse } from '../../src/lib/core/sse.ts';
import { fetchHttp, UpstreamTimeoutError, type UpstreamHttp, type UpstreamReply } from './upstream-http.ts';

export interface UpstreamConfig {
  model: string;
  url: string;
  upstreamModel?: string;
  apiKey?: string;
  /** What the server can do with the model; `chat` and `vision` when not declared. */
  capabilities?: Capability[];
}

export interface OpenAiCompatibleOptions {
  upstreams: UpstreamConfig[];
  /** Per call, until the response starts (a stream may then run as long as it streams). */
  timeoutMs: number;
  /** Consecutive failures that open an upstream's circuit. Default 5. */
  breakAfter?: number;
  /** How long an open circuit refuses calls before letting a trial through. Default 10 s. */
  halfOpenAfterMs?: number;
  /** Tries per upstream for a failure that may pass (network, 429, 5xx). Default 3. */
  attempts?: number;
  onCall?: CallObserver;
  /** How to reach the upstreams; the portable `fetch` adapter when omitted. */
  http?: UpstreamHttp;
  /** Told every circuit change (and each upstream's initial `closed`), for the circuit-state metric. */
  onCircuit?: (upstream: string, state: BackendStatus['circuit']) => void;
  /**
   * Where upstream failures are told in full (network errors name hosts and ports); clients only
   * learn which model failed.
   */
  logger?: Logger;
}

/** A failure of the upstream itself (not of the request): worth a retry, and counted by the breaker. */
class UpstreamFault extends Error {
  override name = 'UpstreamFault';
  readonly status: number | null;
  constructor(message: string, status: number | null, options?: ErrorOptions) {
    super(message, options);
    this.status = status;
  }
}

interface Upstream {
  config: UpstreamConfig;
  /** The same for every call: built once. */
  headers: Record<string, string>;
  /** `upstream-<n>#<model>`, n its place in UPSTREAMS: health and metrics show it, not the URL. */
  id: string;
  /** `config.url` without a trailing slash, for appending paths. */
  base: string;
  policy: IPolicy;
  breaker: ReturnType<typeof circuitBreaker>;
  inFlight: number;
}

const CIRCUIT = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Open]: 'open',
  [CircuitState.Isolated]: 'open'
} as const;

const RETRYABLE_STATUS = new Set([408, 429, 500, 502, 503, 504]);

/**
 * How long one round of upstream probes answers `status()`. The health routes that ask are public:
 * without it, anyone could make every GPU server answer a request per call.
 */
const PROBE_TTL_MS = 5_000;

/** What an upstream is taken to do when `UPSTREAMS` does not say: MedGemma on vLLM, TGI or SGLang. */
const DEFAULT_CAPABILITIES: Capability[] = ['chat', 'vision'];

/**
 * GPU inference servers that speak the OpenAI API (vLLM, TGI, SGLang serving MedGemma). Each
 * upstream has its own circuit breaker and retry policy (cockatiel: exponential backoff with
 * decorrelated jitter); several upstreams for one model are load-balanced by fewest calls in
 * flight among those whose circuit is not open, failing over to the next when one fails.
 */
export function openAiCompatibleBackend(options: OpenAiCompatibleOptions): Backend {
  const http = options.http ?? fetchHttp;
  const halfOpenAfter = options.halfOpenAfterMs ?? 10_000;
  const upstreams: Upstream[] = options.upstreams.map((config, index) => {
    const breaker = circuitBreaker(
      handleWhen((error) => error instanceof UpstreamFault),
      { halfOpenAfter, breaker: new ConsecutiveBreaker(options.breakAfter ?? 5) }
    );
    const retries = retry(
      handleWhen((error) => error instanceof UpstreamFault),
      {
        maxAttempts: (options.attempts ?? 3) - 1,
        backoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: 2_000 })
      }
    );
    const id = `upstream-${index + 1}#${config.model}`;
    options.onCircuit?.(id, 'closed');
    breaker.onStateChange((state) => options.onCircuit?.(id, CIRCUIT[state]));
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      ...(config.apiKey && { authorization: `Bearer ${config.apiKey}` })
    };
    const base = config.url.replace(/\/$/, '');
    return { config, headers, id, base, breaker, policy: wrap(retries, breaker), inFlight: 0 };
  });
  // Fixed once the backend exists, so each call looks its model's servers up.
  const byModel = new Map<string, Upstream[]>();
  for (const upstream of upstreams) {
    byModel.set(upstream.config.model, [...(byModel.get(upstream.config.model) ?? []), upstream]);
  }
  let turn = 0;
  let probes: { startedAt: number; reports: Promise<Probe[]> } | null = null;

  /** Upstreams for `model` worth trying now, least busy first (ties rotate). */
  function candidates(model: string): Upstream[] {
    const all = byModel.get(model);
    if (!all) {
      throw new ApiError(404, 'model_not_found', `The model "${model}" does not exist`);
    }
    turn += 1;
    // One server (the common case) has nothing to balance: no ranking to build per call.
    const usable =
      all.length === 1
        ? all.filter((upstream) => upstream.breaker.state !== CircuitState.Open)
        : all
            .map((upstream, i) => ({ upstream, order: (i + turn) % all.length }))
            .filter(({ upstream }) => upstream.breaker.state !== CircuitState.Open)
            .sort((a, b) => a.upstream.inFlight - b.upstream.inFlight || a.order - b.order)
            .map(({ upstream }) => upstream);
    if (usable.length === 0) {
      throw serviceUnavailable(
        `Every server for "${model}" is failing; try again shortly`,
        'upstream_unavailable',
        halfOpenAfter / 1000
      );
    }
    return usable;
  }

  /** POSTs to the first upstream that answers, failing over on upstream faults. */
  async function call(
    model: string,
    path: string,
    body: (upstream: Upstream) => object | Promise<FormBody>,
    { signal, requestId }: CallOptions
  ): Promise<{ upstream: Upstream; response: UpstreamReply; started: number }> {
    let lastError: unknown;
    for (const upstream of candidates(model)) {
      const started = performance.now();
      upstream.inFlight += 1;
      try {
        const response = await upstream.policy.execute(async () => post(upstream, path, await body(upstream), signal));
        return { upstream, response, started };
      } catch (error) {
        done(upstream, model, started, false);
        if (!(error instanceof UpstreamFault || error instanceof BrokenCircuitError)) {
          throw error;
        }
        logFailure(upstream, error, requestId);
        lastError = error;
      }
    }
    throw toApiError(lastError, model, signal);
  }

  async function post(upstream: Upstream, path: string, body: object, signal: AbortSignal): Promise<UpstreamReply> {
    let response: UpstreamReply;
    const form = isForm(body) ? body : null;
    try {
      response = await http(`${upstream.base}${path}`, {
        method: 'POST',
        headers: form ? { ...upstream.headers, 'content-type': form.contentType } : upstream.headers,
        body: form ? form.multipart : JSON.stringify(body),
        signal,
        timeoutMs: options.timeoutMs
      });
    } catch (error) {
      if (signal.aborted) {
        throw error;
      }
      const timedOut = error instanceof UpstreamTimeoutError;
      const reason = timedOut ? `timed out after ${options.timeoutMs} ms` : (error as Error).message;
      throw new UpstreamFault(reason, timedOut ? 504 : null, { cause: error });
    }
    if (response.status >= 200 && response.status < 300) {
      return response;
    }
    const detail = await errorMessage(response);
    if (RETRYABLE_STATUS.has(response.status)) {
      throw new UpstreamFault(`HTTP ${response.status} ${detail}`, response.status);
    }
    // The request itself was refused (bad input, unknown model there): the client must fix it.
    const status = response.status === 404 ? 404 : response.status === 413 ? 413 : 400;
    throw new ApiError(status, 'upstream_rejected', `The model server refused the request: ${detail}`);
  }

  function done(upstream: Upstream, model: string, started: number, ok: boolean): void {
    upstream.inFlight -= 1;
    options.onCall?.({ backend: upstream.id, model, ms: performance.now() - started, ok });
  }

  function logFailure(upstream: Upstream, error: unknown, requestId?: string): void {
    options.logger?.warn('upstream call failed', {
      request_id: requestId,
      upstream: upstream.id,
      detail: error instanceof Error ? error.message : String(error)
    });
  }

  /** One round of probes serves every health check for {@link PROBE_TTL_MS}, and callers meanwhile share it. */
  function probeAll(): Promise<Probe[]> {
    if (!probes || performance.now() - probes.startedAt >= PROBE_TTL_MS) {
      const reports = Promise.all(upstreams.map((upstream) => probe(http, upstream, options.timeoutMs)));
      probes = { startedAt: performance.now(), reports };
      void reports.then((results) => {
        for (const [i, { failure }] of results.entries()) {
          if (failure !== undefined) {
            logFailure(upstreams[i]!, failure);
          }
        }
      });
    }
    return probes.reports;
  }

  return {
    id: 'openai-compatible',

    models(): ModelInfo[] {
      return [...new Set(upstreams.map((upstream) => upstream.config.model))].map((id) => ({
        id,
        ownedBy: id.split('/')[0] ?? 'upstream',
        capabilities: sharedCapabilities(options.upstreams.filter((upstream) => upstream.model === id))
      }));
    },

    async chat(request, { signal, requestId, onDelta, onStart }): Promise<ChatResult> {
      const streaming = !!onDelta;
      const { upstream, response, started } = await call(
        request.model,
        '/chat/completions',
        (target) => ({
          model: target.config.upstreamModel ?? request.model,
          messages: request.messages.map(toWire),
          max_tokens: request.maxTokens,
          ...(request.temperature !== undefined && { temperature: request.temperature }),
          ...(request.topP !== undefined && { top_p: request.topP }),
          ...(request.stop && { stop: request.stop }),
          stream: streaming,
          ...(streaming && { stream_options: { include_usage: true } })
        }),
        { signal, requestId }
      );
      onStart?.();
      let ok = false;
      try {
        const result = streaming
          ? await readStream(response, onDelta)
          : readCompletion(JSON.parse(await response.text()) as WireCompletion);
        ok = true;
        return result;
      } catch (error) {
        if (signal.aborted) {
          throw error;
        }
        logFailure(upstream, error, requestId);
        throw toApiError(error, request.model, signal);
      } finally {
        done(upstream, request.model, started, ok);
      }
    },

    async embed(model, input, { signal, requestId, dimensions }) {
      const { upstream, response, started } = await call(
        model,
        '/embeddings',
        (target) => ({ model: target.config.upstreamModel ?? model, input, ...(dimensions && { dimensions }) }),
        { signal, requestId }
      );
      try {
        const body = JSON.parse(await response.text()) as {
          data: { embedding: number[]; index: number }[];
          usage?: Usage;
        };
        done(upstream, model, started, true);
        return {
          vectors: [...body.data].sort((a, b) => a.index - b.index).map((item) => item.embedding),
          promptTokens: body.usage?.prompt_tokens ?? 0
        };
      } catch (error) {
        done(upstream, model, started, false);
        if (!signal.aborted) {
          logFailure(upstream, error, requestId);
        }
        throw toApiError(error, model, signal);
      }
    },

    async transcribe(request, { signal, requestId }) {
      const { upstream, response, started } = await call(
        request.model,
        '/audio/transcriptions',
        (target) => transcriptionForm(request, target.config.upstreamModel ?? request.model),
        { signal, requestId }
      );
      try {
        const result = readTranscription(JSON.parse(await response.text()) as WireTranscription);
        done(upstream, request.model, started, true);
        return result;
      } catch (error) {
        done(upstream, request.model, started, false);
        if (!signal.aborted) {
          logFailure(upstream, error, requestId);
        }
        throw toApiError(error, request.model, signal);
      }
    },

    async status(): Promise<BackendStatus[]> {
      const reports = await probeAll();
      // The circuit is read now: a cached probe must not hide a circuit that opened since.
      return reports.map(({ status }, i) => ({ ...status, circuit: CIRCUIT[upstreams[i]!.breaker.state] }));
    },

    close: () => Promise.resolve()
  };
}

/** Requests for a model are balanced over all its servers, so it can do only what every one of them can. */
function sharedCapabilities(servers: UpstreamConfig[]): Capability[] {
  const declared = servers.map((server) => server.capabilities ?? DEFAULT_CAPABILITIES);
  return declared.reduce((shared, next) => shared.filter((capability) => next.includes(capability)));
}

/** A request body that is not JSON: the bytes of a multipart form, and its content type with the boundary. */
interface FormBody {
  multipart: Uint8Array<ArrayBuffer>;
  contentType: string;
}

const isForm = (body: object): body is FormBody => 'multipart' in body && body.multipart instanceof Uint8Array;

/** The recording passed on as OpenAI's multipart form, asking for segments (`verbose_json`). */
async function transcriptionForm(request: TranscriptionRequest, model: string): Promise<FormBody> {
  const form = new FormData();
  form.set('file', new Blob([request.file.bytes], { type: request.file.type }), request.file.name);
  form.set('model', model);
  form.set('response_format', 'verbose_json');
  for (const [name, value] of [
    ['language', request.language],
    ['prompt', request.prompt],
    ['temperature', request.temperature?.toString()]
  ] as const) {
    if (value !== undefined) {
      form.set(name, value);
    }
  }
  // Encoded by the platform, which also picks the boundary.
  const encoded = new Response(form);
  return { multipart: new Uint8Array(await encoded.arrayBuffer()), contentType: encoded.headers.get('content-type')! };
}

interface WireTranscription {
  text?: string;
  language?: string;
  duration?: number;
  segments?: { start: number; end: number; text: string }[];
}

/** A server that answers plain `json` despite the ask gets one segment: the whole recording. */
function readTranscription(body: WireTranscription): TranscriptionResult {
  if (typeof body.text !== 'string') {
    throw new UpstreamFault('The model server answered without a transcript', 502);
  }
  const durationS = body.duration ?? body.segments?.at(-1)?.end ?? 0;
  return {
    text: body.text.trim(),
    language: body.language ?? null,
    durationS,
    segments: body.segments?.map(({ start, end, text }) => ({ start, end, text: text.trim() })) ?? [
      { start: 0, end: durationS, text: body.text.trim() }
    ]
  };
}

function toWire(message: ChatMessage) {
  return {
    role: message.role,
    content: message.content.map((part) =>
      part.type === 'text' ? part : { type: 'image_url', image_url: { url: part.url } }
    )
  };
}

interface WireCompletion {
  choices?: {
    message?: { content?: string | null };
    delta?: { content?: string | null };
    finish_reason?: string | null;
  }[];
  usage?: Usage | null;
}

function readCompletion(body: WireCompletion): ChatResult {
  const choice = body.choices?.[0];
  if (!choice) {
    throw new UpstreamFault('The model server answered without a choice', 502);
  }
  return {
    text: choice.message?.content ?? '',
    finishReason: choice.finish_reason === 'length' ? 'length' : 'stop',
    usage: body.usage ?? { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 }
  };
}

async function readStream(response: UpstreamReply, onDelta: (text: string) => void): Promise<ChatResult> {
  let text = '';
  let finishReason: ChatResult['finishReason'] = 'stop';
  let usage: Usage | null = null;
  for await (const { data: data } of readSse(response.body)) {
    if (data === '[DONE]') {
      break;
    }
    const chunk = JSON.parse(data) as WireCompletion;
    const choice = chunk.choices?.[0];
    const piece = choice?.delta?.content;
    if (piece) {
      text += piece;
      onDelta(piece);
    }
    if (choice?.finish_reason === 'length') {
      finishReason = 'length';
    }
    usage = chunk.usage ?? usage;
  }
  return { text, finishReason, usage: usage ?? { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 } };
}

/** A probe's public report (no circuit: that is read when asked), and what went wrong, for the log only. */
interface Probe {
  status: Omit<BackendStatus, 'circuit'>;
  failure?: unknown;
}

async function probe(http: UpstreamHttp, upstream: Upstream, timeoutMs: number): Promise<Probe> {
  const started = performance.now();
  const base = { id: upstream.id, kind: 'openai-compatible' as const, models: [upstream.config.model] };
  try {
    const response = await http(`${upstream.base}/models`, {
      method: 'GET',
      headers: upstream.config.apiKey ? { authorization: `Bearer ${upstream.config.apiKey}` } : {},
      signal: new AbortController().signal,
      timeoutMs: Math.min(timeoutMs, 5_000)
    });
    response.discard();
    const latencyMs = performance.now() - started;
    return response.status >= 200 && response.status < 300
      ? { status: { ...base, healthy: true, latencyMs } }
      : { status: { ...base, healthy: false, latencyMs, error: `HTTP ${response.status}` } };
  } catch (error) {
    const summary = error instanceof UpstreamTimeoutError ? 'timed out' : 'unreachable';
    return { status: { ...base, healthy: false, latencyMs: null, error: summary }, failure: error };
  }
}

async function errorMessage(response: UpstreamReply): Promise<string> {
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { error?: { message?: string } | string; message?: string };
    const message = typeof body.error === 'string' ? body.error : (body.error?.message ?? body.message);
    return message ? message.slice(0, 500) : text.slice(0, 200);
  } catch {
    return text.slice(0, 200);
  }
}

/**
 * What the client is told: which model failed and how, never the upstream's address or the
 * network error: those are for the server log.
 */
function toApiError(error: unknown, model: string, signal: AbortSignal): unknown {
  if (error instanceof ApiError || signal.aborted) {
    return error;
  }
  if (error instanceof UpstreamFault && error.status === 504) {
    return gatewayTimeout(`The model server for "${model}" did not answer in time`);
  }
  if (error instanceof UpstreamFault || error instanceof BrokenCircuitError) {
    return serviceUnavailable(
      `The model server for "${model}" is unavailable; try again shortly`,
      'upstream_unavailable',
      5
    );
  }
  return serviceUnavailable(`The model server for "${model}" sent an unreadable answer`, 'upstream_invalid');
}
