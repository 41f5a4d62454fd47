/** A hit from any retriever: the caller's id (e.g. a chunk's primary key) and a score, higher is better. */
export interface ScoredId {
  id: number;
  score: number;
}
