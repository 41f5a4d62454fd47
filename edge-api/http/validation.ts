import { OpenAPIHono, type z } from '@hono/zod-openapi';
import type { Context, Env, MiddlewareHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { ApiError, badRequest, unprocessable } from './errors.ts';

type Issue = z.core.$ZodIssue;
type Refusal = (target: string, issue: Issue | undefined) => ApiError;

/** A sub-app whose routes validate requests against their zod schemas, refusing a mismatch with `refuse`. */
function validatingRouter<E extends Env>(refuse: Refusal): OpenAPIHono<E> {
  return new OpenAPIHono<E>({
    defaultHook: (result) => {
      if (!result.success) {
        throw refuse(result.target, result.error.issues[0]);
      }
    }
  });
}

/**
 * A sub-app of this API's own routes (jobs, uploads, the state query), validated against the
 * zod schemas the OpenAPI document is generated from. A body that parses but breaks the schema is
 * a 422 naming the first offending field as a dotted path (`input.images.0`); unparseable JSON
 * stays Hono's 400.
 */
export function apiRouter<E extends Env>(): OpenAPIHono<E> {
  return validatingRouter<E>((target, issue) => {
    const path = issue?.path.join('.') ?? '';
    return unprocessable(
      `Invalid ${target}${path ? ` at "${path}"` : ''}: ${issue?.message ?? 'does not match the schema'}`,
      'validation_failed',
      path || undefined
    );
  });
}

/**
 * A sub-app of OpenAI-compatible routes: a request that breaks the schema is a 400
 * `invalid_request_error` whose `param` is the field as OpenAI writes it (`messages[0].content`),
 * which the SDKs raise as `BadRequestError` with `.param`. A field the schema marks unsupported
 * (see {@link unsupportedIssue}) gets the code `unsupported_parameter`.
 */
export function openAiRouter<E extends Env>(): OpenAPIHono<E> {
  return validatingRouter<E>(openAiRefusal);
}

const openAiRefusal: Refusal = (target, issue) => {
  const param = issue ? openAiParam(issue.path) : '';
  if (issue?.code === 'custom' && issue.params?.unsupported === true) {
    return badRequest('unsupported_parameter', issue.message, param);
  }
  const where = target === 'json' ? 'request body' : target;
  return badRequest(
    'validation_failed',
    `Invalid ${where}${param ? ` at '${param}'` : ''}: ${issue?.message ?? 'does not match the schema'}`,
    param || undefined
  );
};

/** Marks a zod refinement's issue as an unsupported parameter for {@link openAiRouter}: its message is the answer's. */
export const unsupportedIssue = { params: { unsupported: true } } as const;

/** `['messages', 0, 'content']` → `messages[0].content`. */
function openAiParam(path: readonly PropertyKey[]): string {
  return path.map((key, i) => (typeof key === 'number' ? `[${key}]` : `${i > 0 ? '.' : ''}${String(key)}`)).join('');
}

const JSON_TYPE = /^application\/(.+\+)?json\b/i;

/** POST bodies must be JSON: anything else is refused before it is read (415). */
export const requireJson: MiddlewareHandler = async (c, next) => {
  checkJsonType(c.req.method, c.req.header('content-type'));
  await next();
};

function checkJsonType(method: string, contentType: string | undefined): void {
  if (method === 'POST' && !JSON_TYPE.test(contentType ?? '')) {
    throw new ApiError(415, 'unsupported_media_type', 'Send the request body as application/json');
  }
}

/** The stricter form `@hono/zod-openapi` admits for a JSON body: parameters allowed, nothing else. */
const JSON_REQUEST = /^application\/([a-z-.]+\+)?json(;\s*[a-zA-Z0-9-]+=([^;]+))*$/i;

/**
 * The JSON body of an OpenAI route, checked against `schema` in one step with the answers
 * `requireJson` and an `openapi()` route's validators give (415, Hono's 400 for unparseable JSON,
 * {@link openAiRouter}'s 400 for a schema mismatch). Those are four async layers and zod's async
 * parse, a fair part of the chat route's cost per request; this parses synchronously, so
 * `schema` must have no async refinements. The route documents its body with
 * `openAPIRegistry.registerPath`.
 */
export async function openAiJsonBody<T extends z.ZodType>(c: Context, schema: T): Promise<z.output<T>> {
  const contentType = c.req.header('content-type');
  checkJsonType(c.req.method, contentType);
  if (!JSON_REQUEST.test(contentType ?? '')) {
    throw new HTTPException(415, { message: 'Unsupported Media Type' });
  }
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    throw new HTTPException(400, { message: 'Malformed JSON in request body' });
  }
  const result = schema.safeParse(body);
  if (!result.success) {
    throw openAiRefusal('json', result.error.issues[0]);
  }
  return result.data;
}
