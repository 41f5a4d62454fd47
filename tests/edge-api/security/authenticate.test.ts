import { createServer, type Server } from 'node:http';
import { Hono } from 'hono';
import { base64url, exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../edge-api/config.ts';
import { handleError } from '../../../edge-api/http/errors.ts';
import { apiKeyLookup, createApiKey } from '../../../edge-api/security/api-keys.ts';
import {
  authenticate,
  authenticateOptionsFromConfig,
  type AuthenticateOptions
} from '../../../edge-api/security/authenticate.ts';
import { createJwtVerifier, type JwtVerifierOptions } from '../../../edge-api/security/jwt-verifier.ts';
import type { AuthEnv } from '../../../edge-api/security/principal.ts';
import { freePort } from '../support/redis.ts';

const SECRET = 'test-secret-that-is-at-least-32-bytes-long!';
const secretKey = new TextEncoder().encode(SECRET);
const now = () => Math.floor(Date.now() / 1000);
const ISSUER = 'https://idp.example';
const AUDIENCE = 'vision-hub';

/** A verifier pinned to {@link ISSUER} and {@link AUDIENCE}, as every configured one is. */
const verifier = (options: Omit<JwtVerifierOptions, 'issuer' | 'audience'>) =>
  createJwtVerifier({ issuer: ISSUER, audience: AUDIENCE, ...options });

/** Errors that reached onError without being an ApiError: each would have been a 500. */
const unexpected: unknown[] = [];

function appWith(options: AuthenticateOptions) {
  return new Hono<AuthEnv>()
    .onError(handleError((error) => unexpected.push(error)))
    .use(authenticate(options))
    .get('/whoami', (c) => c.json(c.get('principal')));
}

const get = (app: ReturnType<typeof appWith>, authorization?: string) =>
  app.request('/whoami', { headers: authorization === undefined ? {} : { authorization } });

async function sign(
  key: CryptoKey | Uint8Array,
  alg: string,
  claims: JWTPayload = {},
  header: Record<string, unknown> = {}
): Promise<string> {
  return new SignJWT({
    tenant: 'acme',
    sub: 'user-1',
    iss: ISSUER,
    aud: AUDIENCE,
    iat: now(),
    exp: now() + 300,
    ...claims
  })
    .setProtectedHeader({ ...header, alg })
    .sign(key);
}

/**
 * A 401 in the OpenAI error shape with the Bearer challenge, and nothing of the token echoed
 * (neither whole nor any JWT segment). Returns the error's message.
 */
async function expectUnauthorized(res: Response, code: string, token?: string): Promise<string> {
  const text = await res.text();
  expect(res.status).toBe(401);
  expect(res.headers.get('www-authenticate')).toBe('Bearer');
  const body = JSON.parse(text) as { error: { message: string } };
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error).toEqual({ message: expect.any(String), type: 'authentication_error', param: null, code });
  for (const part of [token ?? '', ...(token?.split('.') ?? [])].filter((segment) => segment.length > 8)) {
    expect(text).not.toContain(part);
  }
  return body.error.message;
}

async function principal(res: Response) {
  expect(res.status).toBe(200);
  return res.json();
}

let rsa: { publicKey: CryptoKey; privateKey: CryptoKey; pem: string };
let ec: { publicKey: CryptoKey; privateKey: CryptoKey; pem: string };

beforeAll(async () => {
  unexpected.length = 0;
  const rsaPair = await generateKeyPair('RS256', { extractable: true });
  const ecPair = await generateKeyPair('ES256', { extractable: true });
  rsa = { ...rsaPair, pem: await exportSPKI(rsaPair.publicKey) };
  ec = { ...ecPair, pem: await exportSPKI(ecPair.publicKey) };
});

afterAll(() => {
  expect(unexpected).toEqual([]);
});

describe('JWT with a shared secret (HS256)', () => {
  let app: ReturnType<typeof appWith>;
  beforeAll(async () => {
    app = appWith({ allowAnonymous: false, jwt: await verifier({ secret: SECRET }) });
  });

  it('accepts a valid token: tenant from the claim, subject from sub', async () => {
    const res = await get(app, `Bearer ${await sign(secretKey, 'HS256')}`);
    expect(await principal(res)).toEqual({ tenant: 'acme', subject: 'user-1', via: 'jwt' });
  });

  it('accepts the scheme in any case', async () => {
    const res = await get(app, `bearer ${await sign(secretKey, 'HS256')}`);
    expect(res.status).toBe(200);
  });

  it('refuses an expired token, but tolerates small clock skew', async () => {
    const expired = await sign(secretKey, 'HS256', { iat: now() - 600, exp: now() - 120 });
    await expectUnauthorized(await get(app, `Bearer ${expired}`), 'token_expired', expired);
    const justExpired = await sign(secretKey, 'HS256', { iat: now() - 600, exp: now() - 5 });
    expect((await get(app, `Bearer ${justExpired}`)).status).toBe(200);
  });

  it('refuses a token that is not valid yet', async () => {
    const early = await sign(secretKey, 'HS256', { nbf: now() + 300, exp: now() + 600 });
    await expectUnauthorized(await get(app, `Bearer ${early}`), 'token_not_yet_valid', early);
  });

  it('refuses a token without exp (it would be valid forever)', async () => {
    const forever = await new SignJWT({ tenant: 'acme', sub: 'user-1', iss: ISSUER, aud: AUDIENCE })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(secretKey);
    await expectUnauthorized(await get(app, `Bearer ${forever}`), 'invalid_token', forever);
  });

  it('refuses a token signed with another secret, or tampered with', async () => {
    const other = await sign(new TextEncoder().encode('another-secret-of-at-least-32-bytes!!'), 'HS256');
    await expectUnauthorized(await get(app, `Bearer ${other}`), 'invalid_signature', other);

    const [header, , signature] = (await sign(secretKey, 'HS256')).split('.');
    const payload = base64url.encode(JSON.stringify({ tenant: 'victim', sub: 'user-1', exp: now() + 300 }));
    const tampered = `${header}.${payload}.${signature}`;
    await expectUnauthorized(await get(app, `Bearer ${tampered}`), 'invalid_signature', tampered);
  });

  it('refuses an unsigned token (alg: none)', async () => {
    const header = base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT' }));
    const payload = base64url.encode(JSON.stringify({ tenant: 'acme', sub: 'user-1', exp: now() + 300 }));
    const unsigned = `${header}.${payload}.`;
    await expectUnauthorized(await get(app, `Bearer ${unsigned}`), 'algorithm_not_allowed', unsigned);
  });

  it('refuses an HMAC algorithm that is not pinned, even with the right secret', async () => {
    const hs384 = await sign(new TextEncoder().encode(SECRET.padEnd(48, '!')), 'HS384');
    await expectUnauthorized(await get(app, `Bearer ${hs384}`), 'algorithm_not_allowed', hs384);
  });

  it('refuses a token without a tenant claim, or with an unsafe one, as 401 (never 500)', async () => {
    const missing = await sign(secretKey, 'HS256', { tenant: undefined });
    await expectUnauthorized(await get(app, `Bearer ${missing}`), 'missing_tenant', missing);
    for (const tenant of ['../etc', 'a:b', '', 'x'.repeat(65), 42, ['acme']]) {
      const token = await sign(secretKey, 'HS256', { tenant });
      const res = await get(app, `Bearer ${token}`);
      await expectUnauthorized(res, 'invalid_tenant', token);
    }
  });

  it('refuses garbage that is not a JWT', async () => {
    for (const token of ['not-a-token', 'a.b.c', 'eyJhbGciOiJIUzI1NiJ9.e30']) {
      await expectUnauthorized(await get(app, `Bearer ${token}`), 'invalid_token');
    }
  });

  it('reads the tenant from the configured claim', async () => {
    const orgApp = appWith({
      allowAnonymous: false,
      jwt: await verifier({ secret: SECRET, tenantClaim: 'org_id' })
    });
    const token = await sign(secretKey, 'HS256', { tenant: 'wrong', org_id: 'clinic-7' });
    expect(await principal(await get(orgApp, `Bearer ${token}`))).toMatchObject({ tenant: 'clinic-7' });
  });
});

describe('JWT issuer and audience, always pinned', () => {
  let app: ReturnType<typeof appWith>;
  beforeAll(async () => {
    const jwt = await verifier({ secret: SECRET });
    app = appWith({ allowAnonymous: false, jwt });
  });

  it('accepts the configured issuer and audience', async () => {
    const token = await sign(secretKey, 'HS256', { aud: ['other', AUDIENCE] });
    expect((await get(app, `Bearer ${token}`)).status).toBe(200);
  });

  it('refuses another issuer, or none', async () => {
    for (const iss of ['https://evil.example', undefined]) {
      const token = await sign(secretKey, 'HS256', { iss });
      await expectUnauthorized(await get(app, `Bearer ${token}`), 'invalid_issuer', token);
    }
  });

  it('refuses another audience, or none', async () => {
    for (const aud of ['other-api', undefined]) {
      const token = await sign(secretKey, 'HS256', { aud });
      await expectUnauthorized(await get(app, `Bearer ${token}`), 'invalid_audience', token);
    }
  });
});

describe('JWT with a public key', () => {
  it('accepts RS256 with an RSA public key (algorithm inferred from the key)', async () => {
    const app = appWith({ allowAnonymous: false, jwt: await verifier({ publicKey: rsa.pem }) });
    const res = await get(app, `Bearer ${await sign(rsa.privateKey, 'RS256')}`);
    expect(await principal(res)).toEqual({ tenant: 'acme', subject: 'user-1', via: 'jwt' });
  });

  it('accepts ES256 with an EC public key, also with the PEM on one line', async () => {
    const oneLine = ec.pem.trim().replaceAll('\n', '\\n');
    const app = appWith({ allowAnonymous: false, jwt: await verifier({ publicKey: oneLine }) });
    expect((await get(app, `Bearer ${await sign(ec.privateKey, 'ES256')}`)).status).toBe(200);
  });

  it('accepts EdDSA with an Ed25519 public key, under either name of the algorithm', async () => {
    const { publicKey, privateKey } = await generateKeyPair('EdDSA', { extractable: true });
    const app = appWith({
      allowAnonymous: false,
      jwt: await verifier({ publicKey: await exportSPKI(publicKey) })
    });
    expect((await get(app, `Bearer ${await sign(privateKey, 'EdDSA')}`)).status).toBe(200);
    expect((await get(app, `Bearer ${await sign(privateKey, 'Ed25519')}`)).status).toBe(200);
    const rs256 = await sign(rsa.privateKey, 'RS256');
    await expectUnauthorized(await get(app, `Bearer ${rs256}`), 'algorithm_not_allowed', rs256);
  });

  it('refuses an HS256 token signed with the public key as the secret (algorithm confusion)', async () => {
    const app = appWith({ allowAnonymous: false, jwt: await verifier({ publicKey: rsa.pem }) });
    for (const secret of [rsa.pem, rsa.pem.trim()]) {
      const forged = await sign(new TextEncoder().encode(secret), 'HS256', { tenant: 'victim' });
      await expectUnauthorized(await get(app, `Bearer ${forged}`), 'algorithm_not_allowed', forged);
    }
  });

  it('refuses an algorithm outside the pinned list even if the key could verify it', async () => {
    const app = appWith({
      allowAnonymous: false,
      jwt: await verifier({ publicKey: rsa.pem, algorithms: ['PS256'] })
    });
    const rs256 = await sign(rsa.privateKey, 'RS256');
    await expectUnauthorized(await get(app, `Bearer ${rs256}`), 'algorithm_not_allowed', rs256);
  });

  it('refuses a token signed by another key', async () => {
    const app = appWith({ allowAnonymous: false, jwt: await verifier({ publicKey: ec.pem }) });
    const { privateKey } = await generateKeyPair('ES256');
    const token = await sign(privateKey, 'ES256');
    await expectUnauthorized(await get(app, `Bearer ${token}`), 'invalid_signature', token);
  });
});

describe('JWT with a JWKS URL', () => {
  let server: Server;
  let url: string;
  let fetches = 0;
  let status = 200;

  beforeAll(async () => {
    const jwk = { ...(await exportJWK(rsa.publicKey)), kid: 'key-1', alg: 'RS256', use: 'sig' };
    server = createServer((_req, res) => {
      fetches += 1;
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
    });
    const port = await freePort();
    await new Promise<void>((done) => server.listen(port, '127.0.0.1', done));
    url = `http://127.0.0.1:${port}/.well-known/jwks.json`;
  });

  afterAll(() => new Promise<void>((done) => server.close(() => done())));

  it('fetches the key set and accepts a token signed by one of its keys', async () => {
    const app = appWith({ allowAnonymous: false, jwt: await verifier({ jwksUrl: url }) });
    const before = fetches;
    const res = await get(app, `Bearer ${await sign(rsa.privateKey, 'RS256', {}, { kid: 'key-1' })}`);
    expect(await principal(res)).toEqual({ tenant: 'acme', subject: 'user-1', via: 'jwt' });
    expect(fetches).toBe(before + 1);
    // The key set is cached: a second token costs no fetch.
    expect((await get(app, `Bearer ${await sign(rsa.privateKey, 'RS256', {}, { kid: 'key-1' })}`)).status).toBe(200);
    expect(fetches).toBe(before + 1);
  });

  it('refuses a token whose key id is not in the set', async () => {
    const app = appWith({ allowAnonymous: false, jwt: await verifier({ jwksUrl: url }) });
    const { privateKey } = await generateKeyPair('RS256');
    const token = await sign(privateKey, 'RS256', {}, { kid: 'key-2' });
    await expectUnauthorized(await get(app, `Bearer ${token}`), 'unknown_signing_key', token);
  });

  it('refuses HS256 tokens whatever their key id', async () => {
    const app = appWith({ allowAnonymous: false, jwt: await verifier({ jwksUrl: url }) });
    const forged = await sign(new TextEncoder().encode(rsa.pem), 'HS256', {}, { kid: 'key-1' });
    await expectUnauthorized(await get(app, `Bearer ${forged}`), 'algorithm_not_allowed', forged);
  });

  it('answers 503 (not 401, not 500) when the key set cannot be fetched', async () => {
    const token = await sign(rsa.privateKey, 'RS256', {}, { kid: 'key-1' });
    status = 500;
    try {
      const failing = appWith({ allowAnonymous: false, jwt: await verifier({ jwksUrl: url }) });
      const res = await get(failing, `Bearer ${token}`);
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({
        error: { code: 'auth_unavailable', type: 'service_unavailable_error' }
      });
    } finally {
      status = 200;
    }
    const nobody = `http://127.0.0.1:${await freePort()}/jwks.json`;
    const unreachable = appWith({ allowAnonymous: false, jwt: await verifier({ jwksUrl: nobody }) });
    expect((await get(unreachable, `Bearer ${token}`)).status).toBe(503);
  });
});

describe('API keys', () => {
  let app: ReturnType<typeof appWith>;
  let key: string;
  beforeAll(async () => {
    const created = await createApiKey();
    key = created.key;
    app = appWith({
      allowAnonymous: true,
      apiKeys: apiKeyLookup([{ tenant: 'lab', name: 'scanner', hash: created.hash }]),
      jwt: await verifier({ secret: SECRET })
    });
  });

  it('accepts a known key: its tenant, its name as the subject', async () => {
    expect(await principal(await get(app, `Bearer ${key}`))).toEqual({
      tenant: 'lab',
      subject: 'scanner',
      via: 'api-key'
    });
  });

  it('refuses an unknown key of the right shape', async () => {
    const { key: unknown } = await createApiKey();
    const message = await expectUnauthorized(await get(app, `Bearer ${unknown}`), 'invalid_api_key', unknown);
    expect(message).toBe('Unknown API key');
  });

  it('refuses a malformed key before looking it up', async () => {
    for (const malformed of ['vh_short', `${key}x`, `${key.slice(0, -1)}!`]) {
      const message = await expectUnauthorized(await get(app, `Bearer ${malformed}`), 'invalid_api_key', malformed);
      expect(message).toBe('Malformed API key');
    }
  });

  it('refuses every key when only JWTs are configured', async () => {
    const jwtOnly = appWith({ allowAnonymous: true, jwt: await verifier({ secret: SECRET }) });
    await expectUnauthorized(await get(jwtOnly, `Bearer ${key}`), 'invalid_api_key', key);
  });
});

describe('no credentials', () => {
  it('gets the local tenant when anonymous access is allowed', async () => {
    const app = appWith({ allowAnonymous: true });
    expect(await principal(await get(app))).toEqual({ tenant: 'local', subject: 'anonymous', via: 'anonymous' });
  });

  it('is a 401 with the Bearer challenge when anonymous access is refused', async () => {
    await expectUnauthorized(await get(appWith({ allowAnonymous: false })), 'missing_credentials');
  });

  it('never downgrades a malformed Authorization header to anonymous', async () => {
    const app = appWith({ allowAnonymous: true, jwt: await verifier({ secret: SECRET }) });
    for (const header of ['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer ', 'Bearer a b', 'Token abc', '']) {
      await expectUnauthorized(await get(app, header), 'invalid_authorization_header');
    }
  });

  it('refuses JWTs when only API keys are configured', async () => {
    const token = await sign(secretKey, 'HS256');
    const { hash } = await createApiKey();
    const keysOnly = appWith({ allowAnonymous: true, apiKeys: apiKeyLookup([{ tenant: 'lab', name: 'x', hash }]) });
    await expectUnauthorized(await get(keysOnly, `Bearer ${token}`), 'invalid_credentials', token);
  });
});

describe('a keyless server (neither API keys nor JWTs configured)', () => {
  const headers = async () => [
    'Bearer sk-no-key-required',
    'Bearer EMPTY',
    `Bearer ${(await createApiKey()).key}`,
    `Bearer ${await sign(secretKey, 'HS256')}`,
    'Basic dXNlcjpwYXNz',
    ''
  ];

  it('ignores whatever Authorization header an OpenAI client sends, when anonymous access is allowed', async () => {
    const app = appWith({ allowAnonymous: true });
    for (const header of await headers()) {
      expect(await principal(await get(app, header))).toEqual({
        tenant: 'local',
        subject: 'anonymous',
        via: 'anonymous'
      });
    }
  });

  it('refuses every request when anonymous access is not allowed (listening beyond loopback)', async () => {
    const options = await authenticateOptionsFromConfig(loadConfig({ HOST: '0.0.0.0' }));
    expect(options).toMatchObject({ allowAnonymous: false, apiKeys: undefined, jwt: undefined });
    const app = appWith(options);
    await expectUnauthorized(await get(app), 'missing_credentials');
    await expectUnauthorized(await get(app, 'Bearer sk-no-key-required'), 'invalid_credentials');
  });
});

describe('verifier configuration is checked at startup', () => {
  const refuses = async (options: Partial<JwtVerifierOptions>, message: RegExp) => {
    const attempt = createJwtVerifier({ issuer: ISSUER, audience: AUDIENCE, ...options });
    await expect(attempt).rejects.toBeInstanceOf(ConfigError);
    await expect(attempt).rejects.toThrow(message);
  };

  it('refuses HMAC algorithms with only a public key or a JWKS URL', async () => {
    await refuses({ publicKey: rsa.pem, algorithms: ['HS256'] }, /HS256.*JWT_SECRET.*only JWT_PUBLIC_KEY/);
    await refuses({ jwksUrl: 'https://idp.example/jwks', algorithms: ['RS256', 'HS512'] }, /HS512.*only JWT_JWKS_URL/);
  });

  it('refuses asymmetric algorithms with only a secret', async () => {
    await refuses({ secret: SECRET, algorithms: ['RS256'] }, /RS256.*only JWT_SECRET/);
  });

  it('refuses "none" and unknown algorithms', async () => {
    await refuses({ secret: SECRET, algorithms: ['none'] }, /must not include "none"/);
    await refuses({ secret: SECRET, algorithms: ['NONE'] }, /must not include "none"/);
    await refuses({ secret: SECRET, algorithms: ['HS999'] }, /unknown algorithm "HS999"/);
  });

  it('needs exactly one key source', async () => {
    await refuses({}, /needs one of JWT_SECRET, JWT_PUBLIC_KEY or JWT_JWKS_URL/);
    await refuses({ secret: SECRET, publicKey: rsa.pem }, /only one of JWT_SECRET, JWT_PUBLIC_KEY/);
  });

  it('needs a secret as long as the hash for HS384/HS512', async () => {
    await refuses({ secret: SECRET, algorithms: ['HS512'] }, /at least 64 bytes for HS512/);
    await refuses({ secret: 'short' }, /at least 32 bytes for HS256/);
  });

  it('refuses a public key that is not one, or does not fit the algorithm', async () => {
    await refuses({ publicKey: 'not a pem' }, /not an SPKI PEM/);
    await refuses({ publicKey: ec.pem, algorithms: ['RS256'] }, /usable with RS256/);
    await refuses({ jwksUrl: 'not a url' }, /absolute http\(s\) URL/);
  });

  it('refuses to verify without an issuer or an audience: tokens for other apps would pass', async () => {
    await refuses({ secret: SECRET, issuer: '' }, /needs JWT_ISSUER and JWT_AUDIENCE/);
    await refuses({ jwksUrl: 'https://idp.example/jwks', audience: '' }, /needs JWT_ISSUER and JWT_AUDIENCE/);
  });

  it('names the problem without quoting the secret', async () => {
    const attempt = verifier({ secret: SECRET, algorithms: ['HS512'] });
    await expect(attempt).rejects.not.toThrow(SECRET);
  });
});

describe('options from the environment', () => {
  const env = { HOST: '0.0.0.0' };
  const jwtEnv = { JWT_SECRET: SECRET, JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE };

  it('accepts JWTs and API keys as configured, and refuses anonymous calls off loopback', async () => {
    const { key, hash } = await createApiKey();
    const config = loadConfig({ ...env, ...jwtEnv, API_KEYS: `lab:ci:${hash}` });
    const app = appWith(await authenticateOptionsFromConfig(config));
    expect((await get(app, `Bearer ${await sign(secretKey, 'HS256')}`)).status).toBe(200);
    expect(await principal(await get(app, `Bearer ${key}`))).toMatchObject({ tenant: 'lab', subject: 'ci' });
    expect((await get(app)).status).toBe(401);
  });

  it('refuses a token the same identity provider signed for another app, or another issuer signed', async () => {
    const app = appWith(await authenticateOptionsFromConfig(loadConfig({ ...env, ...jwtEnv })));
    const otherApp = await sign(secretKey, 'HS256', { aud: 'another-app' });
    await expectUnauthorized(await get(app, `Bearer ${otherApp}`), 'invalid_audience', otherApp);
    const otherIssuer = await sign(secretKey, 'HS256', { iss: 'https://other-idp.example' });
    await expectUnauthorized(await get(app, `Bearer ${otherIssuer}`), 'invalid_issuer', otherIssuer);
  });

  it('stops startup on a bad API_KEYS entry', async () => {
    const config = loadConfig({ ...env, API_KEYS: 'lab:ci:not-a-hash' });
    await expect(authenticateOptionsFromConfig(config)).rejects.toThrow(/API_KEYS: API key entry 1: hash must be/);
  });

  it('stops startup when JWT settings come without a key source', async () => {
    const config = loadConfig({ ...env, JWT_ISSUER: 'https://idp.example' });
    await expect(authenticateOptionsFromConfig(config)).rejects.toBeInstanceOf(ConfigError);
  });

  it('stops startup when JWT_ALGORITHMS names HMAC but only a public key is set', async () => {
    const config = loadConfig({
      ...env,
      ...jwtEnv,
      JWT_SECRET: undefined,
      JWT_PUBLIC_KEY: rsa.pem,
      JWT_ALGORITHMS: 'RS256,HS256'
    });
    await expect(authenticateOptionsFromConfig(config)).rejects.toThrow(/HS256, an HMAC algorithm/);
  });
});
