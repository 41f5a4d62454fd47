/** The speech benchmarks' recording (written by speech-recording.ts) and its length. */
export const SPEECH_BENCH_WAV = '.cache/bench/speech-60s.wav';
export const SPEECH_BENCH_SECONDS = 60;
