// The native reference for the speech-analysis benchmark: Praat (C++, the phoneticians' tool that
// de Jong & Wempe's script runs in) computing the same measures on the same minute of speech —
// intensity, pitch from 75 to 600 Hz and the silences (25 dB under, 250 ms) — timed by its own
// stopwatch, with the browser's results of the same `npm run bench` at hand for their ratio.
// Praat is GPL and only run here, as a measuring stick: `apt-get install praat`.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SPEECH_BENCH_WAV } from '../tests/bench/speech-bench-file.ts';
import { percentile, round, type BenchRow } from '../tests/bench/stats.ts';

const BROWSER_RESULTS = 'tests/bench/results/speech-analysis.json';
const RUNS = 15;
const BENCH = 'speech-analysis';

// Resampled to 16 kHz first, as the app decodes it; each run then times the three analyses.
const SCRIPT = `form Bench
  sentence file
  integer runs
endform
sound = Read from file: file$
resampled = Resample: 16000, 50
for run to runs + 1
  stopwatch
  selectObject: resampled
  intensity = To Intensity: 80, 0.01, "yes"
  selectObject: resampled
  pitch = To Pitch (ac): 0.01, 75, 15, "no", 0.03, 0.45, 0.01, 0.35, 0.14, 600
  selectObject: intensity
  silences = To TextGrid (silences): -25, 0.25, 0.05, "silent", "sounding"
  seconds = stopwatch
  appendInfoLine: seconds
  removeObject: intensity, pitch, silences
endfor
`;

function praatAvailable(): boolean {
  try {
    execFileSync('praat', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

if (!existsSync(BROWSER_RESULTS)) {
  console.log(`${BROWSER_RESULTS} is missing: run the browser bench first (npm run bench does).`);
} else if (!praatAvailable()) {
  console.log('speech-analysis: no native reference (install Praat: apt-get install praat).');
} else {
  const dir = mkdtempSync(join(tmpdir(), 'praat-'));
  try {
    const script = join(dir, 'bench.praat');
    writeFileSync(script, SCRIPT);
    const printed = execFileSync('praat', ['--run', script, resolve(SPEECH_BENCH_WAV), String(RUNS)], {
      encoding: 'utf8'
    });
    // The first run warms Praat's caches; the medians are of the rest.
    const ms = printed
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => Number(line) * 1000);
    const rows = JSON.parse(readFileSync(BROWSER_RESULTS, 'utf8')) as BenchRow[];
    const worker = rows.find((row) => row.metric === 'analysis p50')!.value;
    const native = percentile(ms, 50);
    const reference: BenchRow[] = [
      {
        bench: BENCH,
        case: '60 s of espeak-ng speech at 16 kHz, Praat 6 (native)',
        metric: 'analysis p50',
        value: round(native, 1),
        unit: 'ms',
        note: 'To Intensity, To Pitch (ac) 75–600 Hz and To TextGrid (silences), timed by its stopwatch'
      },
      {
        bench: BENCH,
        case: 'speech worker / Praat',
        metric: 'time ratio',
        value: round(worker / native, 2),
        unit: '×',
        note: 'the same recording and measures in the same run (the worker also finds the syllable nuclei)'
      }
    ];
    writeFileSync(
      BROWSER_RESULTS,
      JSON.stringify([...rows.filter((row) => !row.case.includes('Praat')), ...reference], null, 2)
    );
    console.table(reference.map(({ note: _note, ...row }) => row));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
