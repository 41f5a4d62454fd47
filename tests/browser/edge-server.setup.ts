import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { loadConfig } from '../../edge-api/config.ts';
import { createApiKey } from '../../edge-api/security/api-keys.ts';
import { startServer } from '../../edge-api/server.ts';

/** Tenants with an API key each, so a test file sees only its own jobs in the server's list. */
const TENANTS = ['client', 'outbox', 'store'] as const;

declare module 'vitest' {
  export interface ProvidedContext {
    /** Base URL of a real edge API (tiny SmolVLM as MedGemma) that the browser tests may call. */
    edgeUrl: string;
    /** An API key per test tenant. */
    edgeKeys: Record<(typeof TENANTS)[number], string>;
  }
}

/**
 * Starts the real edge API for the browser tests: its own temporary data folder, the generated
 * tiny SmolVLM standing in for MedGemma, and CORS open to the page the tests run in (Vitest's
 * browser server, whose port is in the project's `api` config).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const port = project.config.api.port;
  if (!port) {
    throw new Error('The browser project has no API port, so the edge server cannot allow its origin');
  }
  const dataDir = await mkdtemp(join(tmpdir(), 'vision-hub-edge-'));
  const keys = await Promise.all(TENANTS.map(async (tenant) => ({ tenant, ...(await createApiKey()) })));
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    STATIC_DIR: '',
    DATA_DIR: dataDir,
    MODELS_DIR: process.env.MODELS_DIR ?? '.cache/models',
    MEDGEMMA_MODEL: 'tiny-smolvlm',
    CORS_ORIGINS: `http://localhost:${port},http://127.0.0.1:${port}`,
    API_KEYS: keys.map(({ tenant, hash }) => `${tenant}:browser-tests:${hash}`).join(','),
    LOG_LEVEL: 'error'
  });
  const server = await startServer(config);
  project.provide('edgeUrl', `http://127.0.0.1:${server.port}`);
  project.provide(
    'edgeKeys',
    Object.fromEntries(keys.map(({ tenant, key }) => [tenant, key])) as Record<(typeof TENANTS)[number], string>
  );
  return async () => {
    await server.close(1_000);
    await rm(dataDir, { recursive: true, force: true });
  };
}
