import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../edge-api/config.ts';

describe('configuration from the environment', () => {
  it('runs with no variables at all: local defaults, anonymous on loopback only', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ PORT: 8787, HOST: '127.0.0.1', ALLOW_ANONYMOUS: true, UPSTREAMS: [] });
    expect(loadConfig({ HOST: '0.0.0.0' }).ALLOW_ANONYMOUS).toBe(false);
    expect(loadConfig({ HOST: '0.0.0.0', ALLOW_ANONYMOUS: 'true' }).ALLOW_ANONYMOUS).toBe(true);
  });

  it('names every bad variable in one error', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', REDIS_URL: 'http://nope', JWT_SECRET: 'short', LOG_LEVEL: 'loud' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    for (const name of ['PORT', 'REDIS_URL', 'JWT_SECRET', 'LOG_LEVEL']) {
      expect(message).toContain(name);
    }
  });

  it('refuses a JWT key source without both an issuer and an audience, naming what is missing', () => {
    const secret = { JWT_SECRET: 'a-secret-of-at-least-32-characters!!' };
    expect(() => loadConfig(secret)).toThrow(/JWT_ISSUER: required[^]*JWT_AUDIENCE: required/);
    expect(() => loadConfig({ JWT_JWKS_URL: 'https://idp.example/jwks', JWT_ISSUER: 'https://idp.example' })).toThrow(
      /JWT_AUDIENCE: required/
    );
    expect(() => loadConfig({ ...secret, JWT_ISSUER: 'https://idp.example', JWT_AUDIENCE: '' })).toThrow(ConfigError);
    expect(loadConfig({ ...secret, JWT_ISSUER: 'https://idp.example', JWT_AUDIENCE: 'vision-hub' })).toMatchObject({
      JWT_AUDIENCE: 'vision-hub'
    });
  });

  it('caps the jobs a tenant runs at once apart from those it may have queued', () => {
    expect(loadConfig({})).toMatchObject({ JOB_MAX_RUNNING_PER_TENANT: 2, JOB_MAX_QUEUED_PER_TENANT: 100 });
    expect(loadConfig({ JOB_MAX_RUNNING_PER_TENANT: '4', JOB_MAX_QUEUED_PER_TENANT: '10' })).toMatchObject({
      JOB_MAX_RUNNING_PER_TENANT: 4,
      JOB_MAX_QUEUED_PER_TENANT: 10
    });
    expect(() => loadConfig({ JOB_MAX_RUNNING_PER_TENANT: '0' })).toThrow(/JOB_MAX_RUNNING_PER_TENANT/);
    expect(() => loadConfig({ JOB_MAX_QUEUED_PER_TENANT: '1.5' })).toThrow(/JOB_MAX_QUEUED_PER_TENANT/);
    // The setting this pair replaced is refused, not quietly ignored.
    expect(() => loadConfig({ JOB_MAX_ACTIVE_PER_TENANT: '5' })).toThrow(
      /JOB_MAX_ACTIVE_PER_TENANT: replaced by JOB_MAX_QUEUED_PER_TENANT .* JOB_MAX_RUNNING_PER_TENANT/
    );
  });

  it('parses upstreams as JSON and says so when they are not', () => {
    const upstreams = [{ model: 'google/medgemma-4b-it', url: 'http://gpu:8000/v1' }];
    expect(loadConfig({ UPSTREAMS: JSON.stringify(upstreams) }).UPSTREAMS).toEqual(upstreams);
    expect(() => loadConfig({ UPSTREAMS: '[{model:' })).toThrow(/UPSTREAMS: must be a JSON array/);
    expect(() => loadConfig({ UPSTREAMS: '[{"model":"m","url":"ftp://x"}]' })).toThrow(/UPSTREAMS\.0\.url/);
  });

  it('splits lists and keeps the documented example valid', async () => {
    expect(loadConfig({ CORS_ORIGINS: 'https://a.example, https://b.example' }).CORS_ORIGINS).toEqual([
      'https://a.example',
      'https://b.example'
    ]);
    const { readFileSync } = await import('node:fs');
    const example = Object.fromEntries(
      readFileSync('.env.example', 'utf8')
        .split('\n')
        .filter((line) => /^[A-Z_]+=/.test(line))
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)])
    );
    expect(Object.keys(example).length).toBeGreaterThan(5);
    expect(() => loadConfig(example)).not.toThrow();
  });
});
