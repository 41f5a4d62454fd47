/**
 * Very common English function words, and the words a question is built from ("how", "does",
 * "about"): they match almost every passage, so they only add noise to keyword scores and to the
 * highlighting of results. Kept small on purpose; IDF already discounts the rest. `s` and `t` are
 * what is left of "it's" and "don't" once the apostrophe splits them.
 */
export const STOPWORDS: ReadonlySet<string> = new Set(
  (
    'a about an and any are as at be been but by can could did do does for from had has have he her his how i ' +
    'if in into is it its me my no not of on or our s she should so t than that the their them then there these ' +
    'they this to was we were what when where which who why will with would you your'
  ).split(' ')
);

/**
 * Scripts written without spaces: each character becomes a token, or a whole sentence would be
 * one unsearchable word.
 */
const UNSPACED = String.raw`\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}`;
const TOKEN = new RegExp(`[${UNSPACED}]|(?:(?![${UNSPACED}])[\\p{L}\\p{M}\\p{N}])+`, 'gu');

/**
 * Lowercased word tokens with stopwords dropped and a trivial plural strip ("cameras" and
 * "camera" should match; real stemming would cost more than it earns at this size).
 */
export function tokenize(text: string): string[] {
  const tokens: string[] = [];
  for (const [match] of text.normalize('NFKC').toLowerCase().matchAll(TOKEN)) {
    if (!STOPWORDS.has(match)) {
      tokens.push(stripPlural(match));
    }
  }
  return tokens;
}

function stripPlural(word: string): string {
  if (word.length > 4 && word.endsWith('ies')) {
    return `${word.slice(0, -3)}y`;
  }
  // Not "-ss" (class), "-us" (status) or "-is" (analysis): those are not plurals.
  if (word.length > 3 && word.endsWith('s') && !/(?:ss|us|is)$/.test(word)) {
    return word.slice(0, -1);
  }
  return word;
}
