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
/** A document the knowledge base cannot take (format, size, damaged or binary content, duplicate). */
export class DocumentImportError extends errorClass('DocumentImportError', 'document_invalid') {}
/** A task definition file that does not match the schema; the message lists the paths of the first problems. */
export class TaskDefinitionError extends errorClass('TaskDefinitionError', 'task_invalid') {}
/** A saved tracker state that cannot be resumed (corrupt, another task's, or its steps changed since). */
export class TrackerStateError extends errorClass('TrackerStateError', 'tracker_state_invalid') {}

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
    DocumentImportError,
    TaskDefinitionError,
    TrackerStateError
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
