import { describe, expect, it } from 'vitest';
import { ORT_RUNTIME_FILES, ORT_RUNTIME_PATH } from '#lib/core/ort-runtime.ts';
import { detectCapabilities } from '#lib/services/capabilities.service.ts';

describe('runtime assets', () => {
  it('serves the ONNX Runtime WASM files from this origin (no CDN)', async () => {
    for (const file of ORT_RUNTIME_FILES) {
      const response = await fetch(`${ORT_RUNTIME_PATH}${file}`);
      expect(response.status, file).toBe(200);
      expect((await response.arrayBuffer()).byteLength, file).toBeGreaterThan(10_000);
    }
  });

  it('answers a missing model file with 404, not an HTML page', async () => {
    const response = await fetch('/models/vision-hub-dev/nothing/resolve/main/onnx/model.onnx');
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).not.toContain('text/html');
  });

  it('detects the WebGPU adapter Chromium exposes with --enable-unsafe-webgpu', async () => {
    const caps = await detectCapabilities();
    expect(caps.webgpu).toBe(true);
    expect(caps.maxBufferSize).toBeGreaterThan(0);
    expect(typeof caps.shaderF16).toBe('boolean');
  });
});
