/** Who is calling: every request past `authenticate()` carries one. */
export interface Principal {
  /** Isolation boundary: rate limits, job quotas and stored data are all per tenant. */
  tenant: string;
  /** The JWT `sub`, the API key's name, or `anonymous`; for logs and audit, never for access decisions. */
  subject: string;
  via: 'jwt' | 'api-key' | 'anonymous';
}

/** The Hono `Env` of routes behind `authenticate()`: `c.get('principal')` is typed and always set. */
export interface AuthEnv {
  Variables: { principal: Principal };
}

/**
 * Tenants end up in Redis keys, log lines and storage paths, so they are restricted to a safe
 * alphabet: no separators (`:`, `/`), no leading dot (`..`), bounded length.
 */
const TENANT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export const isTenant = (value: unknown): value is string => typeof value === 'string' && TENANT.test(value);
