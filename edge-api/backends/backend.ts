/**
 * The inference port: what the chat, embeddings and job routes need from a model server. The
 * `local` adapter runs manifest models on onnxruntime-node; `openai-compatible` forwards to GPU
 * servers (vLLM, TGI, SGLang). Routes speak the OpenAI wire format; adapters only produce text.
 */
import type { Transcript } from '../../src/lib/core/speech/transcript.ts';

export type ContentPart = { type: 'text'; text: string } | { type: 'image'; url: string };

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: ContentPart[];
}

export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  maxTokens: number;
  temperature?: number;
  topP?: number;
  stop?: string[];
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export interface ChatResult {
  text: string;
  finishReason: 'stop' | 'length';
  usage: Usage;
}

export interface CallOptions {
  signal: AbortSignal;
  /** The API request that asked (its `x-request-id`), so that log lines about the call name it. */
  requestId?: string;
}

export interface ChatOptions extends CallOptions {
  /** Streams the answer as it is generated; the result still carries the whole text. */
  onDelta?: (text: string) => void;
  /**
   * Called once, before any delta, when the request has been taken: the model server answered
   * 2xx, or the local model and its inputs are ready. A failure before it is the request's own
   * (a 400, 503, 504 …), which a streaming route can still answer with its status.
   */
  onStart?: () => void;
}

export interface EmbedOptions extends CallOptions {
  /**
   * Shorter vectors, asked of a model trained for them (Matryoshka). Passed on to model servers,
   * which decide; a backend that cannot shorten returns the model's own size and the route
   * refuses the mismatch, so a vector is never cut where the model was not trained for it.
   */
  dimensions?: number;
}

export interface EmbeddingResult {
  vectors: number[][];
  promptTokens: number;
}

/** A recording as the client sent it (a multipart file part, or the seed's base64 audio). */
export interface AudioFile {
  bytes: Uint8Array<ArrayBuffer>;
  /** The file name the client gave (model servers read the format from its extension). */
  name: string;
  /** Its media type; `application/octet-stream` when not told. */
  type: string;
  /** The rate of bare PCM samples; a WAV file says its own. */
  sampleRate?: number;
  /** The request field it came in (`file`, `audioBase64`), which an error about it names. */
  field: string;
}

export interface TranscriptionRequest {
  model: string;
  file: AudioFile;
  /** ISO-639-1 code of the spoken language; the model detects it when absent. */
  language?: string;
  /** Text the transcript should follow on from (names, spelling). */
  prompt?: string;
  temperature?: number;
}

export interface TranscriptionResult extends Transcript {
  /** The language as OpenAI names it (`english`), or null when the model did not say. */
  language: string | null;
  durationS: number;
}

/**
 * What a model can do: `chat` (with images when also `vision`), `embeddings`, `images`
 * (generation), `audio`. Each backend declares its models' capabilities; routes and job types name
 * the one they need, and `/v1/models` lists them. A new kind of engine adds its name here.
 */
export const CAPABILITIES = ['chat', 'vision', 'embeddings', 'images', 'audio'] as const;

export type Capability = (typeof CAPABILITIES)[number];

export interface ModelInfo {
  id: string;
  capabilities: Capability[];
  ownedBy: string;
}

/** The state of one backend as health and metrics report it. */
export interface BackendStatus {
  id: string;
  kind: 'local' | 'openai-compatible';
  models: string[];
  healthy: boolean;
  /** `closed` lets calls through; `open` refuses them until a trial call succeeds. */
  circuit: 'closed' | 'open' | 'half-open';
  latencyMs: number | null;
  error?: string;
}

export interface Backend {
  readonly id: string;
  models(): ModelInfo[];
  chat(request: ChatRequest, options: ChatOptions): Promise<ChatResult>;
  embed(model: string, input: string[], options: EmbedOptions): Promise<EmbeddingResult>;
  /** Speech to text: the transcript with timed segments. */
  transcribe(request: TranscriptionRequest, options: CallOptions): Promise<TranscriptionResult>;
  /** Checks reachability now (a cheap call per server), for readiness and `/health/detailed`. */
  status(): Promise<BackendStatus[]>;
  close(): Promise<void>;
}

/** Reports each call to a model server, for latency metrics. */
export type CallObserver = (call: { backend: string; model: string; ms: number; ok: boolean }) => void;
