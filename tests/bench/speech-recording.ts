// The benchmark's recording: a minute of espeak-ng reading the passages with pauses between
// sentences, written once as a WAV for the browser bench and the native reference alike.
// `node tests/bench/speech-recording.ts` (npm run bench runs it first).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { concat, silence, speak, trimmed, wavFile } from '../unit/fixtures/speech-audio.ts';
import { PASSAGES } from '../../src/routes/classroom/passages.ts';
import { SPEECH_BENCH_SECONDS, SPEECH_BENCH_WAV } from './speech-bench-file.ts';

if (import.meta.main && !existsSync(SPEECH_BENCH_WAV)) {
  const sentences = PASSAGES.flatMap(({ text }) => text.split(/(?<=\.)\s+/));
  const parts: Float32Array[] = [];
  let sampleRate = 22050;
  let seconds = 0;
  for (let i = 0; seconds < SPEECH_BENCH_SECONDS; i++) {
    const spoken = trimmed(speak(sentences[i % sentences.length]!, ['-s', String(130 + (i % 4) * 20)]));
    sampleRate = spoken.sampleRate;
    const pause = silence(0.4 + (i % 3) * 0.2, sampleRate);
    parts.push(spoken.samples, pause);
    seconds += (spoken.samples.length + pause.length) / sampleRate;
  }
  const samples = concat(...parts).slice(0, SPEECH_BENCH_SECONDS * sampleRate);
  mkdirSync(dirname(SPEECH_BENCH_WAV), { recursive: true });
  writeFileSync(SPEECH_BENCH_WAV, wavFile(samples, sampleRate));
  console.log(`${SPEECH_BENCH_WAV}: ${SPEECH_BENCH_SECONDS} s of espeak-ng speech at ${sampleRate} Hz`);
}
