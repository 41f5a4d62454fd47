/**
 * The edge API's JSON shapes that the PWA reads and the server writes. The server's zod schemas
 * are checked against these types at compile time, so the two cannot drift apart.
 */

export type JobState = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';

const FINAL_JOB_STATES: readonly JobState[] = ['completed', 'failed', 'cancelled'];

/** Completed, failed or cancelled: nothing will change any more. */
export const isFinalJobState = (state: string): boolean => (FINAL_JOB_STATES as readonly string[]).includes(state);

export interface JobArtifact {
  name: string;
  /** Relative to the API's origin. */
  url: string;
  bytes: number;
  content_type: string;
}

/** A job as `GET /v1/jobs/:id` answers it. Times are Unix milliseconds. */
export interface JobView {
  id: string;
  object: 'job';
  type: string;
  state: JobState;
  priority: number;
  progress: { fraction: number; message: string | null };
  result: unknown;
  error: { message: string; code: string } | null;
  attempts: number;
  max_attempts: number;
  cancel_requested: boolean;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  artifacts: JobArtifact[];
}

export interface JobList {
  object: 'list';
  data: JobView[];
  /** Pass as `cursor` for the next page; null on the last one. */
  next_cursor: string | null;
}

/**
 * One image for MedGemma (a camera frame, a video frame): a data: URL, `upload:<id>` naming a
 * finished upload, or an https URL on a host the server allows.
 */
export interface AnalysisImage {
  url: string;
  /** Where a video frame sits in its video, so findings can be placed on the timeline. */
  timestamp_ms?: number;
}

/** Input of a `medgemma.analyze` job: one image or a batch of frames. */
export interface MedgemmaAnalyzeInput {
  images: AnalysisImage[];
  /** What to look for; a general description is asked for when omitted. */
  prompt?: string;
  /** The server's configured MedGemma model when omitted. */
  model?: string;
  max_tokens?: number;
}

export interface MedgemmaFinding {
  index: number;
  timestamp_ms: number | null;
  text: string;
}

export interface MedgemmaAnalyzeResult {
  model: string;
  findings: MedgemmaFinding[];
  /** Across all images: the only finding for one image, a model-written summary for a batch. */
  summary: string;
}

/** The OpenAI error body every failed request answers with. */
export interface ApiErrorBody {
  error: { message: string; type: string; param: string | null; code: string };
}

/** `POST /v1/jobs`: a job of one of the server's types, with that type's input. */
export interface JobRequest<T extends string = string, I = unknown> {
  type: T;
  input: I;
  /** -10 to 10; higher runs sooner. */
  priority?: number;
}

export type MedgemmaAnalyzeRequest = JobRequest<'medgemma.analyze', MedgemmaAnalyzeInput>;

/** `GET /health`: the process answers. */
export interface EdgeHealth {
  status: string;
  version: string;
}

/** `GET /v1/models`: OpenAI's model list, with what each model can do. */
export interface EdgeModelList {
  object: 'list';
  data: { id: string; object: 'model'; created: number; owned_by: string; capabilities: string[] }[];
}
