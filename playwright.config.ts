import { defineConfig } from '@playwright/test';
import { chromiumArgs, findChromium } from './scripts/chromium.ts';
import { FAKE_CAMERA_CLIP, FAKE_MICROPHONE } from './tests/e2e/camera-clip.ts';

const port = Number(process.env.E2E_PORT ?? 4399);

export default defineConfig({
  testDir: 'tests/e2e',
  testMatch: '**/*.e2e.ts',
  // One baseline per screenshot name, not per platform: CI and this machine run the same Debian Chromium.
  snapshotPathTemplate: '{testDir}/{testFilePath}-snapshots/{arg}{ext}',
  globalSetup: './tests/e2e/global-setup.ts',
  timeout: 120_000,
  expect: { timeout: 60_000 },
  workers: 1,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    launchOptions: {
      executablePath: findChromium(),
      args: [
        ...chromiumArgs,
        '--use-fake-device-for-media-stream',
        '--use-fake-ui-for-media-stream',
        `--use-file-for-fake-video-capture=${FAKE_CAMERA_CLIP}`,
        `--use-file-for-fake-audio-capture=${FAKE_MICROPHONE}`
      ]
    },
    permissions: ['camera', 'microphone']
  },
  // The production build, served by the edge API: the service worker only exists there.
  webServer: {
    command: `node edge-api/server.ts`,
    env: {
      PORT: String(port),
      // E2E_STATIC_DIR: a copy of a build, so runs side by side do not test each other's.
      STATIC_DIR: process.env.E2E_STATIC_DIR ?? 'build',
      MODELS_DIR: '.cache/models',
      MEDGEMMA_MODEL: 'tiny-smolvlm',
      // One API key configured, as a deployed server has: a wrong key is then refused (a keyless
      // server ignores the header), while the app's own calls without one run anonymously on loopback.
      API_KEYS: 'e2e:playwright:ac70b913d2943bd8c4bf76eb5502702755936adff23fcaef4989a38dae40c7b6'
    },
    url: `http://127.0.0.1:${port}/health`,
    reuseExistingServer: false
  }
});
