import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { colourBarsY4m, FAKE_CAMERA_CLIP, FAKE_MICROPHONE, FAKE_MICROPHONE_TEXT } from './camera-clip.ts';

export default function globalSetup(): void {
  mkdirSync(dirname(FAKE_CAMERA_CLIP), { recursive: true });
  writeFileSync(FAKE_CAMERA_CLIP, colourBarsY4m());
  // Real speech for the fake microphone, with a second of silence before it repeats.
  execFileSync('espeak-ng', ['-s', '150', '-g', '10', '-w', FAKE_MICROPHONE, `${FAKE_MICROPHONE_TEXT} ... ...`]);
}
