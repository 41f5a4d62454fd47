import { z } from '@hono/zod-openapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toJSONSchema } from 'zod';
import type { $ZodType } from 'zod/v4/core';
import { loadConfig } from '../../edge-api/config.ts';
import { ApiError } from '../../edge-api/http/errors.ts';
import { defineJobType } from '../../edge-api/job-types/job-type.ts';
import { medgemmaAnalyze } from '../../edge-api/job-types/medgemma-analyze.ts';
import { registeredJobTypes } from '../../edge-api/job-types/registered.ts';
import { JobTypeRegistry } from '../../edge-api/job-types/registry.ts';
import { JOB_KINDS } from '../../src/lib/core/job-kinds.ts';
import { auth, jsonHeaders, testApp, VISION_MODEL, type TestApp } from './support/test-app.ts';

/** Served by config alone: nothing calls it here, the model list comes from UPSTREAMS. */
const NOWHERE = 'http://127.0.0.1:9/v1';
const UPSTREAMS = [
  { model: 'stabilityai/sdxl-turbo', url: NOWHERE, capabilities: ['images'] },
  { model: 'google/medgemma-4b-it', url: NOWHERE },
  // A second server for the same model that cannot take images: the model can only chat.
  { model: 'google/medgemma-4b-it', url: NOWHERE, capabilities: ['chat'] }
];

let t: TestApp;
beforeAll(async () => {
  t = await testApp({ UPSTREAMS: JSON.stringify(UPSTREAMS) });
});
afterAll(() => t.close());

/** A job type a later engine might add: it needs a model that generates images. */
const sketch = defineJobType({
  type: 'test.sketch',
  summary: 'Draws a sketch',
  input: z.object({ prompt: z.string().min(1), model: z.string().optional() }),
  needs: {
    capability: 'images',
    model: (input) => input.model ?? 'stabilityai/sdxl-turbo',
    fix: 'Point UPSTREAMS at an images server.'
  },
  handler: () => ({ run: (input) => Promise.resolve({ drew: input.prompt }) })
});

describe('job type registry', () => {
  it('documents every registered kind: its name in JobCreate, its input and result schemas', async () => {
    const spec = (await (await t.app.request('/openapi.json')).json()) as {
      components: { schemas: Record<string, { properties?: Record<string, { enum?: string[] }> }> };
    };
    const { schemas } = spec.components;
    expect(schemas.JobCreate?.properties?.type?.enum).toEqual(['medgemma.analyze']);
    expect(schemas).toHaveProperty('MedgemmaAnalyzeInput.properties.images');
    expect(schemas).toHaveProperty('MedgemmaAnalyzeResult.properties.findings');
  });

  it('binds a registered type to the runtime: admitted by its schema and capability, run by its handler', async () => {
    const types = new JobTypeRegistry().register(medgemmaAnalyze).register(sketch).bind(servicesOf(t));
    expect(types.names).toEqual(['medgemma.analyze', 'test.sketch']);
    const bound = types.get('test.sketch')!;
    expect(await bound.admit({ prompt: 'a cat' }, { tenant: 'alpha' })).toEqual({ prompt: 'a cat' });
    await expect(bound.admit({ prompt: '' }, { tenant: 'alpha' })).rejects.toMatchObject({
      status: 422,
      param: 'input.prompt'
    });
    // A model that cannot make images is refused at submission, with the fix.
    const refused = await bound.admit({ prompt: 'a cat', model: 'tiny-smolvlm' }, { tenant: 'alpha' }).catch((e) => e);
    expect(refused).toBeInstanceOf(ApiError);
    expect(refused).toMatchObject({ status: 422, code: 'model_not_capable', param: 'input.model' });
    expect((refused as Error).message).toContain('Point UPSTREAMS at an images server.');
    expect(Object.keys(types.handlers())).toEqual(['medgemma.analyze', 'test.sketch']);
  });

  it('refuses a type registered twice', () => {
    expect(() => new JobTypeRegistry().register(sketch).register(sketch)).toThrow(/registered twice/);
  });
});

describe('backend capabilities', () => {
  it('lists what each model can do as its servers declare it, only what all of a model’s servers can', async () => {
    const res = await t.app.request('/v1/models', { headers: auth() });
    const { data } = (await res.json()) as { data: { id: string; capabilities: string[] }[] };
    expect(data).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: 'stabilityai/sdxl-turbo', capabilities: ['images'] }),
        expect.objectContaining({ id: 'google/medgemma-4b-it', capabilities: ['chat'] })
      ])
    );
  });

  it('refuses a job whose model cannot do what the job needs, with the fix', async () => {
    const res = await t.app.request('/v1/jobs', {
      method: 'POST',
      headers: jsonHeaders(),
      body: JSON.stringify({
        type: 'medgemma.analyze',
        input: { images: [{ url: 'data:image/png;base64,AA==' }], model: 'google/medgemma-4b-it' }
      })
    });
    expect(res.status).toBe(422);
    const { error } = (await res.json()) as { error: { code: string; param: string; message: string } };
    expect(error).toMatchObject({ code: 'model_not_capable', param: 'input.model' });
    expect(error.message).toContain('Point UPSTREAMS at a server that runs it');
  });

  it('refuses a capability no backend declares in UPSTREAMS, naming the entry', () => {
    const bad = [{ model: 'm', url: NOWHERE, capabilities: ['smell'] }];
    expect(() => loadConfig({ UPSTREAMS: JSON.stringify(bad) })).toThrow(/UPSTREAMS\.0\.capabilities/);
  });
});

function servicesOf(app: TestApp) {
  const { backends, artifacts, uploads } = app.runtime;
  return { config: loadConfig({ MEDGEMMA_MODEL: VISION_MODEL }), backends, artifacts, uploads };
}

describe('one contract for app and server', () => {
  /** A schema as JSON Schema, without the documentation only the server's copy carries. */
  const shapeOf = (schema: $ZodType) =>
    JSON.stringify(toJSONSchema(schema), (key, value: unknown) =>
      key === 'description' || key === 'id' || key === '$schema' ? undefined : value
    );

  it("every job kind the app knows is registered here, with the same input and result schemas as the app's", () => {
    // The server's schemas carry OpenAPI documentation (classic zod); the app's are zod/mini for its bundle.
    for (const [name, kind] of Object.entries(JOB_KINDS)) {
      const type = registeredJobTypes.all.find((t) => t.type === name);
      expect(type, `${name} is registered on the server`).toBeDefined();
      expect(shapeOf(type!.input), `${name} input`).toBe(shapeOf(kind.input));
      expect(type!.result, `${name} has a result schema`).toBeDefined();
      expect(shapeOf(type!.result!), `${name} result`).toBe(shapeOf(kind.result));
    }
  });
});
