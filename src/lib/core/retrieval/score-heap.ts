/**
 * A growable binary min-heap of (node, score) in typed arrays, reused across searches so a graph
 * walk allocates nothing. Push negated scores to use it as a max-heap.
 */
export class ScoreHeap {
  nodes: Int32Array;
  scores: Float64Array;
  size = 0;

  constructor(capacity = 64) {
    this.nodes = new Int32Array(capacity);
    this.scores = new Float64Array(capacity);
  }

  clear(): void {
    this.size = 0;
  }

  /** Smallest score; only meaningful when `size > 0`. */
  get topScore(): number {
    return this.scores[0]!;
  }

  /** Node with the smallest score; only meaningful when `size > 0`. */
  get topNode(): number {
    return this.nodes[0]!;
  }

  push(node: number, score: number): void {
    if (this.size === this.nodes.length) {
      this.#grow();
    }
    const nodes = this.nodes;
    const scores = this.scores;
    let i = this.size;
    this.size += 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const parentScore = scores[parent]!;
      if (parentScore <= score) {
        break;
      }
      nodes[i] = nodes[parent]!;
      scores[i] = parentScore;
      i = parent;
    }
    nodes[i] = node;
    scores[i] = score;
  }

  /** Removes the minimum; the caller reads `topNode`/`topScore` first. */
  pop(): void {
    const size = this.size - 1;
    this.size = size;
    if (size === 0) {
      return;
    }
    const nodes = this.nodes;
    const scores = this.scores;
    const node = nodes[size]!;
    const score = scores[size]!;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= size) {
        break;
      }
      const right = left + 1;
      const child = right < size && scores[right]! < scores[left]! ? right : left;
      if (scores[child]! >= score) {
        break;
      }
      nodes[i] = nodes[child]!;
      scores[i] = scores[child]!;
      i = child;
    }
    nodes[i] = node;
    scores[i] = score;
  }

  #grow(): void {
    const nodes = new Int32Array(this.nodes.length * 2);
    nodes.set(this.nodes);
    const scores = new Float64Array(this.scores.length * 2);
    scores.set(this.scores);
    this.nodes = nodes;
    this.scores = scores;
  }
}
