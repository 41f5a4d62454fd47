/**
 * From this many vectors on, a base is searched through an HNSW graph. Below it the exact scan is
 * both exact and fast enough (≈ 7 ms p95 at 10k on a 2-core machine) and no graph is kept.
 * Its own module, so settings can name it without pulling the graph code into every page.
 */
export const ANN_MIN_VECTORS = 10_000;
