/**
 * What a reader said against the passage they read: a word-level alignment (the minimum edit
 * distance, Levenshtein over words), read as the oral-reading-fluency counts teachers use —
 * words correct, omissions, insertions, substitutions — and words correct per minute.
 */

export type WordOp =
  | { op: 'correct'; reference: string; spoken: string }
  | { op: 'substitution'; reference: string; spoken: string }
  | { op: 'omission'; reference: string }
  | { op: 'insertion'; spoken: string };

export interface WordAlignment {
  /** The passage in reading order, each word with what happened to it, insertions where they came. */
  ops: WordOp[];
  correct: number;
  substitutions: number;
  omissions: number;
  insertions: number;
  /** Words in the passage. */
  referenceWords: number;
}

/**
 * Lower-case words, punctuation and accents kept apart from letters: "Don't," → "don't". Numbers
 * stay as written; a hyphenated word is one word.
 */
export function words(text: string): string[] {
  return (
    text
      .normalize('NFKC')
      .toLowerCase()
      .replace(/[’‘]/g, "'")
      .match(/[\p{L}\p{N}]+(?:['-][\p{L}\p{N}]+)*/gu) ?? []
  );
}

/**
 * Aligns `spoken` to `reference`. A substitution costs as much as an omission and an insertion,
 * so the alignment keeps the most words matched ("on the mat" read "on mat today" is an omission
 * and an insertion, not two misreadings); between equal paths a substitution wins, so a misread
 * word is one error, not an omission plus an insertion.
 */
export function alignWords(reference: string, spoken: string): WordAlignment {
  const ref = words(reference);
  const said = words(spoken);
  const width = said.length + 1;
  // cost[i * width + j]: edits to turn ref[0..i) into said[0..j).
  const cost = new Uint32Array((ref.length + 1) * width);
  for (let j = 0; j <= said.length; j++) {
    cost[j] = j;
  }
  for (let i = 1; i <= ref.length; i++) {
    cost[i * width] = i;
    for (let j = 1; j <= said.length; j++) {
      const diagonal = cost[(i - 1) * width + j - 1]! + (ref[i - 1] === said[j - 1] ? 0 : 2);
      cost[i * width + j] = Math.min(diagonal, cost[(i - 1) * width + j]! + 1, cost[i * width + j - 1]! + 1);
    }
  }
  const ops: WordOp[] = [];
  let i = ref.length;
  let j = said.length;
  while (i > 0 || j > 0) {
    const here = cost[i * width + j]!;
    if (i > 0 && j > 0 && here === cost[(i - 1) * width + j - 1]! + (ref[i - 1] === said[j - 1] ? 0 : 2)) {
      const op = ref[i - 1] === said[j - 1] ? 'correct' : 'substitution';
      ops.push({ op, reference: ref[i - 1]!, spoken: said[j - 1]! });
      i -= 1;
      j -= 1;
    } else if (i > 0 && here === cost[(i - 1) * width + j]! + 1) {
      ops.push({ op: 'omission', reference: ref[i - 1]! });
      i -= 1;
    } else {
      ops.push({ op: 'insertion', spoken: said[j - 1]! });
      j -= 1;
    }
  }
  ops.reverse();
  const count = (kind: WordOp['op']) => ops.filter((op) => op.op === kind).length;
  return {
    ops,
    correct: count('correct'),
    substitutions: count('substitution'),
    omissions: count('omission'),
    insertions: count('insertion'),
    referenceWords: ref.length
  };
}
