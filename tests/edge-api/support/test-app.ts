import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type Config } from '../../../edge-api/config.ts';
import { jsonLogger, type Logger } from '../../../edge-api/http/logger.ts';
import { createNodeApp, startServer, type NodeApp } from '../../../edge-api/server.ts';
import { createApiKey } from '../../../edge-api/security/api-keys.ts';

export const MODELS_DIR = '.cache/models';
/** The tiny random-weight models `npm run models:tiny` generates: real code paths, noise answers. */
export const VISION_MODEL = 'tiny-smolvlm';
export const TEXT_MODEL = 'tiny-llama';
export const EMBEDDING_MODEL = 'tiny-bert';
export const SPEECH_MODEL = 'tiny-whisper';
export const JWT_SECRET = 'test-secret-that-is-long-enough-for-hs256!';

/** Two tenants with an API key each: what one may see of the other is what isolation tests check. */
const [alpha, beta] = await Promise.all([createApiKey(), createApiKey()]);
export const TENANTS = { alpha: alpha.key, beta: beta.key } as const;

export const auth = (tenant: keyof typeof TENANTS = 'alpha'): Record<string, string> => ({
  authorization: `Bearer ${TENANTS[tenant]}`
});
export const jsonHeaders = (tenant: keyof typeof TENANTS = 'alpha'): Record<string, string> => ({
  ...auth(tenant),
  'content-type': 'application/json'
});

export interface TestApp extends NodeApp {
  dataDir: string;
}

/**
 * The configuration `npm start` would read, for a fresh data folder: SQLite queue, local backend
 * over the tiny models, API-key auth (no anonymous access), quiet logs. `env` overrides.
 */
export function testConfig(env: Record<string, string> = {}): Config {
  if (!existsSync(join(MODELS_DIR, 'vision-hub-dev/tiny-smolvlm/config.json'))) {
    throw new Error('The tiny test models are missing: run `npm run models:tiny` first');
  }
  return loadConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    DATA_DIR: mkdtempSync(join(tmpdir(), 'edge-api-')),
    MODELS_DIR,
    STATIC_DIR: '',
    LOG_LEVEL: 'silent',
    ALLOW_ANONYMOUS: 'false',
    API_KEYS: `alpha:tests:${alpha.hash},beta:tests:${beta.hash}`,
    JWT_SECRET,
    JWT_ISSUER: 'https://idp.example',
    JWT_AUDIENCE: 'vision-hub',
    MEDGEMMA_MODEL: VISION_MODEL,
    LOCAL_MODELS: [VISION_MODEL, TEXT_MODEL, EMBEDDING_MODEL, SPEECH_MODEL].join(','),
    ...env
  });
}

/**
 * The real app on Node as `npm start` builds it (no HTTP server, no job workers: tests start those);
 * `logger` for tests that read the logs.
 */
export async function testApp(
  env: Record<string, string> = {},
  logger: Logger = jsonLogger('silent')
): Promise<TestApp> {
  const config = testConfig(env);
  const built = await createNodeApp(config, logger);
  return {
    ...built,
    dataDir: config.DATA_DIR,
    async close() {
      await built.close();
      rmSync(config.DATA_DIR, { recursive: true, force: true });
    }
  };
}

export interface TestServer {
  url: string;
  close(): Promise<void>;
}

/**
 * The whole server on a free port, job workers included: for tests that need real HTTP.
 * `overrides` replaces settings after the environment is read (e.g. to run without credentials).
 */
export async function testServer(
  env: Record<string, string> = {},
  overrides: Partial<Config> = {}
): Promise<TestServer> {
  const config = { ...testConfig({ JOB_CONCURRENCY: '1', ...env }), ...overrides };
  const running = await startServer(config, jsonLogger('silent'));
  return {
    url: `http://127.0.0.1:${running.port}`,
    async close() {
      await running.close(1_000);
      rmSync(config.DATA_DIR, { recursive: true, force: true });
    }
  };
}
