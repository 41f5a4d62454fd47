import { resolve } from 'node:path';

/** Y4M clip the fake camera plays; written by global-setup with ffmpeg. */
export const FAKE_CAMERA_CLIP = resolve('.cache/fake-camera.y4m');
