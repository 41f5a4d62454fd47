import { OpenAPIHono } from '@hono/zod-openapi';
import type { Env, MiddlewareHandler } from 'hono';
import { ApiError, unprocessable } from './errors.ts';

/**
 * A sub-app whose routes validate requests against their zod schemas (the same schemas the
 * OpenAPI document is generated from). A body that parses but breaks the schema is a 422 naming
 * the first offending field; unparseable JSON stays Hono's 400.
 */
export function apiRouter<E extends Env>(): OpenAPIHono<E> {
  return new OpenAPIHono<E>({
    defaultHook: (result) => {
      if (!result.success) {
        const issue = result.error.issues[0];
        const path = issue?.path.join('.') ?? '';
        throw unprocessable(
          `Invalid ${result.target}${path ? ` at "${path}"` : ''}: ${issue?.message ?? 'does not match the schema'}`,
          'validation_failed',
          path || undefined
        );
      }
    }
  });
}

/** POST bodies must be JSON: anything else is refused before it is read (415). */
export const requireJson: MiddlewareHandler = async (c, next) => {
  if (c.req.method === 'POST' && !/^application\/(.+\+)?json\b/i.test(c.req.header('content-type') ?? '')) {
    throw new ApiError(415, 'unsupported_media_type', 'Send the request body as application/json');
  }
  await next();
};
