import type { ScoredId } from './types.ts';

/**
 * Cosine below which a passage counts as "no relevant passage". The caller shows that message
 * instead of answering from weak context, so an empty result is a valid, expected outcome.
 */
export const DEFAULT_MIN_COSINE = 0.7;

/** Standard RRF constant (Cormack et al., 2009): damps the gap between the top few ranks. */
export const DEFAULT_RRF_K = 60;

/** A fused hit: ordered by `score`, gated by `cosine`. */
export interface FusedHit {
  id: number;
  /** Fusion score: only meaningful for ordering within one result list. */
  score: number;
  /**
   * `score` over the best score fusion can give (a passage first in both lists, or of cosine 1 with
   * the best keyword score): the same order, on a 0–1 scale a person can read ("relevance 0.83").
   */
  relevance: number;
  /** Cosine similarity of the passage to the query; always `>= minCosine`. */
  cosine: number;
  /** 1-based rank in the vector results, if the passage was there. */
  vectorRank?: number;
  /** 1-based rank in the keyword results, if the passage was there. */
  keywordRank?: number;
}

export interface FusionOptions {
  /** Hits to return at most. Default 5. */
  k?: number;
  /** Relevance gate on the cosine. Default `DEFAULT_MIN_COSINE` (0.7). */
  minCosine?: number;
  /**
   * `'rrf'` (default): sum of `weight / (rrfK + rank)` over the lists.
   * `'weighted'`: `vectorWeight * cosine + keywordWeight * bm25 / maxBm25`.
   */
  method?: 'rrf' | 'weighted';
  rrfK?: number;
  /** Default 1 for RRF, 0.7 for weighted. */
  vectorWeight?: number;
  /** Default 1 for RRF, 0.3 for weighted. */
  keywordWeight?: number;
  /**
   * Cosine of a passage the vector search did not return (e.g. from `scoreIds` on the block).
   * Without it, keyword-only hits are dropped: a passage of unknown similarity cannot be shown
   * to pass the gate, and a lone keyword match is not evidence of relevance.
   */
  cosineOf?: (id: number) => number | undefined;
}

/**
 * Merges vector hits (scores are cosines) and keyword hits (BM25 scores), best first, keeping
 * only passages whose cosine reaches `minCosine`. May return an empty list, which means
 * "no relevant passage".
 *
 * Why RRF by default: BM25 scores are unbounded and shift with the corpus and query length, while
 * cosines sit in a narrow model-specific band, so blending raw scores needs per-model tuning.
 * Ranks are comparable as they are, and RRF is the robust standard for hybrid search. The
 * weighted blend is offered for callers that do tune; it divides BM25 by the list's best score
 * (not min–max, which would zero the last keyword hit however good it is).
 *
 * Why the gate is the cosine alone: it is the one calibrated signal. Keywords help ordering and
 * recall of exact terms (names, codes), but never make a passage relevant on their own.
 */
export function fuseResults(
  vectorHits: readonly ScoredId[],
  keywordHits: readonly ScoredId[],
  options: FusionOptions = {}
): FusedHit[] {
  const { k = 5, minCosine = DEFAULT_MIN_COSINE, method = 'rrf', rrfK = DEFAULT_RRF_K, cosineOf } = options;
  const weighted = method === 'weighted';
  const vectorWeight = options.vectorWeight ?? (weighted ? 0.7 : 1);
  const keywordWeight = options.keywordWeight ?? (weighted ? 0.3 : 1);
  if (k <= 0) {
    return [];
  }

  const best = weighted ? vectorWeight + keywordWeight : (vectorWeight + keywordWeight) / (rrfK + 1);
  const hits = new Map<number, FusedHit>();
  vectorHits.forEach(({ id, score }, i) => {
    if (!hits.has(id)) {
      hits.set(id, { id, score: 0, relevance: 0, cosine: score, vectorRank: i + 1 });
    }
  });
  let maxKeyword = 0;
  keywordHits.forEach(({ id, score }, i) => {
    maxKeyword = Math.max(maxKeyword, score);
    const hit = hits.get(id);
    if (hit === undefined) {
      const cosine = cosineOf?.(id);
      if (cosine !== undefined) {
        hits.set(id, { id, score: 0, relevance: 0, cosine, keywordRank: i + 1 });
      }
    } else {
      hit.keywordRank ??= i + 1;
    }
  });

  const keywordScore = new Map<number, number>();
  if (weighted) {
    for (const { id, score } of keywordHits) {
      if (!keywordScore.has(id)) {
        keywordScore.set(id, maxKeyword > 0 ? score / maxKeyword : 0);
      }
    }
  }
  const out: FusedHit[] = [];
  for (const hit of hits.values()) {
    if (!(hit.cosine >= minCosine)) {
      continue; // also drops NaN
    }
    if (weighted) {
      hit.score = vectorWeight * hit.cosine + keywordWeight * (keywordScore.get(hit.id) ?? 0);
    } else {
      hit.score =
        (hit.vectorRank === undefined ? 0 : vectorWeight / (rrfK + hit.vectorRank)) +
        (hit.keywordRank === undefined ? 0 : keywordWeight / (rrfK + hit.keywordRank));
    }
    hit.relevance = best > 0 ? hit.score / best : 0;
    out.push(hit);
  }
  return out.sort((a, b) => b.score - a.score || b.cosine - a.cosine || a.id - b.id).slice(0, k);
}
