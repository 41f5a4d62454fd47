import type { Context } from 'hono';
import { badRequest } from './errors.ts';

const KEY = /^[\x21-\x7e]{1,255}$/;

/** The request's `Idempotency-Key` (printable ASCII, at most 255 characters), or undefined. */
export function idempotencyKeyOf(c: Context): string | undefined {
  const key = c.req.header('idempotency-key');
  if (key === undefined) {
    return undefined;
  }
  if (!KEY.test(key)) {
    throw badRequest(
      'invalid_idempotency_key',
      'Idempotency-Key must be 1-255 printable ASCII characters',
      'idempotency-key'
    );
  }
  return key;
}
