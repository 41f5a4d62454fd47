import { EdgeRequestError, EdgeUnavailableError, isAbortError } from '#lib/core/errors.ts';
import { BLOCKED_BY_PAGE } from './edge-client.ts';

export type ErrorAction = 'install' | 'upload' | 'retry' | 'free-space' | 'edge-settings' | null;

export interface UserError {
  message: string;
  /** What the UI offers next to the message. */
  action: ErrorAction;
}

/** One place that turns any failure into words and a next step; aborts are expected and silent. */
export function handleError(error: unknown): UserError | null {
  if (isAbortError(error)) {
    return null;
  }
  const name = error instanceof Error || error instanceof DOMException ? error.name : '';
  const message = error instanceof Error || error instanceof DOMException ? error.message : String(error);
  switch (name) {
    case 'ModelNotInstalledError':
      return { message, action: 'install' };
    case 'QuotaError':
    case 'QuotaExceededError':
      return { message: name === 'QuotaError' ? message : 'The device is out of storage.', action: 'free-space' };
    case 'NotAllowedError':
      return {
        message: 'Camera access was denied. Allow it in the browser settings, or upload an image instead.',
        action: 'upload'
      };
    case 'NotFoundError':
    case 'OverconstrainedError':
      return { message: 'No camera was found on this device. Upload an image instead.', action: 'upload' };
    case 'NotReadableError':
      return {
        message: 'The camera is in use by another app. Close it, or upload an image instead.',
        action: 'upload'
      };
    case 'DeviceLostError':
    case 'WorkerCrashError':
      return { message: `${message} Ask again to continue on the CPU (WASM).`, action: 'retry' };
    case 'DownloadError':
    case 'ModelLoadError':
      return { message, action: 'retry' };
    case 'DocumentImportError':
    case 'TaskDefinitionError':
    case 'EngineBusyError':
    case 'UnsupportedRequestError':
      return { message, action: null };
    case 'EdgeAuthError':
      return {
        message: `The edge server refused the credentials (${message}). Check the API key or token in the edge server settings.`,
        action: 'edge-settings'
      };
    case 'EdgeUnavailableError':
      // The page itself forbids that server: waiting for it to answer cannot help.
      if (error instanceof EdgeUnavailableError && error.code === BLOCKED_BY_PAGE) {
        return { message, action: 'edge-settings' };
      }
      return {
        message: `${sentence(message)} Jobs wait on this device and are sent when the server answers.`,
        action: 'retry'
      };
    case 'EdgeRequestError': {
      // The request id finds the request in the server's logs when the message is not enough.
      const requestId = error instanceof EdgeRequestError ? error.requestId : null;
      return {
        message: `The edge server refused the request: ${sentence(message)}${requestId ? ` (Request ${requestId}.)` : ''}`,
        action: null
      };
    }
    default:
      console.error(error);
      return { message: message || 'Something went wrong.', action: null };
  }
}

const sentence = (text: string) => (/[.!?]$/.test(text) ? text : `${text}.`);
