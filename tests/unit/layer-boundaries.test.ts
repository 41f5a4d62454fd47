import { ESLint } from 'eslint';
import ts from 'typescript-eslint';
import { describe, expect, it } from 'vitest';
import { boundaries } from '../../eslint.config.js';

/** Lints `code` as if it lived at `filePath`, with the layer rules alone. */
async function violations(filePath: string, code: string): Promise<string[]> {
  const eslint = new ESLint({
    cwd: process.cwd(),
    overrideConfigFile: true,
    overrideConfig: [
      { files: ['**/*.ts'], languageOptions: { parser: ts.parser }, plugins: { '@typescript-eslint': ts.plugin } },
      ...boundaries
    ]
  });
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).map((message) => message.message);
}

describe('the layers, kept by the linter', () => {
  it('core imports nothing above it, however the path is written', async () => {
    expect(await violations('src/lib/core/a.ts', "import { db } from '#lib/db/index.ts';")).toHaveLength(1);
    expect(await violations('src/lib/core/a.ts', "import { x } from '../services/x.ts';")).toHaveLength(1);
    expect(await violations('src/lib/core/tracker/a.ts', "import { x } from '../../state/x.ts';")).toHaveLength(1);
    expect(await violations('src/lib/core/a.ts', "import Dexie from 'dexie';")).toHaveLength(1);
    expect(await violations('src/lib/core/a.ts', "import { env } from '@huggingface/transformers';")).toHaveLength(1);
    expect(await violations('src/lib/core/a/b/c.ts', "import { x } from '../../../db/index.ts';")).toHaveLength(1);
    expect(await violations('src/lib/core/a.ts', "import { x } from '$lib/state/x.ts';")).toHaveLength(1);
    expect(await violations('src/lib/core/tracker/a.ts', "import { e } from '../errors.ts';")).toEqual([]);
    expect(await violations('src/lib/core/a/b/c.ts', "import { e } from '../../errors.ts';")).toEqual([]);
    expect(await violations('src/lib/core/a.ts', "import { z } from 'zod/mini';")).toEqual([]);
  });

  it('pages and components reach Dexie and workers only through stores and services (types may be named)', async () => {
    expect(await violations('src/routes/x/+page.ts', "import { db } from '#lib/db/index.ts';")).toHaveLength(1);
    expect(
      await violations('src/lib/components/a.ts', "import { VlmBridge } from '#lib/workers/vlm-bridge.ts';")
    ).toHaveLength(1);
    expect(await violations('src/routes/+page.ts', "import { wrap } from 'comlink';")).toHaveLength(1);
    expect(await violations('src/routes/+page.ts', "import { db } from '$lib/db/index.ts';")).toHaveLength(1);
    expect(await violations('src/routes/x/+page.ts', "import { db } from '../../lib/db/index.ts';")).toHaveLength(1);
    expect(await violations('src/lib/components/a.ts', "import Dexie from 'dexie/dist/dexie.mjs';")).toHaveLength(1);
    expect(
      await violations('src/lib/components/a.ts', "import { env } from '@huggingface/transformers';")
    ).toHaveLength(1);
    expect(await violations('src/routes/+page.ts', "import type { Observation } from '#lib/db/index.ts';")).toEqual([]);
    expect(
      await violations('src/routes/+page.ts', "import { taskStore } from '#lib/state/task-store.svelte.ts';")
    ).toEqual([]);
  });

  it('edge-api takes only src/lib/core from the app', async () => {
    expect(await violations('edge-api/routes/a.ts', "import { db } from '../../src/lib/db/index.ts';")).toHaveLength(1);
    expect(await violations('edge-api/a.ts', "import { s } from '../src/lib/services/x.ts';")).toHaveLength(1);
    expect(await violations('edge-api/a.ts', "import { s } from '#lib/state/x.ts';")).toHaveLength(1);
    expect(await violations('edge-api/a.ts', "import type { Api } from '../workers/vlm.worker.ts';")).toHaveLength(1);
    expect(await violations('edge-api/routes/a.ts', "import { b } from '../../src/lib/core/backoff.ts';")).toEqual([]);
  });

  it('the build does not reach into the tests', async () => {
    expect(await violations('vite.config.ts', "import { x } from './tests/chromium.ts';")).toHaveLength(1);
    expect(await violations('vite.config.ts', "import { x } from './scripts/chromium.ts';")).toEqual([]);
  });
});
