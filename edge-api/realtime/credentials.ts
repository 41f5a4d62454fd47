import { Hono, type MiddlewareHandler } from 'hono';
import type { AuthEnv, Principal } from '../security/principal.ts';

/** The caller an `Authorization` header value (or its absence) stands for. */
export type CheckCredentials = (authorization: string | undefined) => Promise<Principal>;

/**
 * The HTTP routes' own credential check, as a function of a header value: a WebSocket presents
 * its credentials in the handshake's header or, from a browser, in its first message, and both
 * must be judged exactly as HTTP requests are (API keys, JWTs, anonymous and keyless rules).
 * Rejects with the middleware's `ApiError` (401).
 */
export function credentialsCheck(authenticate: MiddlewareHandler<AuthEnv>): CheckCredentials {
  const probe = new Hono<AuthEnv>().get('/', authenticate, (c) => c.json(c.get('principal')));
  // Rethrown, so the caller gets the 401 itself rather than a response to decode.
  probe.onError((error) => {
    throw error;
  });
  return async (authorization) => {
    const response = await probe.request('/', { headers: authorization === undefined ? {} : { authorization } });
    return (await response.json()) as Principal;
  };
}
