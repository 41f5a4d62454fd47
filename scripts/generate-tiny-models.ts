// `npm run models:tiny`: writes small random-weight models in the exact Hugging Face /
// transformers.js repo layout, so the app, its tests and its benchmarks run without the network.
//
//   node scripts/generate-tiny-models.ts [--out DIR] [--faithful] [--print-manifest]
//
// --out DIR          output directory (default: $MODELS_DIR, else .cache/models), one folder per repo id
// --faithful         also write the architecture-faithful models the benchmarks time
// --print-manifest   print { repo, files: [{ path, size, sha256 }] }[] as JSON on stdout
import { parseArgs } from 'node:util';
import { bertRepo, MINILM_L6, TINY_BERT } from './tiny-models/bert.ts';
import { FLORENCE2_BASE, florence2Repo, TINY_FLORENCE2 } from './tiny-models/florence2.ts';
import { idefics3Repo, SMOLVLM_256M, TINY_SMOLVLM } from './tiny-models/idefics3.ts';
import { llavaOnevisionRepo, TINY_LLAVA_ONEVISION } from './tiny-models/llava-onevision.ts';
import { tinyLlamaRepo } from './tiny-models/llama.ts';
import { tinyMoondreamRepo } from './tiny-models/moondream.ts';
import { writeRepo, type GeneratedRepo, type RepoFile } from './tiny-models/repo-files.ts';
import { smolvlm2Repo, TINY_SMOLVLM2 } from './tiny-models/smolvlm2.ts';
import { TINY_WHISPER, whisperRepo } from './tiny-models/whisper.ts';

export type { GeneratedFile, GeneratedRepo } from './tiny-models/repo-files.ts';

const TINY: Record<string, (repo: string) => RepoFile[]> = {
  'vision-hub-dev/tiny-smolvlm': (repo) => idefics3Repo(repo, TINY_SMOLVLM),
  'vision-hub-dev/tiny-moondream': tinyMoondreamRepo,
  'vision-hub-dev/tiny-bert': (repo) => bertRepo(repo, TINY_BERT),
  'vision-hub-dev/tiny-llama': tinyLlamaRepo,
  'vision-hub-dev/tiny-florence2': (repo) => florence2Repo(repo, TINY_FLORENCE2),
  'vision-hub-dev/tiny-llava-onevision': (repo) => llavaOnevisionRepo(repo, TINY_LLAVA_ONEVISION),
  'vision-hub-dev/tiny-smolvlm2': (repo) => smolvlm2Repo(repo, TINY_SMOLVLM2),
  'vision-hub-dev/tiny-whisper': (repo) => whisperRepo(repo, TINY_WHISPER)
};

/** Real layer counts and widths with random weights: honest timings, meaningless answers. */
const FAITHFUL: Record<string, (repo: string) => RepoFile[]> = {
  'vision-hub-dev/smolvlm-256m-faithful': (repo) => idefics3Repo(repo, SMOLVLM_256M),
  'vision-hub-dev/minilm-l6-faithful': (repo) => bertRepo(repo, MINILM_L6),
  'vision-hub-dev/florence2-base-faithful': (repo) => florence2Repo(repo, FLORENCE2_BASE)
};

/**
 * Generates the tiny dev models (and, with `faithful`, the benchmark-sized ones) under `outDir`,
 * one folder per repo id. Output is byte-identical on every run; unchanged files are not rewritten.
 * @returns each repo's files with size and sha256, as models-manifest.json pins them
 */
export async function generateTinyModels(
  outDir: string,
  options: { faithful?: boolean } = {}
): Promise<GeneratedRepo[]> {
  const builders = Object.entries({ ...TINY, ...(options.faithful ? FAITHFUL : {}) });
  const repos: GeneratedRepo[] = [];
  // One repo at a time: a faithful repo's graphs hold about a gigabyte of weights.
  for (const [repo, build] of builders) {
    repos.push(await writeRepo(outDir, repo, build(repo)));
  }
  return repos;
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      out: { type: 'string' },
      faithful: { type: 'boolean', default: false },
      'print-manifest': { type: 'boolean', default: false }
    }
  });
  const outDir = values.out ?? process.env.MODELS_DIR ?? '.cache/models';
  const started = performance.now();
  const repos = await generateTinyModels(outDir, { faithful: values.faithful });
  const files = repos.reduce((sum, r) => sum + r.files.length, 0);
  // stderr, so that --print-manifest's stdout stays pure JSON.
  console.error(
    `${repos.length} model repos (${files} files) in ${outDir} — ${Math.round(performance.now() - started)} ms`
  );
  if (values['print-manifest']) {
    console.log(JSON.stringify(repos, null, 2));
  }
}
