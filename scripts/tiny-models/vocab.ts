/** Whole-word tokens of every generated tokenizer: what prompts ask and what a caption might say. */
const WORDS = (
  'a an the this that these there it is are was be can see read text sign says shows looks like what do you how ' +
  'many where which who question answer describe image picture photo frame camera scene person people man woman ' +
  'child hand face hair eye dog cat bird car bus bike road street tree grass sky cloud sun light lamp window door ' +
  'wall floor room table chair desk cup bottle book paper screen phone laptop keyboard red green blue yellow white ' +
  'black gray brown orange small large big bright dark near far left right front back top bottom inside outside ' +
  'with on in of and or to at by from some one two three'
).split(' ');
/** Capitalised prompt words, so prompts and chat templates tokenize into few tokens as well. */
const PROMPT_WORDS = ['What', 'How', 'Is', 'Are', 'Describe', 'Read', 'Question', 'Answer', 'User', 'Assistant', 'I'];

export interface AddedToken {
  content: string;
  /** A fixed id (e.g. the real model's); by default the next free id after the learned vocabulary. */
  id?: number;
  /** Special tokens are skipped by `decode(…, { skip_special_tokens: true })`; default true. */
  special?: boolean;
}

export interface Vocabulary {
  /** The `tokenizer.json` document. */
  tokenizer: Record<string, unknown>;
  /** Token → id, added tokens included. */
  ids: ReadonlyMap<string, number>;
  /** One past the largest id: the smallest embedding table that covers every token. */
  size: number;
}

export interface GenerativeVocabulary extends Vocabulary {
  /** Ids of the whole words (with their leading space) that generation is steered towards. */
  wordIds: number[];
}

export function tokenId(vocabulary: Vocabulary, token: string): number {
  const id = vocabulary.ids.get(token);
  if (id === undefined) {
    throw new Error(`${token} is not in the vocabulary`);
  }
  return id;
}

/** GPT-2's reversible byte → printable character table, which byte-level BPE vocabularies are written in. */
const BYTE_SYMBOLS = (() => {
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  let shifted = 0;
  return Array.from({ length: 256 }, (_, b) => String.fromCharCode(printable(b) ? b : 256 + shifted++));
})();
const SPACE = BYTE_SYMBOLS[0x20]!;

/**
 * Plain BPE training on the word list: merge the most frequent adjacent pair (ties: smallest pair)
 * until every word is one token. Applying the merges by rank reproduces these segmentations, so
 * every listed word encodes to a single token.
 */
function learnMerges(words: readonly string[]): [string, string][] {
  let segmented = words.map((word) => Array.from(word));
  const merges: [string, string][] = [];
  for (;;) {
    const counts = new Map<string, number>();
    for (const symbols of segmented) {
      for (let i = 0; i + 1 < symbols.length; i += 1) {
        const pair = `${symbols[i]} ${symbols[i + 1]}`;
        counts.set(pair, (counts.get(pair) ?? 0) + 1);
      }
    }
    let best: string | undefined;
    for (const [pair, count] of counts) {
      const bestCount = best === undefined ? 0 : counts.get(best)!;
      if (count > bestCount || (count === bestCount && pair < best!)) {
        best = pair;
      }
    }
    if (best === undefined) {
      return merges;
    }
    const [left, right] = best.split(' ') as [string, string];
    merges.push([left, right]);
    segmented = segmented.map((symbols) => {
      const merged: string[] = [];
      for (let i = 0; i < symbols.length; i += 1) {
        if (symbols[i] === left && symbols[i + 1] === right) {
          merged.push(left + right);
          i += 1;
        } else {
          merged.push(symbols[i]!);
        }
      }
      return merged;
    });
  }
}

function addedTokenJson(content: string, id: number, special: boolean) {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special };
}

/** A post-processor that puts `token` before every sequence (how moondream's tokenizer adds its BOS). */
function prefixTemplate(token: string, id: number) {
  return {
    type: 'TemplateProcessing',
    single: [{ SpecialToken: { id: token, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
    pair: [
      { SpecialToken: { id: token, type_id: 0 } },
      { Sequence: { id: 'A', type_id: 0 } },
      { Sequence: { id: 'B', type_id: 1 } }
    ],
    special_tokens: { [token]: { id: token, ids: [id], tokens: [token] } }
  };
}

/**
 * A GPT-2 style byte-level BPE tokenizer (as SmolLM/SmolVLM and moondream use): `leading` special
 * tokens take ids 0…, then the 256 byte symbols and the learned merges, then `added` tokens.
 * Any text encodes (bytes are the fallback); the listed words encode to single tokens.
 */
export function byteLevelBpe(options: {
  leading: readonly string[];
  added: readonly AddedToken[];
  /** A special token the post-processor puts before every sequence. */
  prefix?: string;
}): GenerativeVocabulary {
  const words = [...new Set([...WORDS, ...PROMPT_WORDS])].flatMap((word) => [word, SPACE + word]);
  const merges = learnMerges(words);
  const ids = new Map<string, number>();
  for (const token of [...options.leading, ...BYTE_SYMBOLS, ...merges.map(([a, b]) => a + b)]) {
    if (!ids.has(token)) {
      ids.set(token, ids.size);
    }
  }
  const vocab = Object.fromEntries(ids);
  const added = [
    ...options.leading.map((content) => addedTokenJson(content, ids.get(content)!, true)),
    ...options.added.map(({ content, id, special = true }) => {
      const assigned = id ?? Math.max(...ids.values()) + 1;
      ids.set(content, assigned);
      return addedTokenJson(content, assigned, special);
    })
  ];
  const byteLevel = { add_prefix_space: false, trim_offsets: true, use_regex: true };
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', ...byteLevel },
    post_processor: options.prefix
      ? prefixTemplate(options.prefix, ids.get(options.prefix)!)
      : { type: 'ByteLevel', ...byteLevel },
    decoder: { type: 'ByteLevel', ...byteLevel },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges
    }
  };
  return {
    tokenizer,
    ids,
    size: Math.max(...ids.values()) + 1,
    wordIds: WORDS.map((word) => ids.get(SPACE + word)!)
  };
}

const WORD_PIECE_SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];

/** A BERT WordPiece tokenizer (lower-cased): specials, single characters, `##` continuations, whole words. */
export function wordPiece(): Vocabulary {
  const characters = [...'!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~0123456789abcdefghijklmnopqrstuvwxyz'];
  const tokens = [...WORD_PIECE_SPECIALS, ...characters, ...characters.map((c) => `##${c}`), ...WORDS];
  const ids = new Map([...new Set(tokens)].map((token, id) => [token, id]));
  const special = (token: string) => ({ SpecialToken: { id: token, type_id: 0 } });
  const specialEntry = (token: string) => ({ id: token, ids: [ids.get(token)!], tokens: [token] });
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: WORD_PIECE_SPECIALS.map((token) => addedTokenJson(token, ids.get(token)!, true)),
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: null,
      lowercase: true
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [special('[CLS]'), { Sequence: { id: 'A', type_id: 0 } }, special('[SEP]')],
      pair: [
        special('[CLS]'),
        { Sequence: { id: 'A', type_id: 0 } },
        special('[SEP]'),
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } }
      ],
      special_tokens: { '[CLS]': specialEntry('[CLS]'), '[SEP]': specialEntry('[SEP]') }
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(ids)
    }
  };
  return { tokenizer, ids, size: ids.size };
}

/** Logit offset of tokens that must never be generated: random logits are ~±1, so this is a hard block. */
const BLOCKED = -30;
/** Logit offset of end-of-sequence tokens: rarely beats a word, so answers run to `max_new_tokens`. */
const END_OF_SEQUENCE = -1;

/**
 * Bias added to the logits of a random-weight decoder so greedy decoding yields visible words:
 * whole words 0, end-of-sequence slightly below, everything else (byte pieces, specials, ids past
 * the tokenizer) blocked.
 */
export function logitBias(
  vocabSize: number,
  vocabulary: GenerativeVocabulary,
  endOfSequenceIds: readonly number[]
): Float32Array {
  const bias = new Float32Array(vocabSize).fill(BLOCKED);
  for (const id of vocabulary.wordIds) {
    bias[id] = 0;
  }
  for (const id of endOfSequenceIds) {
    bias[id] = END_OF_SEQUENCE;
  }
  return bias;
}
