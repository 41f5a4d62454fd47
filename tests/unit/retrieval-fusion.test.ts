import { describe, expect, it } from 'vitest';
import { DEFAULT_MIN_COSINE, DEFAULT_RRF_K, fuseResults } from '#lib/core/retrieval/index.ts';

describe('hybrid fusion', () => {
  it('returns an empty list when no passage reaches the cosine threshold, however strong the keywords', () => {
    const vector = [
      { id: 1, score: 0.69 },
      { id: 2, score: 0.41 }
    ];
    const keyword = [
      { id: 1, score: 12.5 },
      { id: 3, score: 9.1 }
    ];
    expect(DEFAULT_MIN_COSINE).toBe(0.7);
    expect(fuseResults(vector, keyword)).toEqual([]);
    expect(fuseResults(vector, keyword, { method: 'weighted' })).toEqual([]);
    expect(fuseResults([], [], {})).toEqual([]);
    expect(fuseResults(vector, keyword, { cosineOf: () => 0.2 })).toEqual([]);
  });

  it('ranks by reciprocal rank fusion and keeps the cosine of each hit', () => {
    const vector = [
      { id: 10, score: 0.91 },
      { id: 11, score: 0.88 },
      { id: 12, score: 0.8 },
      { id: 13, score: 0.5 }
    ];
    const keyword = [
      { id: 11, score: 7 },
      { id: 12, score: 6 },
      { id: 13, score: 5 }
    ];
    const hits = fuseResults(vector, keyword, { k: 10 });
    // 11 and 12 are in both lists; 13 is gated out by its cosine despite the keyword match.
    expect(hits.map((h) => h.id)).toEqual([11, 12, 10]);
    expect(hits[0]).toEqual({
      id: 11,
      score: 1 / (DEFAULT_RRF_K + 2) + 1 / (DEFAULT_RRF_K + 1),
      relevance: (1 / (DEFAULT_RRF_K + 2) + 1 / (DEFAULT_RRF_K + 1)) / (2 / (DEFAULT_RRF_K + 1)),
      cosine: 0.88,
      vectorRank: 2,
      keywordRank: 1
    });
    expect(hits[2]).toMatchObject({ id: 10, cosine: 0.91, vectorRank: 1 });
    expect(hits[2]!.keywordRank).toBeUndefined();
    expect(fuseResults(vector, keyword, { k: 1 }).map((h) => h.id)).toEqual([11]);
  });

  it('gives a relevance in the order of the score: 1 for a passage first in both lists', () => {
    const vector = [
      { id: 1, score: 0.9 },
      { id: 2, score: 0.95 }
    ];
    const keyword = [{ id: 1, score: 3 }];
    for (const method of ['rrf', 'weighted'] as const) {
      const hits = fuseResults(vector, keyword, { method, minCosine: 0 });
      expect(hits.map((h) => h.id)).toEqual([1, 2]);
      expect(hits[0]!.relevance).toBeGreaterThan(hits[1]!.relevance);
      expect(hits[1]!.relevance).toBeGreaterThan(0);
      expect(hits.every((h) => h.relevance <= 1)).toBe(true);
    }
    expect(fuseResults(vector, keyword, { minCosine: 0 })[0]!.relevance).toBeCloseTo(1, 10);
  });

  it('keeps a passage exactly at the threshold and drops one just below', () => {
    const hits = fuseResults(
      [
        { id: 1, score: 0.7 },
        { id: 2, score: 0.6999 }
      ],
      []
    );
    expect(hits.map((h) => h.id)).toEqual([1]);
    expect(fuseResults([{ id: 1, score: 0.5 }], [], { minCosine: 0.4 })).toHaveLength(1);
  });

  it('admits keyword-only hits only when their cosine is known and high enough', () => {
    const vector = [{ id: 1, score: 0.8 }];
    const keyword = [
      { id: 2, score: 5 },
      { id: 3, score: 4 }
    ];
    expect(fuseResults(vector, keyword).map((h) => h.id)).toEqual([1]);
    const cosines = new Map([
      [2, 0.75],
      [3, 0.3]
    ]);
    const hits = fuseResults(vector, keyword, { cosineOf: (id) => cosines.get(id) });
    expect(hits.map((h) => h.id)).toEqual([1, 2]);
    expect(hits[1]).toMatchObject({ id: 2, cosine: 0.75, keywordRank: 1 });
    expect(hits[1]!.vectorRank).toBeUndefined();
  });

  it('can blend cosine with max-normalized BM25 instead', () => {
    const vector = [
      { id: 1, score: 0.9 },
      { id: 2, score: 0.8 }
    ];
    const keyword = [{ id: 2, score: 10 }];
    const hits = fuseResults(vector, keyword, { method: 'weighted' });
    expect(hits.map((h) => h.id)).toEqual([2, 1]);
    expect(hits[0]!.score).toBeCloseTo(0.7 * 0.8 + 0.3, 9);
    expect(hits[1]!.score).toBeCloseTo(0.7 * 0.9, 9);
    const vectorOnly = fuseResults(vector, keyword, { method: 'weighted', keywordWeight: 0 });
    expect(vectorOnly.map((h) => h.id)).toEqual([1, 2]);
  });
});
