/**
 * Errors that cross worker and network boundaries. Comlink keeps only `name`, `message` and
 * `stack`, so every class has a unique `name` and is rebuilt from it on the other side.
 */
export class VisionHubError extends Error {
  readonly code: string;
  constructor(message: string, code: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

function errorClass<N extends string>(name: N, code: string) {
  return class extends VisionHubError {
    override readonly name = name;
    constructor(message: string, options?: { cause?: unknown }) {
      super(message, code, options);
    }
  };
}

export class ManifestError extends errorClass('ManifestError', 'manifest_invalid') {}
export class ModelLoadError extends errorClass('ModelLoadError', 'model_load_failed') {}
export class ModelNotInstalledError extends errorClass('ModelNotInstalledError', 'model_not_installed') {}
export class DeviceLostError extends errorClass('DeviceLostError', 'gpu_device_lost') {}
export class QuotaError extends errorClass('QuotaError', 'storage_quota') {}
export class DownloadError extends errorClass('DownloadError', 'download_failed') {}
export class IntegrityError extends errorClass('IntegrityError', 'integrity_mismatch') {}
export class WorkerCrashError extends errorClass('WorkerCrashError', 'worker_crashed') {}
export class InvalidImageError extends errorClass('InvalidImageError', 'invalid_image') {}
/** Another generation holds the engine: the device runs one at a time. */
export class EngineBusyError extends errorClass('EngineBusyError', 'engine_busy') {}
/** A chat request the chosen engine cannot take as it is (more images than it reads, say). */
export class UnsupportedRequestError extends errorClass('UnsupportedRequestError', 'unsupported_request') {}
/** A document the knowledge base cannot take (format, size, damaged or binary content, duplicate). */
export class DocumentImportError extends errorClass('DocumentImportError', 'document_invalid') {}
/** A task definition file that does not match the schema; the message lists the paths of the first problems. */
export class TaskDefinitionError extends errorClass('TaskDefinitionError', 'task_invalid') {}
/** A saved tracker state that cannot be resumed (corrupt, another task's, or its steps changed since). */
export class TrackerStateError extends errorClass('TrackerStateError', 'tracker_state_invalid') {}
/** A recording that cannot be measured (unreadable, empty, too long) or a microphone that cannot record. */
export class RecordingError extends errorClass('RecordingError', 'recording_unusable') {}

export interface EdgeErrorDetails {
  /** The HTTP status; 0 when no answer came (offline, refused, timed out). */
  status?: number;
  /** The server's error code (`invalid_credentials`, `validation_failed` …), else the class's own. */
  code?: string;
  /** The server's `x-request-id`, to find the request in its logs. */
  requestId?: string | null;
  /** How long the server asked to wait before trying again. */
  retryAfterMs?: number | null;
  cause?: unknown;
}

/** A failed call to the edge API, with what the server said about it. */
abstract class EdgeError extends VisionHubError {
  readonly status: number;
  readonly requestId: string | null;
  readonly retryAfterMs: number | null;
  constructor(message: string, fallbackCode: string, details: EdgeErrorDetails = {}) {
    super(message, details.code ?? fallbackCode, { cause: details.cause });
    this.status = details.status ?? 0;
    this.requestId = details.requestId ?? null;
    this.retryAfterMs = details.retryAfterMs ?? null;
  }
}

/** The edge API refused the credentials (401) or their tenant may not do this (403). */
export class EdgeAuthError extends EdgeError {
  override readonly name = 'EdgeAuthError';
  constructor(message: string, details?: EdgeErrorDetails) {
    super(message, 'edge_auth_failed', details);
  }
}
/** The edge API answered and refused the request itself (400, 404, 409, 413, 415, 422): resending cannot help. */
export class EdgeRequestError extends EdgeError {
  override readonly name = 'EdgeRequestError';
  constructor(message: string, details?: EdgeErrorDetails) {
    super(message, 'edge_request_failed', details);
  }
}
/** The edge API could not be reached or is busy (network, timeout, 429, 502–504): later may work. */
export class EdgeUnavailableError extends EdgeError {
  override readonly name = 'EdgeUnavailableError';
  constructor(message: string, details?: EdgeErrorDetails) {
    super(message, 'edge_unavailable', details);
  }
}

const classesByName = new Map(
  [
    ManifestError,
    ModelLoadError,
    ModelNotInstalledError,
    DeviceLostError,
    QuotaError,
    DownloadError,
    IntegrityError,
    WorkerCrashError,
    InvalidImageError,
    EngineBusyError,
    UnsupportedRequestError,
    DocumentImportError,
    TaskDefinitionError,
    TrackerStateError,
    EdgeAuthError,
    EdgeRequestError,
    EdgeUnavailableError
  ].map((Class) => [new Class('').name as string, Class])
);

/** An `AbortError` the way the platform makes them, so `isAbortError` sees both kinds. */
export function abortError(message = 'The operation was aborted'): DOMException {
  return new DOMException(message, 'AbortError');
}

export function isAbortError(error: unknown): boolean {
  return error instanceof Error || error instanceof DOMException ? error.name === 'AbortError' : false;
}

/**
 * True when storage is full, however it surfaced: a `QuotaExceededError` from the Cache API, or
 * one IndexedDB wrapped (Dexie reports the aborted transaction, with the cause in `inner`).
 */
export function isQuotaExceeded(error: unknown): boolean {
  for (
    let e = error;
    e instanceof Object;
    e = (e as { inner?: unknown; cause?: unknown }).inner ?? (e as Error).cause
  ) {
    if ((e as Error).name === 'QuotaExceededError') {
      return true;
    }
  }
  return false;
}

/** Turns an error that lost its class crossing a boundary back into the class its name names. */
export function reviveError(error: unknown): Error {
  if (!(error instanceof Error)) {
    return new Error(String(error));
  }
  if (error.name === 'AbortError') {
    return abortError(error.message);
  }
  const Class = classesByName.get(error.name);
  return Class && !(error instanceof Class) ? new Class(error.message, { cause: error }) : error;
}
