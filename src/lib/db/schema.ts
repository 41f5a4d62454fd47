import type { KeptArtifact } from '#lib/core/edge-outbox.ts';
import type { JobView } from '#lib/core/edge-wire.ts';
import type { JobKindName, KnownJobRequest } from '#lib/core/job-kinds.ts';
import type { TaskDefinition, TrackerState } from '#lib/core/tracker/index.ts';
import type { GenerationStats } from '#lib/core/engine-types.ts';
import type { SpeechAnalysis } from '#lib/core/speech/analyze-speech.ts';
import type { PerfMetric } from '#lib/services/app-events.ts';

export interface SettingRow {
  key: string;
  value: unknown;
}

export interface InstalledModel {
  modelId: string;
  variantId: string;
  /** Host the files were fetched from; it is part of their cache keys. */
  host: string;
  bytes: number;
  files: { path: string; size: number; sha256: string }[];
  installedAt: number;
}

/** Bytes of an unfinished download, kept so it can resume with a Range request. */
export interface DownloadPart {
  url: string;
  offset: number;
  data: Blob;
  /** Validator of the response the bytes came from; a changed file restarts the download. */
  etag: string | null;
}

export interface Observation {
  id?: number;
  createdAt: number;
  prompt: string;
  answer: string;
  modelId: string;
  variantId: string;
  /** JPEG thumbnail of the frame the answer is about. */
  thumbnail: Blob;
  /** Timings of the answer; `promptTokens` is missing from observations made before it was counted. */
  stats: Omit<GenerationStats, 'text' | 'promptTokens' | 'device'> &
    Partial<Pick<GenerationStats, 'promptTokens'>> & {
      /** Where the answer was computed: this device's engine, or the edge server. */
      device: GenerationStats['device'] | 'server';
    };
  source: 'camera' | 'upload' | 'continuous';
}

export interface KnowledgeBase {
  id?: number;
  name: string;
  createdAt: number;
}

export interface KnowledgeDocument {
  id?: number;
  baseId: number;
  name: string;
  format: 'text' | 'markdown' | 'html' | 'pdf';
  /** SHA-256 of the file's bytes: importing the same file twice into one base is refused. */
  contentHash: string;
  bytes: number;
  chunkCount: number;
  createdAt: number;
}

/** A passage of a document, with where it came from for citations. */
export interface KnowledgeChunk {
  id?: number;
  documentId: number;
  baseId: number;
  index: number;
  text: string;
  /** Offsets into the document's extracted text. */
  start: number;
  end: number;
  headingPath: string[];
  page?: number;
}

/**
 * A document's vectors for one embedding model, packed in one row (`chunkIds.length × dim`
 * floats): loading a base reads one row per document instead of one per passage.
 */
export interface DocumentVectors {
  documentId: number;
  baseId: number;
  modelId: string;
  dim: number;
  chunkIds: number[];
  data: Float32Array;
}

/**
 * The approximate-search graph of a base for one embedding model, serialized (`HnswIndex`), kept
 * so a large base is not re-indexed on every visit. It refers to chunk ids only; whatever it
 * covers that has since been deleted is hidden when it is loaded.
 */
export interface SearchGraph {
  baseId: number;
  modelId: string;
  graph: ArrayBuffer;
  /** Vectors linked into it, deleted ones included. */
  nodes: number;
  updatedAt: number;
}

/** One attempt at a task: the definition as it was when started, and the tracker's state. */
export interface TaskSession {
  id?: number;
  taskId: string;
  definition: TaskDefinition;
  state: TrackerState;
  createdAt: number;
  updatedAt: number;
}

/** What an edge job is about, among what the device keeps. */
export type EdgeJobSubject = { kind: 'observation'; id: number };

/**
 * A job for the edge API, kept on the device from the moment it is asked for: the outbox while
 * it is not sent yet, then the server's view of it, and finally its result and artifacts (the
 * report), readable offline long after the server has forgotten the job.
 */
export interface EdgeJob {
  /** Made on the device, so the job has an identity before any server has seen it. */
  id: string;
  /** Made once with the job and sent with every attempt: the server answers a resend with the same job. */
  idempotencyKey: string;
  /** Which of `JOB_KINDS` it is: always `request.type`. */
  kind: JobKindName;
  request: KnownJobRequest;
  /** What it was asked about, if anything the device keeps. */
  subject: EdgeJobSubject | null;
  /** What it is about, for lists (the question asked). */
  label: string;
  /** The API it was sent to; jobs queued while unsent go to whichever is set when they leave. */
  server: string | null;
  /** The server's job id, once it accepted the job. */
  serverId: string | null;
  /** The last state the server reported. */
  job: JobView | null;
  /** Artifacts of a completed job fetched once so they can be read offline: its kind's report. */
  artifacts: KeptArtifact[];
  /** Why the last try failed; `final` when trying again cannot help (the server refused the job, or lost it). */
  problem: { message: string; code: string; final: boolean } | null;
  /** Failed sends so far, for the backoff. */
  attempts: number;
  /** When the outbox may try again after a failure (Unix ms). */
  retryAt: number;
  /**
   * Present only while the job is to be sent (`workOf` says 'send'): IndexedDB leaves a record
   * without it out of the `outbox` index, so a send round reads the outbox and not every report.
   */
  outbox?: 1;
  createdAt: number;
  updatedAt: number;
}

/** One measurement of the app's own work, as it ran (the status monitor's charts). */
export interface PerfSampleRow {
  id?: number;
  metric: PerfMetric;
  value: number;
  /** Unix ms. */
  at: number;
  model?: string;
  device?: string;
}

/** A failure the user was shown, for the status monitor's log and a bug report. */
export interface ErrorLogEntry {
  id?: number;
  /** Unix ms. */
  at: number;
  /** The part of the app it happened in ("Camera", "Knowledge"). */
  where: string;
  message: string;
  model?: string;
  device?: string;
  /** Which models were in memory at the time, by engine: context when the failure names none. */
  loaded: { engine: string; model: string; device: string }[];
}

/** One reading-practice recording of a learner, measured (the recording itself is not kept). */
export interface ReadingResult {
  id?: number;
  /** The learner's name as the teacher typed it; results are listed per learner. */
  learner: string;
  createdAt: number;
  /** The passage's title, or its first words when it has none. */
  passageTitle: string;
  /** The passage and what was read, when the teacher gave them: the reading is scored against them. */
  passage: string | null;
  transcript: string | null;
  /** Where the audio came from. */
  source: 'microphone' | 'file';
  analysis: SpeechAnalysis;
  /** Time the analysis took in the speech worker. */
  analysisMs: number;
}
