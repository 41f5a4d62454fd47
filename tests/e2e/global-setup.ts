import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { colourBarsY4m, FAKE_CAMERA_CLIP } from './camera-clip.ts';

export default function globalSetup(): void {
  mkdirSync(dirname(FAKE_CAMERA_CLIP), { recursive: true });
  writeFileSync(FAKE_CAMERA_CLIP, colourBarsY4m());
}
