import type { MiddlewareHandler } from 'hono';
import { ConfigError, type Config } from '../config.ts';
import { unauthorized } from '../http/errors.ts';
import { API_KEY_PREFIX, apiKeyLookup, isWellFormedApiKey, parseApiKeyList, type ApiKeyLookup } from './api-keys.ts';
import { createJwtVerifier, type JwtVerifier } from './jwt-verifier.ts';
import type { AuthEnv, Principal } from './principal.ts';

export interface AuthenticateOptions {
  /**
   * Requests without an `Authorization` header get the `local` tenant instead of a 401. With
   * neither API keys nor JWTs configured (keyless), a header is ignored too: no credential
   * could be checked, and OpenAI clients always send one, often a placeholder.
   */
  allowAnonymous: boolean;
  /** Omitted: every API key is refused. */
  apiKeys?: ApiKeyLookup;
  /** Omitted: every JWT is refused. */
  jwt?: JwtVerifier;
}

/** The caller when anonymous access is allowed: one user on their own machine. */
export const ANONYMOUS: Readonly<Principal> = Object.freeze({
  tenant: 'local',
  subject: 'anonymous',
  via: 'anonymous'
});

const BEARER = /^Bearer +(\S+) *$/i;

/**
 * Sets `c.get('principal')` from `Authorization: Bearer <API key | JWT>`, or to {@link ANONYMOUS}
 * when `allowAnonymous` is set and there is no header or the server is keyless (as vLLM, Ollama
 * and LM Studio are without a key); anything else is a 401 in the OpenAI error shape with
 * `WWW-Authenticate: Bearer`. Where credentials are configured, a header that is present but
 * wrong is never downgraded to anonymous: a client that sends credentials expects them checked.
 */
export function authenticate(options: AuthenticateOptions): MiddlewareHandler<AuthEnv> {
  return authenticateWith(credentialCheck(options));
}

/** The caller an `Authorization` header value (or its absence) stands for; rejects with the 401. */
export type CheckCredentials = (authorization: string | undefined) => Promise<Principal>;

/** {@link authenticate} over a credential check (the same check `/ws` applies to its handshake and first message). */
export function authenticateWith(check: CheckCredentials): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    c.set('principal', await check(c.req.header('authorization')));
    await next();
  };
}

/** The rules of {@link authenticate} as a function of the header value. */
export function credentialCheck(options: AuthenticateOptions): CheckCredentials {
  return (header) => principalOf(header, options);
}

async function principalOf(header: string | undefined, options: AuthenticateOptions): Promise<Principal> {
  const keyless = !options.apiKeys && !options.jwt;
  if (options.allowAnonymous && (header === undefined || keyless)) {
    return ANONYMOUS;
  }
  if (header === undefined) {
    throw unauthorized('Authentication required: send Authorization: Bearer <API key or token>', 'missing_credentials');
  }
  if (keyless) {
    throw unauthorized(
      'This server accepts no credentials yet: it has neither API keys nor JWTs configured, and anonymous access is off',
      'invalid_credentials'
    );
  }
  const token = BEARER.exec(header)?.[1];
  if (!token) {
    throw unauthorized('The Authorization header must be "Bearer <API key or token>"', 'invalid_authorization_header');
  }
  if (token.startsWith(API_KEY_PREFIX)) {
    return fromApiKey(token, options.apiKeys);
  }
  if (!options.jwt) {
    throw unauthorized('This server does not accept JWTs; use an API key', 'invalid_credentials');
  }
  const { tenant, subject } = await options.jwt(token);
  return { tenant, subject, via: 'jwt' };
}

async function fromApiKey(key: string, lookup: ApiKeyLookup | undefined): Promise<Principal> {
  // The shape check keeps garbage away from the hash and gives a more useful message for typos.
  if (!isWellFormedApiKey(key)) {
    throw unauthorized('Malformed API key', 'invalid_api_key');
  }
  const entry = await lookup?.(key);
  if (!entry) {
    throw unauthorized('Unknown API key', 'invalid_api_key');
  }
  return { tenant: entry.tenant, subject: entry.name, via: 'api-key' };
}

/**
 * Builds {@link authenticate}'s options from the environment once at startup. JWTs are
 * accepted when a key source (`JWT_SECRET`, `JWT_PUBLIC_KEY` or `JWT_JWKS_URL`) is set, and only
 * those for `JWT_AUDIENCE` from `JWT_ISSUER`.
 * @throws ConfigError naming the variable to fix (a bad API key entry, inconsistent JWT settings)
 */
export async function authenticateOptionsFromConfig(config: Config): Promise<AuthenticateOptions> {
  let apiKeys: ApiKeyLookup | undefined;
  try {
    const entries = parseApiKeyList(config.API_KEYS);
    apiKeys = entries.length ? apiKeyLookup(entries) : undefined;
  } catch (error) {
    throw new ConfigError(`API_KEYS: ${error instanceof Error ? error.message : String(error)}`);
  }
  const keySource = config.JWT_SECRET ?? config.JWT_PUBLIC_KEY ?? config.JWT_JWKS_URL;
  if (keySource === undefined && (config.JWT_ALGORITHMS.length || config.JWT_ISSUER || config.JWT_AUDIENCE)) {
    throw new ConfigError(
      'JWT_ALGORITHMS, JWT_ISSUER or JWT_AUDIENCE is set, but none of JWT_SECRET, JWT_PUBLIC_KEY, JWT_JWKS_URL'
    );
  }
  const jwt =
    keySource === undefined
      ? undefined
      : await createJwtVerifier({
          secret: config.JWT_SECRET,
          publicKey: config.JWT_PUBLIC_KEY,
          jwksUrl: config.JWT_JWKS_URL,
          algorithms: config.JWT_ALGORITHMS,
          // loadConfig refuses a key source without both; an empty one is refused by the verifier too.
          issuer: config.JWT_ISSUER ?? '',
          audience: config.JWT_AUDIENCE ?? '',
          tenantClaim: config.JWT_TENANT_CLAIM
        });
  return { allowAnonymous: config.ALLOW_ANONYMOUS, apiKeys, jwt };
}
