import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** The OpenAI error `type`s this API answers with, one per family of status. */
export type ErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'conflict_error'
  | 'rate_limit_error'
  | 'server_error'
  | 'service_unavailable_error'
  | 'timeout_error';

const TYPE_OF_STATUS: Record<number, ErrorType> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  409: 'conflict_error',
  413: 'invalid_request_error',
  415: 'invalid_request_error',
  422: 'invalid_request_error',
  429: 'rate_limit_error',
  503: 'service_unavailable_error',
  504: 'timeout_error'
};

/**
 * An error a client should see: its status, and the OpenAI error body
 * `{ error: { message, type, param, code } }`. Anything else thrown is a 500 with a generic
 * message: internal details and stack traces never leave the server.
 */
export class ApiError extends Error {
  override name = 'ApiError';
  readonly status: ContentfulStatusCode;
  readonly type: ErrorType;
  readonly code: string;
  readonly param: string | null;
  readonly headers: Record<string, string>;

  constructor(
    status: ContentfulStatusCode,
    code: string,
    message: string,
    options: { param?: string; headers?: Record<string, string>; cause?: unknown } = {}
  ) {
    super(message, { cause: options.cause });
    this.status = status;
    this.type = TYPE_OF_STATUS[status] ?? 'server_error';
    this.code = code;
    this.param = options.param ?? null;
    this.headers = options.headers ?? {};
  }

  body() {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

export const badRequest = (code: string, message: string, param?: string) =>
  new ApiError(400, code, message, { param });
export const unauthorized = (message: string, code = 'invalid_credentials') =>
  new ApiError(401, code, message, { headers: { 'www-authenticate': 'Bearer' } });
export const notFound = (message: string, code = 'not_found') => new ApiError(404, code, message);
export const conflict = (message: string, code = 'conflict') => new ApiError(409, code, message);
export const unprocessable = (message: string, code = 'unprocessable', param?: string) =>
  new ApiError(422, code, message, { param });
export const tooManyRequests = (message: string, retryAfterS: number, code = 'rate_limited') =>
  new ApiError(429, code, message, {
    headers: { 'retry-after': String(Math.max(1, Math.ceil(retryAfterS))) }
  });
export const serviceUnavailable = (message: string, code = 'unavailable', retryAfterS?: number) =>
  new ApiError(503, code, message, retryAfterS ? { headers: { 'retry-after': String(Math.ceil(retryAfterS)) } } : {});
export const gatewayTimeout = (message: string, code = 'upstream_timeout') => new ApiError(504, code, message);

/** Hono's own exceptions (body limit, bad JSON, …) in the OpenAI shape. */
function fromHttpException(error: HTTPException): ApiError {
  const status = error.status as ContentfulStatusCode;
  const codes: Record<number, [string, string]> = {
    413: ['payload_too_large', 'The request body is too large'],
    415: ['unsupported_media_type', 'Unsupported content type'],
    401: ['invalid_credentials', 'Authentication required']
  };
  const [code, fallback] = codes[status] ?? ['bad_request', 'Bad request'];
  return new ApiError(status, code, error.message || fallback, { cause: error });
}

export function errorResponse(c: Context, error: ApiError): Response {
  for (const [name, value] of Object.entries(error.headers)) {
    c.header(name, value);
  }
  return c.json(error.body(), error.status);
}

/** The app's `onError`: every failure becomes the OpenAI error shape with the right status. */
export function handleError(log: (error: unknown, c: Context) => void): ErrorHandler {
  return (error, c) => {
    if (error instanceof ApiError) {
      return errorResponse(c, error);
    }
    if (error instanceof HTTPException) {
      return errorResponse(c, fromHttpException(error));
    }
    log(error, c);
    return errorResponse(c, new ApiError(500, 'internal_error', 'Internal server error'));
  };
}

export const notFoundHandler: NotFoundHandler = (c) =>
  errorResponse(c, notFound(`No route for ${c.req.method} ${new URL(c.req.url).pathname}`, 'route_not_found'));
