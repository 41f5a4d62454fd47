/**
 * Reading practice: a learner's recording decoded in the page (the browser's own decoders read
 * what its MediaRecorder writes and any common audio file), measured in the speech worker, and
 * kept per learner in IndexedDB. The recording itself is not kept: only what was measured.
 */
import { Dexie } from 'dexie';
import { RecordingError } from '#lib/core/errors.ts';
import { db, type ReadingResult } from '#lib/db/index.ts';
import { analyzeSpeechInWorker } from '#lib/workers/speech-runner.ts';

/** Enough for speech (its energy lies under 8 kHz) and a third of the work of 48 kHz. */
export const ANALYSIS_SAMPLE_RATE = 16_000;
/** A passage takes a minute or two; a longer recording was most likely left running. */
export const MAX_RECORDING_S = 600;
const MAX_FILE_BYTES = 200 * 1024 * 1024;

export interface ReadingInput {
  recording: Blob;
  learner: string;
  passageTitle: string;
  passage: string | null;
  transcript: string | null;
  source: ReadingResult['source'];
}

/** The recording as mono samples at {@link ANALYSIS_SAMPLE_RATE}, or a RecordingError in plain words. */
export async function decodeRecording(recording: Blob): Promise<Float32Array> {
  if (recording.size === 0) {
    throw new RecordingError('The recording is empty.');
  }
  if (recording.size > MAX_FILE_BYTES) {
    throw new RecordingError(
      `The file is ${Math.round(recording.size / 1048576)} MB; recordings of up to 200 MB are read.`
    );
  }
  let audio: AudioBuffer;
  try {
    // An offline context decodes without audio output and resamples to its own rate.
    audio = await new OfflineAudioContext(1, 1, ANALYSIS_SAMPLE_RATE).decodeAudioData(await recording.arrayBuffer());
  } catch (error) {
    throw new RecordingError(
      'This file is not audio the browser can read. Try a WAV, MP3, M4A, OGG or WebM recording.',
      {
        cause: error
      }
    );
  }
  if (audio.duration > MAX_RECORDING_S) {
    const minutes = Math.floor(audio.duration / 60);
    const seconds = Math.round(audio.duration % 60);
    throw new RecordingError(
      `The recording lasts ${minutes} min ${seconds} s; up to ${MAX_RECORDING_S / 60} minutes are measured.`
    );
  }
  const mono = audio.getChannelData(0).slice();
  for (let channel = 1; channel < audio.numberOfChannels; channel++) {
    const data = audio.getChannelData(channel);
    for (let i = 0; i < mono.length; i++) {
      mono[i] = mono[i]! + data[i]!;
    }
  }
  if (audio.numberOfChannels > 1) {
    for (let i = 0; i < mono.length; i++) {
      mono[i] = mono[i]! / audio.numberOfChannels;
    }
  }
  return mono;
}

/** Decodes, measures and saves one reading; the saved row comes back with its id. */
export async function measureReading(input: ReadingInput): Promise<ReadingResult> {
  const samples = await decodeRecording(input.recording);
  const scored = input.passage !== null && input.transcript !== null;
  const { analysis, ms } = await analyzeSpeechInWorker(
    samples,
    ANALYSIS_SAMPLE_RATE,
    scored ? { reference: input.passage!, transcript: input.transcript! } : {}
  );
  if (analysis.fluency.syllables === 0) {
    throw new RecordingError('No speech was heard in the recording. Check the microphone and read a little louder.');
  }
  const row: ReadingResult = {
    learner: input.learner,
    createdAt: Date.now(),
    passageTitle: input.passageTitle,
    passage: input.passage,
    transcript: input.transcript,
    source: input.source,
    analysis,
    analysisMs: ms
  };
  row.id = await db.readings.add(row);
  return row;
}

/** Every learner with a result, in alphabetical order. */
export async function learners(): Promise<string[]> {
  const keys = (await db.readings.orderBy('[learner+createdAt]').keys()) as unknown as [string, number][];
  return [...new Set(keys.map(([learner]) => learner))].sort((a, b) => a.localeCompare(b));
}

/** A learner's results, newest first. */
export function readingsOf(learner: string): Promise<ReadingResult[]> {
  return db.readings
    .where('[learner+createdAt]')
    .between([learner, Dexie.minKey], [learner, Dexie.maxKey])
    .reverse()
    .toArray();
}

/** Deletes a result; the function returned puts it back (undo). */
export async function deleteReading(id: number): Promise<() => Promise<void>> {
  const row = await db.transaction('rw', db.readings, async () => {
    const kept = await db.readings.get(id);
    await db.readings.delete(id);
    return kept;
  });
  return async () => {
    if (row) {
      await db.readings.put(row);
    }
  };
}

/**
 * The microphone's stream, or a RecordingError saying what to do: denied, absent and busy are
 * told apart as the camera's are.
 */
export async function openMicrophone(): Promise<MediaStream> {
  if (!navigator.mediaDevices?.getUserMedia) {
    throw new RecordingError(
      'This browser cannot record here (it needs a secure page). Choose a recording file instead.'
    );
  }
  try {
    // The analysis measures the voice as it is: no noise suppression or gain riding its loudness.
    return await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false }
    });
  } catch (error) {
    const name = (error as DOMException).name;
    const message =
      name === 'NotAllowedError'
        ? 'Microphone access was denied. Allow it in the browser settings, or choose a recording file instead.'
        : name === 'NotFoundError' || name === 'OverconstrainedError'
          ? 'No microphone was found on this device. Choose a recording file instead.'
          : name === 'NotReadableError'
            ? 'The microphone is in use by another app. Close it, or choose a recording file instead.'
            : `The microphone could not be opened (${(error as Error).message}).`;
    throw new RecordingError(message, { cause: error });
  }
}
