import { tokenize } from './tokenize.ts';
import { TopK } from './top-k.ts';
import type { ScoredId } from './types.ts';

/** BM25 parameters; the defaults are the usual Lucene/Elasticsearch ones. */
export interface Bm25Options {
  /** Term-frequency saturation. Default 1.2. */
  k1?: number;
  /** Length normalization, 0 (none) to 1 (full). Default 0.75. */
  b?: number;
}

/**
 * Persisted form. Postings are stored per term against positions in `docs` (small integers, not
 * the caller's ids) and per-document data is derived on load, so nothing is stored twice.
 */
export interface Bm25Json {
  version: 1;
  k1: number;
  b: number;
  /** `[id, length in tokens]` per document. */
  docs: [number, number][];
  /** `[term, doc positions, term frequencies]` per term. */
  terms: [string, number[], number[]][];
}

/** One term's postings: parallel growable arrays of document slots and term frequencies. */
interface Posting {
  slots: Int32Array;
  tfs: Uint16Array;
  size: number;
  /** Live documents containing the term (`size` also counts removed ones until compaction). */
  df: number;
}

/** Compact once removed documents make up this share of the slots (and at least a few). */
const COMPACT_RATIO = 0.25;
const COMPACT_MIN = 64;

/**
 * An incremental Okapi BM25 keyword index over short passages.
 *
 * Built for 100k-passage bases: postings are typed arrays rather than a Map per term, and
 * removal is O(terms of the document): it fixes document frequencies and lengths at once (so
 * scores stay exact) but only tombstones the postings, which are swept in one pass when enough
 * have piled up.
 */
export class Bm25Index {
  readonly k1: number;
  readonly b: number;

  readonly #termIds = new Map<string, number>();
  #termText: string[] = [];
  #postings: Posting[] = [];

  readonly #idToSlot = new Map<number, number>();
  #slotId = new Int32Array(64);
  #slotLength = new Int32Array(64);
  #slotAlive = new Uint8Array(64);
  /** Term ids of each live slot, so removal can fix document frequencies. */
  #slotTerms: (Int32Array | undefined)[] = [];
  #slots = 0;
  #totalLength = 0;

  /** Per-slot score accumulator reused by `search`. */
  #scores = new Float64Array(0);

  constructor(options: Bm25Options = {}) {
    this.k1 = options.k1 ?? 1.2;
    this.b = options.b ?? 0.75;
  }

  /** Documents in the index. */
  get size(): number {
    return this.#idToSlot.size;
  }

  has(id: number): boolean {
    return this.#idToSlot.has(id);
  }

  /** Indexes `text` under `id`, replacing any earlier text for that id. */
  add(id: number, text: string): void {
    // First, because removal may compact and renumber the term ids looked up below.
    this.remove(id);
    const counts = new Map<string, number>();
    const tokens = tokenize(text);
    for (const token of tokens) {
      counts.set(token, (counts.get(token) ?? 0) + 1);
    }
    const termIds = Int32Array.from(counts.keys(), (term) => this.#termId(term));
    this.#insert(id, tokens.length, termIds, Array.from(counts.values()));
  }

  /** Drops `id`; returns whether it was indexed. */
  remove(id: number): boolean {
    const slot = this.#idToSlot.get(id);
    if (slot === undefined) {
      return false;
    }
    this.#idToSlot.delete(id);
    this.#slotAlive[slot] = 0;
    this.#totalLength -= this.#slotLength[slot]!;
    for (const term of this.#slotTerms[slot]!) {
      this.#postings[term]!.df -= 1;
    }
    this.#slotTerms[slot] = undefined;
    const dead = this.#slots - this.#idToSlot.size;
    if (dead >= COMPACT_MIN && dead >= this.#slots * COMPACT_RATIO) {
      this.#compact();
    }
    return true;
  }

  /** The `k` best-matching documents for `query`, best first; documents sharing no term are left out. */
  search(query: string, k: number): ScoredId[] {
    const live = this.#idToSlot.size;
    if (k <= 0 || live === 0) {
      return [];
    }
    const { k1, b } = this;
    const avgLength = this.#totalLength / live || 1;
    if (this.#scores.length < this.#slots) {
      this.#scores = new Float64Array(this.#slotId.length);
    }
    const scores = this.#scores;
    const touched: number[] = [];
    for (const term of new Set(tokenize(query))) {
      const termId = this.#termIds.get(term);
      const posting = termId === undefined ? undefined : this.#postings[termId]!;
      if (posting === undefined || posting.df === 0) {
        continue;
      }
      // The "+1" (Lucene's variant) keeps IDF positive even for terms in most documents.
      const idf = Math.log(1 + (live - posting.df + 0.5) / (posting.df + 0.5));
      const { slots, tfs, size } = posting;
      for (let j = 0; j < size; j += 1) {
        const slot = slots[j]!;
        if (this.#slotAlive[slot] === 0) {
          continue;
        }
        const tf = tfs[j]!;
        const norm = k1 * (1 - b + (b * this.#slotLength[slot]!) / avgLength);
        if (scores[slot] === 0) {
          touched.push(slot);
        }
        scores[slot] = scores[slot]! + (idf * tf * (k1 + 1)) / (tf + norm);
      }
    }
    const top = new TopK(k);
    for (const slot of touched) {
      top.push(this.#slotId[slot]!, scores[slot]!);
      scores[slot] = 0;
    }
    return top.drain();
  }

  toJSON(): Bm25Json {
    const position = new Int32Array(this.#slots).fill(-1);
    const docs: [number, number][] = [];
    for (let slot = 0; slot < this.#slots; slot += 1) {
      if (this.#slotAlive[slot] !== 0) {
        position[slot] = docs.length;
        docs.push([this.#slotId[slot]!, this.#slotLength[slot]!]);
      }
    }
    const terms: [string, number[], number[]][] = [];
    this.#postings.forEach((posting, termId) => {
      if (posting.df === 0) {
        return;
      }
      const at: number[] = [];
      const tfs: number[] = [];
      for (let j = 0; j < posting.size; j += 1) {
        const doc = position[posting.slots[j]!]!;
        if (doc >= 0) {
          at.push(doc);
          tfs.push(posting.tfs[j]!);
        }
      }
      terms.push([this.#termText[termId]!, at, tfs]);
    });
    return { version: 1, k1: this.k1, b: this.b, docs, terms };
  }

  /** Rebuilds an index from `toJSON` output (after `JSON.parse`). */
  static fromJSON(json: Bm25Json): Bm25Index {
    if (json?.version !== 1 || !Array.isArray(json.docs) || !Array.isArray(json.terms)) {
      throw new TypeError('not a BM25 index of a supported version');
    }
    const index = new Bm25Index({ k1: json.k1, b: json.b });
    // Invert the postings back into per-document term lists, then insert document by document.
    const docTerms: number[][] = json.docs.map(() => []);
    const docCounts: number[][] = json.docs.map(() => []);
    for (const [term, at, tfs] of json.terms) {
      const termId = index.#termId(term);
      at.forEach((doc, j) => {
        const terms = docTerms[doc];
        if (terms === undefined || tfs[j] === undefined) {
          throw new RangeError(`BM25 posting of "${term}" points past the documents`);
        }
        terms.push(termId);
        docCounts[doc]!.push(tfs[j]);
      });
    }
    json.docs.forEach(([id, length], doc) => {
      if (index.has(id)) {
        throw new RangeError(`BM25 document ${id} is listed twice`);
      }
      index.#insert(id, length, Int32Array.from(docTerms[doc]!), docCounts[doc]!);
    });
    return index;
  }

  #termId(term: string): number {
    let termId = this.#termIds.get(term);
    if (termId === undefined) {
      termId = this.#postings.length;
      this.#termIds.set(term, termId);
      this.#termText.push(term);
      this.#postings.push({ slots: new Int32Array(4), tfs: new Uint16Array(4), size: 0, df: 0 });
    }
    return termId;
  }

  /** Adds a document that is not in the index. */
  #insert(id: number, length: number, termIds: Int32Array, counts: readonly number[]): void {
    const slot = this.#slots;
    if (slot === this.#slotId.length) {
      this.#slotId = grow(this.#slotId, slot * 2);
      this.#slotLength = grow(this.#slotLength, slot * 2);
      this.#slotAlive = grow(this.#slotAlive, slot * 2);
    }
    this.#slots = slot + 1;
    this.#slotId[slot] = id;
    this.#slotLength[slot] = length;
    this.#slotAlive[slot] = 1;
    this.#slotTerms[slot] = termIds;
    this.#idToSlot.set(id, slot);
    this.#totalLength += length;
    termIds.forEach((termId, j) => {
      const posting = this.#postings[termId]!;
      if (posting.size === posting.slots.length) {
        posting.slots = grow(posting.slots, posting.size * 2);
        posting.tfs = grow(posting.tfs, posting.size * 2);
      }
      posting.slots[posting.size] = slot;
      // Saturation makes frequencies past a few dozen irrelevant, so capping at 16 bits loses nothing.
      posting.tfs[posting.size] = Math.min(counts[j]!, 0xffff);
      posting.size += 1;
      posting.df += 1;
    });
  }

  /** Renumbers live documents densely and drops removed ones (and unused terms) from the postings. */
  #compact(): void {
    const renumber = new Int32Array(this.#slots).fill(-1);
    let next = 0;
    for (let slot = 0; slot < this.#slots; slot += 1) {
      if (this.#slotAlive[slot] !== 0) {
        renumber[slot] = next;
        this.#slotId[next] = this.#slotId[slot]!;
        this.#slotLength[next] = this.#slotLength[slot]!;
        this.#slotAlive[next] = 1;
        this.#slotTerms[next] = this.#slotTerms[slot];
        this.#idToSlot.set(this.#slotId[next]!, next);
        next += 1;
      }
    }
    this.#slotAlive.fill(0, next);
    this.#slotTerms.length = next;
    this.#slots = next;

    const termRenumber = new Int32Array(this.#postings.length).fill(-1);
    const postings: Posting[] = [];
    const termText: string[] = [];
    this.#termIds.clear();
    this.#postings.forEach((posting, termId) => {
      if (posting.df === 0) {
        return;
      }
      let kept = 0;
      for (let j = 0; j < posting.size; j += 1) {
        const slot = renumber[posting.slots[j]!]!;
        if (slot >= 0) {
          posting.slots[kept] = slot;
          posting.tfs[kept] = posting.tfs[j]!;
          kept += 1;
        }
      }
      posting.size = kept;
      termRenumber[termId] = postings.length;
      this.#termIds.set(this.#termText[termId]!, postings.length);
      postings.push(posting);
      termText.push(this.#termText[termId]!);
    });
    this.#postings = postings;
    this.#termText = termText;
    for (const terms of this.#slotTerms) {
      terms!.forEach((termId, j) => {
        terms![j] = termRenumber[termId]!;
      });
    }
  }
}

function grow<T extends Int32Array | Uint16Array | Uint8Array>(array: T, length: number): T {
  const grown = new (array.constructor as new (length: number) => T)(length);
  grown.set(array);
  return grown;
}
