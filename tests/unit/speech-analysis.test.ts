import { describe, expect, it } from 'vitest';
import { analyzeSpeech } from '../../src/lib/core/speech/analyze-speech.ts';
import { FRAME_STEP_S } from '../../src/lib/core/speech/intensity.ts';
import { pitchContour, summarisePitch } from '../../src/lib/core/speech/pitch.ts';
import { alignWords, words } from '../../src/lib/core/speech/word-alignment.ts';
import { concat, RATE, silence, speak, tone, trimmed } from './fixtures/speech-audio.ts';

/** Frames whose F0 is off by more than 20%: the usual definition of a gross pitch error. */
const grossErrors = (hz: Float32Array, truth: (frame: number) => number) =>
  Array.from(hz).filter((value, frame) => value > 0 && Math.abs(value / truth(frame) - 1) > 0.2).length;

describe('pitch', () => {
  // 80 Hz (a low adult voice) to 500 Hz (a child's highest), where adult-tuned trackers stop.
  it.each([80, 110, 220, 330, 440, 500])('finds a %d Hz tone within 1%%, with no gross errors', (hz) => {
    const contour = pitchContour(tone(hz, 1), RATE);
    // The frames whose window lies inside the tone.
    const inner = contour.hz.slice(5, -5);
    expect(inner.filter((value) => value > 0).length).toBe(inner.length);
    for (const value of inner) {
      expect(Math.abs(value / hz - 1)).toBeLessThan(0.01);
    }
    expect(grossErrors(contour.hz, () => hz)).toBe(0);
  });

  it('follows a glide from 150 to 450 Hz frame by frame within 1%', () => {
    const seconds = 2;
    const contour = pitchContour(tone(150, seconds, 450), RATE);
    const truth = (frame: number) => 150 + (300 * frame * FRAME_STEP_S) / seconds;
    const inner = Array.from(contour.hz.slice(5, -5), (value, i) => [value, truth(i + 5)] as const);
    expect(inner.every(([value]) => value > 0)).toBe(true);
    for (const [value, expected] of inner) {
      expect(Math.abs(value / expected - 1)).toBeLessThan(0.01);
    }
    expect(grossErrors(contour.hz, truth)).toBe(0);
    // 150 → 450 Hz spans log2(3) octaves; the 5th–95th percentile range is 90% of it.
    expect(summarisePitch(contour).rangeSemitones).toBeCloseTo(12 * Math.log2(435 / 165), 0);
  });

  it('reports semitones re 100 Hz and nothing for silence', () => {
    expect(summarisePitch(pitchContour(tone(200, 0.5), RATE)).meanSemitones).toBeCloseTo(12, 1);
    const quiet = summarisePitch(pitchContour(silence(0.5), RATE));
    expect(quiet).toMatchObject({ voicedFrames: 0, meanHz: null, rangeSemitones: null });
  });
});

describe('pauses', () => {
  // Lead-in and tail silences are the recording's, not the reader's; 200 ms is a gap, not a pause.
  const signal = (gain: number) =>
    concat(
      silence(0.5),
      tone(180, 0.6),
      silence(0.3),
      tone(200, 0.4),
      silence(0.7),
      tone(220, 0.5),
      silence(0.2),
      tone(190, 0.3),
      silence(0.5)
    ).map((x) => x * gain);

  it.each([1, 0.01])('finds the two silences of 250 ms or more at gain %d', (gain) => {
    const { fluency } = analyzeSpeech(signal(gain), RATE);
    expect(fluency.pauseCount).toBe(2);
    const lengths = fluency.pauses.map(({ start, end }) => end - start);
    // To 10 ms: the edges are placed by a 5 ms window, not by the 40 ms one of the contour.
    expect(Math.abs(lengths[0]! - 0.3)).toBeLessThan(0.01);
    expect(Math.abs(lengths[1]! - 0.7)).toBeLessThan(0.01);
    expect(fluency.longestPauseS).toBe(Math.max(...lengths.map((length) => Math.round(length * 1000) / 1000)));
    expect(Math.abs(fluency.speakingS - 3)).toBeLessThan(0.01);
    expect(Math.abs(fluency.phonationS - 2)).toBeLessThan(0.02);
  });

  it('counts no pause in silence or in one sound', () => {
    expect(analyzeSpeech(silence(1), RATE).fluency).toMatchObject({ pauseCount: 0, syllables: 0, speechRate: 0 });
    expect(analyzeSpeech(tone(200, 1), RATE).fluency.pauseCount).toBe(0);
  });
});

// Passages with their syllables counted by hand, read by espeak-ng.
const PASSAGES = [
  {
    text: 'The little dog ran across the green field to find his ball. Then he sat under a tall tree and waited for the children to come home from school.',
    syllables: 34
  },
  {
    text: 'My brother likes to read books about animals and the ocean. Yesterday we visited the museum together.',
    syllables: 30
  },
  {
    text: 'The farmer planted seeds in the spring and watched the corn grow tall. In autumn his family helped him carry the harvest to the barn.',
    syllables: 33
  }
];

describe('speech from espeak-ng', () => {
  const readings = PASSAGES.flatMap((passage) =>
    [
      ['-s', '120'],
      ['-s', '160'],
      ['-s', '220'],
      ['-v', 'en+f3'],
      ['-v', 'en-us', '-p', '70']
    ].map((options) => ({ ...passage, options }))
  );

  it.each(readings)('counts the syllables of "$text" ($options) within 10%', ({ text, syllables, options }) => {
    const { samples, sampleRate } = speak(text, options);
    const { fluency } = analyzeSpeech(samples, sampleRate);
    expect(Math.abs(fluency.syllables / syllables - 1)).toBeLessThanOrEqual(0.1);
    // The rate is the count over the speaking time, so it is as close to the true rate.
    const trueRate = syllables / fluency.speakingS;
    expect(Math.abs(fluency.speechRate / trueRate - 1)).toBeLessThanOrEqual(0.1);
  });

  it('reads a faster reader as faster, in proportion', () => {
    const rates = [120, 170, 240].map((wpm) => {
      const { samples, sampleRate } = speak(PASSAGES[0]!.text, ['-s', String(wpm)]);
      return analyzeSpeech(samples, sampleRate).fluency;
    });
    const [slow, middle, fast] = rates as [(typeof rates)[0], (typeof rates)[0], (typeof rates)[0]];
    expect(middle.articulationRate).toBeGreaterThan(slow.articulationRate);
    expect(fast.articulationRate).toBeGreaterThan(middle.articulationRate);
    // Twice the words per minute, (close to) twice the syllables per second.
    expect(fast.articulationRate / slow.articulationRate).toBeGreaterThan(1.6);
  });

  it.each([120, 175, 220])('finds exactly the pauses put between sentences at %d words per minute', (wpm) => {
    const sentences = [
      'The sun was shining brightly.',
      'A small bird sang in the garden.',
      'The rain fell all morning.'
    ];
    const spoken = sentences.map((sentence) => trimmed(speak(sentence, ['-s', String(wpm)])));
    const sampleRate = spoken[0]!.sampleRate;
    const samples = concat(
      silence(0.4, sampleRate),
      spoken[0]!.samples,
      silence(0.4, sampleRate),
      spoken[1]!.samples,
      silence(0.8, sampleRate),
      spoken[2]!.samples,
      silence(0.4, sampleRate)
    );
    const { fluency } = analyzeSpeech(samples, sampleRate);
    expect(fluency.pauseCount).toBe(2);
    const lengths = fluency.pauses.map(({ start, end }) => end - start);
    expect(Math.abs(lengths[0]! - 0.4)).toBeLessThan(0.03);
    expect(Math.abs(lengths[1]! - 0.8)).toBeLessThan(0.03);
  });

  it("follows espeak's pitch setting", () => {
    const means = [20, 50, 80].map((pitch) => {
      const { samples, sampleRate } = speak(PASSAGES[0]!.text, ['-p', String(pitch)]);
      return analyzeSpeech(samples, sampleRate).prosody.medianHz!;
    });
    expect(means[1]! / means[0]!).toBeGreaterThan(1.1);
    expect(means[2]! / means[1]!).toBeGreaterThan(1.1);
  });
});

describe('reading against the passage', () => {
  it('splits words as a reader says them', () => {
    expect(words('Don’t stop, Mr. Smith — well-known 42!')).toEqual([
      "don't",
      'stop',
      'mr',
      'smith',
      'well-known',
      '42'
    ]);
  });

  it('counts a perfect reading as all correct', () => {
    const alignment = alignWords('The cat sat on the mat.', 'the cat sat on the mat');
    expect(alignment).toMatchObject({ correct: 6, substitutions: 0, omissions: 0, insertions: 0, referenceWords: 6 });
  });

  it('names each omission, insertion and substitution where it happened', () => {
    const alignment = alignWords('The cat sat on the mat.', 'the cat sit on mat today');
    expect(alignment).toMatchObject({ correct: 4, substitutions: 1, omissions: 1, insertions: 1 });
    expect(alignment.ops).toEqual([
      { op: 'correct', reference: 'the', spoken: 'the' },
      { op: 'correct', reference: 'cat', spoken: 'cat' },
      { op: 'substitution', reference: 'sat', spoken: 'sit' },
      { op: 'correct', reference: 'on', spoken: 'on' },
      { op: 'omission', reference: 'the' },
      { op: 'correct', reference: 'mat', spoken: 'mat' },
      { op: 'insertion', spoken: 'today' }
    ]);
  });

  it('scores words correct per minute over the speaking time', () => {
    const { samples, sampleRate } = speak(PASSAGES[0]!.text, ['-s', '150']);
    const spoken = PASSAGES[0]!.text.replace('green ', '').replace('tall', 'small');
    const { reading, fluency } = analyzeSpeech(samples, sampleRate, {
      reference: PASSAGES[0]!.text,
      transcript: spoken
    });
    expect(reading).toMatchObject({ correct: 27, omissions: 1, substitutions: 1, insertions: 0, referenceWords: 29 });
    expect(reading!.wordsCorrectPerMinute).toBeCloseTo((27 / fluency.speakingS) * 60, 0);
    expect(reading!.accuracy).toBeCloseTo(27 / 29, 3);
  });

  it('refuses a sample rate no recording has', () => {
    expect(() => analyzeSpeech(tone(200, 0.1), 100)).toThrow(/100 Hz/);
  });
});
