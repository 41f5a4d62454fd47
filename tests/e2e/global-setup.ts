import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { FAKE_CAMERA_CLIP } from './camera-clip.ts';

/** A 2 s moving test pattern for Chromium's fake camera (Y4M is the format it reads). */
export default function globalSetup(): void {
  if (existsSync(FAKE_CAMERA_CLIP)) {
    return;
  }
  mkdirSync(dirname(FAKE_CAMERA_CLIP), { recursive: true });
  execFileSync(
    'ffmpeg',
    [
      '-y',
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      'testsrc=size=640x480:rate=15:duration=2',
      '-pix_fmt',
      'yuv420p',
      FAKE_CAMERA_CLIP
    ],
    { stdio: 'inherit' }
  );
}
