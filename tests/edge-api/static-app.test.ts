import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { auth, testApp, type TestApp } from './support/test-app.ts';

/** The built PWA served beside the API, as `npm start` does, from a stand-in build folder. */
let t: TestApp;
beforeAll(async () => {
  const build = mkdtempSync(join(tmpdir(), 'build-'));
  mkdirSync(join(build, '_app'));
  writeFileSync(join(build, 'index.html'), '<!doctype html><title>home</title>');
  writeFileSync(join(build, 'models.html'), '<!doctype html><title>models page</title>');
  writeFileSync(join(build, '200.html'), '<!doctype html><title>spa shell</title>');
  writeFileSync(join(build, '_app/start.js'), 'export {};');
  t = await testApp({ STATIC_DIR: build });
});
afterAll(() => t.close());

const page = async (path: string) => {
  const res = await t.app.request(path);
  return {
    status: res.status,
    type: res.headers.get('content-type') ?? '',
    csp: res.headers.get('content-security-policy'),
    isolated:
      res.headers.get('cross-origin-opener-policy') === 'same-origin' &&
      res.headers.get('cross-origin-embedder-policy') === 'require-corp',
    text: await res.text()
  };
};

it('serves prerendered pages by their link, cross-origin isolated, with their own CSP (meta tag), not the API’s', async () => {
  expect(await page('/')).toMatchObject({ status: 200, isolated: true, text: expect.stringContaining('home') });
  const models = await page('/models');
  expect(models).toMatchObject({ status: 200, type: expect.stringContaining('text/html'), csp: null, isolated: true });
  expect(models.text).toContain('models page');
});

it('serves the SPA shell for client-side routes, scripts with the asset CSP', async () => {
  expect((await page('/knowledge/some/deep/link')).text).toContain('spa shell');
  const script = await page('/_app/start.js');
  expect(script).toMatchObject({ status: 200, isolated: true });
  expect(script.csp).toContain("script-src 'self'");
});

it('keeps JSON 404s for API paths, the model mirror included', async () => {
  for (const path of ['/v1/nothing', '/models/org/none/resolve/main/config.json', '/health/nothing']) {
    const res = await t.app.request(path, { headers: auth() });
    expect(res.status, path).toBe(404);
    expect(res.headers.get('content-type'), path).toContain('application/json');
  }
});
