import type { ScoredId } from './types.ts';

/**
 * Keeps the best `k` (id, score) pairs seen so far in a bounded min-heap: the root is the current
 * k-th best, so rejecting a candidate is one comparison and accepting one is O(log k), with no
 * sort of everything scanned. Equal scores rank the smaller id first, so results are deterministic.
 */
export class TopK {
  readonly #ids: Int32Array;
  readonly #scores: Float64Array;
  #size = 0;

  readonly k: number;

  constructor(k: number) {
    this.k = k;
    this.#ids = new Int32Array(k);
    this.#scores = new Float64Array(k);
  }

  get size(): number {
    return this.#size;
  }

  /** Score a newcomer must reach to get in; -Infinity until the heap is full. */
  get floor(): number {
    return this.#size < this.k ? -Infinity : this.#scores[0]!;
  }

  /** Offers a pair; returns whether it was kept. */
  push(id: number, score: number): boolean {
    const ids = this.#ids;
    const scores = this.#scores;
    if (this.#size < this.k) {
      // Sift up from the new leaf.
      let i = this.#size;
      this.#size += 1;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (!worse(score, id, scores[parent]!, ids[parent]!)) {
          break;
        }
        ids[i] = ids[parent]!;
        scores[i] = scores[parent]!;
        i = parent;
      }
      ids[i] = id;
      scores[i] = score;
      return true;
    }
    if (this.k === 0 || !worse(scores[0]!, ids[0]!, score, id)) {
      return false;
    }
    // Replace the root (the worst kept) and sift down.
    const size = this.#size;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= size) {
        break;
      }
      const right = left + 1;
      const child = right < size && worse(scores[right]!, ids[right]!, scores[left]!, ids[left]!) ? right : left;
      if (!worse(scores[child]!, ids[child]!, score, id)) {
        break;
      }
      ids[i] = ids[child]!;
      scores[i] = scores[child]!;
      i = child;
    }
    ids[i] = id;
    scores[i] = score;
    return true;
  }

  /** The kept pairs, best first; empties the heap. */
  drain(): ScoredId[] {
    const out: ScoredId[] = [];
    for (let i = 0; i < this.#size; i += 1) {
      out.push({ id: this.#ids[i]!, score: this.#scores[i]! });
    }
    this.#size = 0;
    return out.sort((a, b) => b.score - a.score || a.id - b.id);
  }
}

/** Whether (scoreA, idA) ranks below (scoreB, idB). */
function worse(scoreA: number, idA: number, scoreB: number, idB: number): boolean {
  return scoreA < scoreB || (scoreA === scoreB && idA > idB);
}
