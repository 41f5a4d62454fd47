/**
 * Syllable nuclei after de Jong & Wempe (2009), "Praat script to detect syllable nuclei and
 * measure speech rate automatically": a syllable's vowel is a peak of intensity above the silence
 * threshold, set apart from its neighbours by a dip, and voiced. No transcript needed.
 *
 * Two changes from the script, each measured on espeak-ng speech at 100–280 words per minute and
 * several voices (tests/unit/speech-analysis.test.ts): two peaks with a shallow dip between them
 * are one syllable, kept at the higher peak (the script drops whichever comes first, and a
 * diphthong or a vowel-nasal glide then counts twice); and the voicing is looked for within 20 ms
 * of the peak, since the loudest frame of a fast syllable often falls where the pitch tracker is
 * still unsure.
 */
import type { Intensity } from './intensity.ts';
import type { PitchContour } from './pitch.ts';

export interface NucleusOptions {
  /** dB both peaks must rise above the lowest point between them to count as two syllables. */
  minDipDb?: number;
}

/** Frames either side of a peak searched for a voiced frame (20 ms). */
const VOICING_REACH = 2;

/** Seconds at which a syllable nucleus was found. */
export function syllableNuclei(
  intensity: Intensity,
  pitch: PitchContour,
  thresholdDb: number,
  options: NucleusOptions = {}
): number[] {
  const { minDipDb = 4 } = options;
  const { db, step } = intensity;
  // Kept peaks, and for each the lowest point since the one before it.
  const kept: number[] = [];
  const dipBefore: number[] = [];
  let low = Infinity;
  for (let i = 1; i < db.length - 1; i++) {
    low = Math.min(low, db[i]!);
    // `>=` on the right: a flat top counts once, at its first frame.
    if (!(db[i]! > db[i - 1]! && db[i]! >= db[i + 1]! && db[i]! >= thresholdDb)) {
      continue;
    }
    // Merge with the kept peaks before it while the dip between is shallow; the higher one stays.
    let dip = low;
    let survivor = true;
    low = Infinity;
    while (kept.length > 0 && Math.min(db[kept.at(-1)!]!, db[i]!) - dip < minDipDb) {
      if (db[kept.at(-1)!]! >= db[i]!) {
        // This peak is the lesser: the stretch up to it joins the one after the kept peak.
        survivor = false;
        low = dip;
        break;
      }
      kept.pop();
      dip = Math.min(dip, dipBefore.pop()!);
    }
    if (survivor) {
      kept.push(i);
      dipBefore.push(dip);
    }
  }
  return kept.filter((peak) => voicedNear(pitch.hz, peak)).map((peak) => peak * step);
}

function voicedNear(hz: Float32Array, frame: number): boolean {
  for (let i = Math.max(0, frame - VOICING_REACH); i <= Math.min(hz.length - 1, frame + VOICING_REACH); i++) {
    if (hz[i]! > 0) {
      return true;
    }
  }
  return false;
}
