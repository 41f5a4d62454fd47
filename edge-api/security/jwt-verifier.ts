import {
  createRemoteJWKSet,
  errors,
  importSPKI,
  jwtVerify,
  type CryptoKey,
  type JWTPayload,
  type JWTVerifyGetKey
} from 'jose';
import { ConfigError } from '../config.ts';
import { ApiError, serviceUnavailable, unauthorized } from '../http/errors.ts';
import { isTenant } from './principal.ts';

/** What a verified token says about its caller. */
export interface JwtIdentity {
  tenant: string;
  subject: string;
}

/** Verifies a compact JWS; rejects with a 401 (or a 503 when signing keys cannot be fetched). */
export type JwtVerifier = (token: string) => Promise<JwtIdentity>;

/** Mirrors the `JWT_*` variables of the environment; exactly one key source must be set. */
export interface JwtVerifierOptions {
  /** Shared HMAC secret (`JWT_SECRET`). */
  secret?: string;
  /** SPKI PEM public key (`JWT_PUBLIC_KEY`). */
  publicKey?: string;
  /** JSON Web Key Set URL (`JWT_JWKS_URL`); keys are cached and refetched on an unknown `kid`. */
  jwksUrl?: string;
  /**
   * Accepted `alg`s (`JWT_ALGORITHMS`). Empty: HS256 for a secret, the algorithm the public key's
   * type implies (RS256, ES256/384/512 by curve, EdDSA/Ed25519), or every asymmetric one for a JWKS.
   */
  algorithms?: readonly string[];
  /** The only `iss` accepted (`JWT_ISSUER`). */
  issuer: string;
  /** The `aud` a token must name (`JWT_AUDIENCE`): this server, not another app of the same provider. */
  audience: string;
  /** The claim naming the tenant (`JWT_TENANT_CLAIM`). */
  tenantClaim?: string;
  /** Allowed clock skew for `exp`/`nbf`, in seconds. */
  clockToleranceS?: number;
}

const HMAC = ['HS256', 'HS384', 'HS512'];
const ASYMMETRIC = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519'
];
/** Tried in order against a public key when no algorithm is configured: only those of its key type import. */
const PUBLIC_KEY_DEFAULTS = ['RS256', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];
/** RFC 7518 §3.2: an HMAC key must be at least as long as the hash output. */
const MIN_SECRET_BYTES: Record<string, number> = { HS256: 32, HS384: 48, HS512: 64 };
const DEFAULT_CLOCK_TOLERANCE_S = 30;

/**
 * Builds the JWT verifier once at startup. Algorithms are pinned to the configured key's family,
 * so a token cannot pick how it is checked (`alg: none`, or HS256 signed with the public key as
 * the secret). Bad options throw a `ConfigError` naming the variable to fix.
 */
export async function createJwtVerifier(options: JwtVerifierOptions): Promise<JwtVerifier> {
  const tenantClaim = options.tenantClaim ?? 'tenant';
  if (!tenantClaim) {
    throw new ConfigError('JWT_TENANT_CLAIM must not be empty');
  }
  // jose checks `iss`/`aud` only when given one, so an empty value would accept every token.
  if (!options.issuer || !options.audience) {
    throw new ConfigError('JWT verification needs JWT_ISSUER and JWT_AUDIENCE');
  }
  const { algorithms, getKey } = await keySource(options);
  const verifyOptions = {
    algorithms,
    issuer: options.issuer,
    audience: options.audience,
    clockTolerance: options.clockToleranceS ?? DEFAULT_CLOCK_TOLERANCE_S,
    // A token without `exp` would be valid forever: refuse it rather than trust its issuer to rotate.
    requiredClaims: ['exp']
  };
  return async (token) => {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, getKey, verifyOptions));
    } catch (error) {
      throw toApiError(error);
    }
    return { tenant: tenantOf(payload, tenantClaim), subject: subjectOf(payload) };
  };
}

async function keySource(options: JwtVerifierOptions): Promise<{ algorithms: string[]; getKey: JWTVerifyGetKey }> {
  const sources = [
    options.secret !== undefined && 'JWT_SECRET',
    options.publicKey !== undefined && 'JWT_PUBLIC_KEY',
    options.jwksUrl !== undefined && 'JWT_JWKS_URL'
  ].filter((source) => source !== false);
  if (sources.length !== 1) {
    throw new ConfigError(
      sources.length === 0
        ? 'JWT verification needs one of JWT_SECRET, JWT_PUBLIC_KEY or JWT_JWKS_URL'
        : `Set only one of ${sources.join(', ')}: one key source keeps the accepted algorithms unambiguous`
    );
  }
  const configured = [...(options.algorithms ?? [])];
  checkKnown(configured);
  if (options.secret !== undefined) {
    return secretSource(options.secret, configured);
  }
  if (options.publicKey !== undefined) {
    return publicKeySource(options.publicKey, configured);
  }
  return jwksSource(options.jwksUrl ?? '', configured);
}

function checkKnown(algorithms: string[]): void {
  for (const alg of algorithms) {
    if (alg.toLowerCase() === 'none') {
      throw new ConfigError('JWT_ALGORITHMS must not include "none": unsigned tokens would be accepted');
    }
    if (!HMAC.includes(alg) && !ASYMMETRIC.includes(alg)) {
      throw new ConfigError(
        `JWT_ALGORITHMS: unknown algorithm "${alg}" (supported: ${[...HMAC, ...ASYMMETRIC].join(', ')})`
      );
    }
  }
}

function secretSource(secret: string, configured: string[]) {
  const algorithms = configured.length ? configured : ['HS256'];
  const asymmetric = algorithms.filter((alg) => !HMAC.includes(alg));
  if (asymmetric.length) {
    throw new ConfigError(
      `JWT_ALGORITHMS names ${asymmetric.join(', ')}, which need JWT_PUBLIC_KEY or JWT_JWKS_URL; only JWT_SECRET is set`
    );
  }
  const key = new TextEncoder().encode(secret);
  for (const alg of algorithms) {
    const min = MIN_SECRET_BYTES[alg] ?? 32;
    if (key.byteLength < min) {
      throw new ConfigError(`JWT_SECRET must be at least ${min} bytes for ${alg}`);
    }
  }
  return { algorithms, getKey: () => key };
}

async function publicKeySource(pem: string, configured: string[]) {
  refuseHmac(configured, 'JWT_PUBLIC_KEY');
  const keys = new Map<string, CryptoKey>();
  for (const alg of configured.length ? configured : PUBLIC_KEY_DEFAULTS) {
    try {
      // Environment files often carry the PEM on one line with literal "\n"s.
      keys.set(alg, await importSPKI(pem.replaceAll('\\n', '\n'), alg));
    } catch (error) {
      if (configured.length) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new ConfigError(`JWT_PUBLIC_KEY is not an SPKI PEM public key usable with ${alg}: ${reason}`);
      }
    }
  }
  if (keys.size === 0) {
    throw new ConfigError(
      'JWT_PUBLIC_KEY is not an SPKI PEM RSA, EC (P-256/384/521) or Ed25519 public key; set JWT_ALGORITHMS for other keys'
    );
  }
  const getKey: JWTVerifyGetKey = (header) => {
    // jose checks the header's alg against `algorithms` first; this only guards that invariant.
    const key = keys.get(header.alg ?? '');
    if (!key) {
      throw new errors.JOSEAlgNotAllowed('alg not allowed');
    }
    return key;
  };
  return { algorithms: [...keys.keys()], getKey };
}

function jwksSource(url: string, configured: string[]) {
  refuseHmac(configured, 'JWT_JWKS_URL');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError('JWT_JWKS_URL must be an absolute http(s) URL');
  }
  const jwks = createRemoteJWKSet(parsed);
  const getKey: JWTVerifyGetKey = async (header, token) => {
    try {
      return await jwks(header, token);
    } catch (error) {
      // An unknown key id is the token's fault; anything else (timeout, network, bad JSON) is ours.
      if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
        throw error;
      }
      throw serviceUnavailable('Token signing keys are unavailable, try again shortly', 'auth_unavailable', 5);
    }
  };
  return { algorithms: configured.length ? configured : ASYMMETRIC, getKey };
}

function refuseHmac(configured: string[], source: string): void {
  const hmac = configured.filter((alg) => HMAC.includes(alg));
  if (hmac.length) {
    throw new ConfigError(
      `JWT_ALGORITHMS names ${hmac.join(', ')}, an HMAC algorithm that needs JWT_SECRET; only ${source} is set`
    );
  }
}

/** Fixed messages only: jose's own may quote claim values, and nothing of the token is echoed. */
function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) {
    return error;
  }
  if (error instanceof errors.JWTExpired) {
    return unauthorized('The token has expired', 'token_expired');
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    const byClaim: Record<string, [string, string]> = {
      nbf: ['The token is not valid yet', 'token_not_yet_valid'],
      iss: ['The token was issued by an issuer this server does not trust', 'invalid_issuer'],
      aud: ['The token is not meant for this server (audience)', 'invalid_audience'],
      exp: ['The token has no expiry (exp claim)', 'invalid_token']
    };
    const [message, code] = byClaim[error.claim] ?? ['The token has an invalid claim', 'invalid_token'];
    return unauthorized(message, code);
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return unauthorized('The token is signed with an algorithm this server does not accept', 'algorithm_not_allowed');
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return unauthorized('The token signature is invalid', 'invalid_signature');
  }
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
    return unauthorized('The token is signed with an unknown key', 'unknown_signing_key');
  }
  // Malformed tokens (JWSInvalid, JWTInvalid) and keys jose refuses (JOSENotSupported, short RSA).
  return unauthorized('The token is malformed or cannot be verified', 'invalid_token');
}

function tenantOf(payload: JWTPayload, claim: string): string {
  const value = payload[claim];
  if (value === undefined) {
    throw unauthorized(`The token has no "${claim}" claim naming its tenant`, 'missing_tenant');
  }
  if (!isTenant(value)) {
    throw unauthorized(
      `The token's "${claim}" claim is not a valid tenant id (1-64 letters, digits, ".", "_" or "-")`,
      'invalid_tenant'
    );
  }
  return value;
}

/** `sub` is for logs and audit only, so a token without one is still accepted. */
const subjectOf = (payload: JWTPayload): string =>
  typeof payload.sub === 'string' && payload.sub ? payload.sub : 'unknown';
