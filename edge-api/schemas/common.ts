import { z } from '@hono/zod-openapi';

/** A spoken language as Whisper and OpenAI's audio API take it. */
export const LanguageCodeSchema = z.string().regex(/^[a-z]{2,3}$/, 'an ISO-639-1 code such as "en"');

export const ErrorSchema = z
  .object({
    error: z.object({
      message: z.string(),
      type: z.string(),
      param: z.string().nullable(),
      code: z.string()
    })
  })
  .openapi('Error');

const STATUS_TEXT: Record<number, string> = {
  400: 'Malformed request',
  401: 'Missing or invalid credentials',
  404: 'Not found',
  409: 'Conflict',
  413: 'Request body too large',
  415: 'Body is not JSON',
  422: 'Request does not match the schema',
  429: 'Rate limited (see Retry-After)',
  503: 'A backend is unavailable',
  504: 'A backend timed out'
};

/** An OpenAPI response whose body is `schema` as JSON. */
export const jsonResponse = <S extends z.ZodType>(schema: S, description: string) => ({
  description,
  content: { 'application/json': { schema } }
});

/** OpenAPI response entries for the error statuses a route can answer with. */
export function errorResponses(...statuses: number[]) {
  return Object.fromEntries(
    statuses.map((status) => [status, jsonResponse(ErrorSchema, STATUS_TEXT[status] ?? 'Error')])
  );
}

/** The errors every authenticated JSON route may answer with. */
export const COMMON_ERRORS = [400, 401, 413, 415, 422, 429] as const;

/**
 * `true` only when two types are the same: pins a zod schema to the type the PWA reads from
 * src/lib/core, so `const x: SameShape<…> = true` fails the build when they drift apart.
 */
export type SameShape<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
