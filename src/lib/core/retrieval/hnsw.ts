import { ScoreHeap } from './score-heap.ts';
import { TopK } from './top-k.ts';
import type { ScoredId } from './types.ts';
import { dotAt, type VectorBlock } from './vector-store.ts';

/** Tuning knobs; the defaults suit 384-d sentence embeddings at up to ~100k vectors. */
export interface HnswOptions {
  /** Links per node on the upper layers; layer 0 allows twice as many. Default 16. */
  m?: number;
  /** Beam width while inserting: higher builds slower and links better. Default 100. */
  efConstruction?: number;
  /** Default beam width of `search`: the recall/latency dial. Default 64. */
  efSearch?: number;
  /** Seed of the layer-assignment PRNG, so the same inserts build the same graph. */
  seed?: number;
}

const MAGIC = 0x57534e48; // 'HNSW' little-endian
const FORMAT_VERSION = 1;
const HEADER_INTS = 16;
/** Levels are stored in a Uint8Array; with m = 16 level 15 has odds of 16^-15, so this never binds. */
const MAX_LEVEL = 15;
/**
 * `nodeRow` encoding: `>= 0` is the vector's row in the block (live nodes only); `NO_VECTOR` means
 * the vector is gone; `<= -2` is slot `-row - 2` of the tombstone store (deleted nodes keep their
 * vector there because the graph still routes through them).
 */
const NO_VECTOR = -1;
/** Below any inner product of unit vectors, so a node without a vector never wins a comparison. */
const NO_SCORE = -2;

/**
 * Hierarchical Navigable Small World graph (Malkov & Yashunin) over the rows of a `VectorBlock`,
 * scored by inner product (the cosine, since vectors are normalized).
 *
 * Memory layout is what keeps it fast in plain JS: layer-0 links live in one Int32Array with a
 * fixed stride (`[count, n1..n2m]` per node), the few nodes on upper layers (~1/m of them) get a
 * small Int32Array each, visited marks are a reused Uint32Array stamped with a generation counter
 * (no clearing per search), and both beams are typed-array binary heaps reused across calls.
 *
 * Vectors are not copied: nodes point at block rows, re-resolved by id whenever the block's
 * `generation` says rows moved. `remove` only marks a node deleted (it stays a routing hop, with
 * its vector copied aside so the block may drop it); rebuild when `deletedCount` grows large.
 */
export class HnswIndex {
  readonly dim: number;
  readonly m: number;
  readonly efConstruction: number;
  /** Default beam width of `search`; safe to change at any time. */
  efSearch: number;

  readonly #block: VectorBlock;
  readonly #mMax0: number;
  readonly #stride0: number;
  readonly #levelMult: number;
  #rng: number;
  #data: Float32Array;
  #syncedGeneration: number;

  #count = 0;
  #live = 0;
  #entry = -1;
  #maxLevel = -1;
  #nodeId = new Int32Array(0);
  #nodeRow = new Int32Array(0);
  #level = new Uint8Array(0);
  #deleted = new Uint8Array(0);
  #links0 = new Int32Array(0);
  #upper: (Int32Array | undefined)[] = [];
  #visited = new Uint32Array(0);
  #visitTag = 0;
  readonly #idToNode = new Map<number, number>();

  #tomb = new Float32Array(0);
  #tombCount = 0;

  /** Next row to try for `add(id)`: ids usually arrive in append order, so a Map is rarely needed. */
  #rowHint = 0;
  #rowMap: Map<number, number> | undefined;
  #rowMapCount = 0;

  // Scratch reused by every insert/search, so the hot paths allocate nothing.
  readonly #query: Float32Array;
  readonly #candidates = new ScoreHeap();
  readonly #results = new ScoreHeap();
  #candNodes: Int32Array;
  #candScores: Float64Array;
  readonly #selNodes: Int32Array;
  readonly #selScores: Float64Array;
  readonly #linkScores: Float64Array;
  #greedyScore = 0;

  constructor(block: VectorBlock, options: HnswOptions = {}) {
    const { m = 16, efConstruction = 100, efSearch = 64, seed = 0x9e3779b9 } = options;
    if (!Number.isInteger(m) || m < 2 || m > 128) {
      throw new RangeError(`m must be an integer in 2..128, got ${m}`);
    }
    if (!Number.isInteger(efConstruction) || efConstruction < 1) {
      throw new RangeError(`efConstruction must be a positive integer, got ${efConstruction}`);
    }
    this.dim = block.dim;
    this.m = m;
    this.efConstruction = efConstruction;
    this.efSearch = efSearch;
    this.#block = block;
    this.#mMax0 = 2 * m;
    this.#stride0 = 2 * m + 1;
    this.#levelMult = 1 / Math.log(m);
    this.#rng = seed | 0;
    this.#data = block.data;
    this.#syncedGeneration = block.generation;
    this.#query = new Float32Array(block.dim);
    const candidates = Math.max(efConstruction, 2 * m + 1);
    this.#candNodes = new Int32Array(candidates);
    this.#candScores = new Float64Array(candidates);
    this.#selNodes = new Int32Array(2 * m + 1);
    this.#selScores = new Float64Array(2 * m + 1);
    this.#linkScores = new Float64Array(2 * m + 1);
  }

  /** Indexes every row of `block`. */
  static build(block: VectorBlock, options: HnswOptions = {}): HnswIndex {
    const index = new HnswIndex(block, options);
    index.#ensureCapacity(block.count);
    for (let row = 0; row < block.count; row += 1) {
      index.add(block.ids[row]!);
    }
    return index;
  }

  /** Searchable (not deleted) vectors. */
  get size(): number {
    return this.#live;
  }

  /** Deleted nodes still in the graph; rebuild when this nears `size`. */
  get deletedCount(): number {
    return this.#count - this.#live;
  }

  has(id: number): boolean {
    return this.#idToNode.has(id);
  }

  /**
   * Links the block's vector for `id` into the graph. Returns false if `id` is already indexed;
   * throws if the block has no such id (append the vector first).
   */
  add(id: number): boolean {
    this.#sync();
    if (this.#idToNode.has(id)) {
      return false;
    }
    const row = this.#findRow(id);
    if (row < 0) {
      throw new RangeError(`id ${id} is not in the vector block`);
    }
    const node = this.#count;
    this.#ensureCapacity(node + 1);
    this.#count = node + 1;
    this.#nodeId[node] = id;
    this.#nodeRow[node] = row;
    this.#deleted[node] = 0;
    this.#links0[node * this.#stride0] = 0;
    this.#idToNode.set(id, node);
    this.#live += 1;
    this.#insert(node);
    return true;
  }

  /**
   * Hides `id` from results. The node stays in the graph as a routing hop, so its vector is
   * copied aside and the block may drop it afterwards. Returns false if `id` was not indexed.
   */
  remove(id: number): boolean {
    this.#sync();
    const node = this.#idToNode.get(id);
    if (node === undefined) {
      return false;
    }
    this.#idToNode.delete(id);
    this.#deleted[node] = 1;
    this.#live -= 1;
    const row = this.#nodeRow[node]!;
    if (row >= 0) {
      const dim = this.dim;
      if ((this.#tombCount + 1) * dim > this.#tomb.length) {
        const grown = new Float32Array(Math.max(16, this.#tombCount * 2) * dim);
        grown.set(this.#tomb.subarray(0, this.#tombCount * dim));
        this.#tomb = grown;
      }
      this.#tomb.set(this.#data.subarray(row * dim, (row + 1) * dim), this.#tombCount * dim);
      this.#nodeRow[node] = -this.#tombCount - 2;
      this.#tombCount += 1;
    }
    return true;
  }

  /**
   * Approximate `k` nearest by inner product, best first, never returning deleted ids. `ef` is the
   * beam width (raised to `k` if smaller): larger is slower and more exact.
   */
  search(query: Float32Array, k: number, ef = this.efSearch, minScore = -Infinity): ScoredId[] {
    if (query.length !== this.dim) {
      throw new RangeError(`query has ${query.length} dims, index has ${this.dim}`);
    }
    this.#sync();
    if (k <= 0 || this.#live === 0 || this.#entry < 0) {
      return [];
    }
    const entry = this.#entry;
    let ep = entry;
    let epScore = this.#score(query, entry);
    if (this.#maxLevel > 0) {
      ep = this.#greedy(query, ep, epScore, this.#maxLevel, 1);
      epScore = this.#greedyScore;
    }
    this.#searchLayer(query, ep, epScore, Math.max(ef, k), 0, true);
    const results = this.#results;
    const top = new TopK(k);
    while (results.size > 0) {
      const score = results.topScore;
      if (score >= minScore) {
        top.push(this.#nodeId[results.topNode]!, score);
      }
      results.pop();
    }
    return top.drain();
  }

  /**
   * The graph as one ArrayBuffer (host byte order, little-endian on every browser) so it persists
   * to IndexedDB as a single blob. Vectors are not included, only ids: `deserialize` re-resolves
   * them against the block, whose row order may differ after a reload.
   */
  serialize(): ArrayBuffer {
    this.#sync();
    const n = this.#count;
    const dim = this.dim;
    let linksLength = 0;
    for (let node = 0; node < n; node += 1) {
      linksLength += 1 + this.#links0[node * this.#stride0]!;
      const upper = this.#upper[node];
      for (let level = 1; level <= this.#level[node]!; level += 1) {
        linksLength += 1 + upper![(level - 1) * (this.m + 1)]!;
      }
    }
    const levelBytes = align4(2 * n);
    const bytes = 4 * HEADER_INTS + 8 * n + levelBytes + 4 * linksLength + 4 * this.#tombCount * dim;
    const buffer = new ArrayBuffer(bytes);
    const header = new Int32Array(buffer, 0, HEADER_INTS);
    header.set([
      MAGIC,
      FORMAT_VERSION,
      dim,
      this.m,
      this.efConstruction,
      this.efSearch,
      n,
      this.#live,
      this.#entry,
      this.#maxLevel,
      this.#tombCount,
      this.#rng,
      linksLength
    ]);
    let offset = 4 * HEADER_INTS;
    new Int32Array(buffer, offset, n).set(this.#nodeId.subarray(0, n));
    offset += 4 * n;
    // Live rows are re-resolved on load, so only tombstone slots are meaningful here.
    const rows = new Int32Array(buffer, offset, n);
    for (let node = 0; node < n; node += 1) {
      rows[node] = Math.min(this.#nodeRow[node]!, NO_VECTOR);
    }
    offset += 4 * n;
    new Uint8Array(buffer, offset, n).set(this.#level.subarray(0, n));
    new Uint8Array(buffer, offset + n, n).set(this.#deleted.subarray(0, n));
    offset += levelBytes;
    const links = new Int32Array(buffer, offset, linksLength);
    let at = 0;
    for (let node = 0; node < n; node += 1) {
      at = writeList(this.#links0, node * this.#stride0, links, at);
      const upper = this.#upper[node];
      for (let level = 1; level <= this.#level[node]!; level += 1) {
        at = writeList(upper!, (level - 1) * (this.m + 1), links, at);
      }
    }
    offset += 4 * linksLength;
    new Float32Array(buffer, offset, this.#tombCount * dim).set(this.#tomb.subarray(0, this.#tombCount * dim));
    return buffer;
  }

  /** Restores a graph written by `serialize` over `block`, which must hold the same ids' vectors. */
  static deserialize(buffer: ArrayBuffer, block: VectorBlock): HnswIndex {
    if (buffer.byteLength < 4 * HEADER_INTS) {
      throw new RangeError('HNSW buffer is truncated');
    }
    const header = new Int32Array(buffer, 0, HEADER_INTS);
    const field = (i: number): number => header[i]!;
    const [n, live, tombCount, linksLength] = [field(6), field(7), field(10), field(12)];
    if (field(0) !== MAGIC || field(1) !== FORMAT_VERSION) {
      throw new RangeError('not an HNSW index of a supported version');
    }
    const dim = field(2);
    if (dim !== block.dim) {
      throw new RangeError(`index has ${dim} dims, block has ${block.dim}`);
    }
    const index = new HnswIndex(block, { m: field(3), efConstruction: field(4), efSearch: field(5) });
    index.#rng = field(11);
    index.#ensureCapacity(n);
    index.#count = n;
    index.#live = live;
    index.#entry = field(8);
    index.#maxLevel = field(9);
    let offset = 4 * HEADER_INTS;
    index.#nodeId.set(new Int32Array(buffer, offset, n));
    offset += 4 * n;
    index.#nodeRow.set(new Int32Array(buffer, offset, n));
    offset += 4 * n;
    index.#level.set(new Uint8Array(buffer, offset, n));
    index.#deleted.set(new Uint8Array(buffer, offset + n, n));
    offset += align4(2 * n);
    const links = new Int32Array(buffer, offset, linksLength);
    const strideU = index.m + 1;
    let at = 0;
    for (let node = 0; node < n; node += 1) {
      at = readList(links, at, index.#links0, node * index.#stride0, index.#mMax0);
      const level = index.#level[node]!;
      if (level > 0) {
        const upper = new Int32Array(level * strideU);
        for (let l = 1; l <= level; l += 1) {
          at = readList(links, at, upper, (l - 1) * strideU, index.m);
        }
        index.#upper[node] = upper;
      }
    }
    offset += 4 * linksLength;
    index.#tombCount = tombCount;
    index.#tomb = new Float32Array(buffer.slice(offset, offset + 4 * tombCount * dim));
    for (let node = 0; node < n; node += 1) {
      if (index.#deleted[node] === 0) {
        index.#idToNode.set(index.#nodeId[node]!, node);
      }
    }
    index.#resyncRows();
    return index;
  }

  /** Picks up a reallocated block buffer, and re-resolves rows if removals moved them. */
  #sync(): void {
    if (this.#block.generation !== this.#syncedGeneration) {
      this.#resyncRows();
    }
    this.#data = this.#block.data;
  }

  #resyncRows(): void {
    const block = this.#block;
    const map = new Map<number, number>();
    for (let row = 0; row < block.count; row += 1) {
      map.set(block.ids[row]!, row);
    }
    for (let node = 0; node < this.#count; node += 1) {
      // Deleted nodes never point at block rows (their vector is a tombstone, or gone).
      if (this.#deleted[node] !== 0) {
        continue;
      }
      const id = this.#nodeId[node]!;
      const row = map.get(id);
      if (row === undefined) {
        // The block dropped a vector without `remove` being called: hide it, route around it.
        this.#nodeRow[node] = NO_VECTOR;
        this.#deleted[node] = 1;
        this.#live -= 1;
        this.#idToNode.delete(id);
      } else {
        this.#nodeRow[node] = row;
      }
    }
    this.#rowMap = map;
    this.#rowMapCount = block.count;
    this.#syncedGeneration = block.generation;
    this.#data = block.data;
  }

  #findRow(id: number): number {
    const block = this.#block;
    const hint = this.#rowHint;
    if (hint < block.count && block.ids[hint] === id) {
      this.#rowHint = hint + 1;
      return hint;
    }
    const map = (this.#rowMap ??= new Map());
    for (let row = this.#rowMapCount; row < block.count; row += 1) {
      map.set(block.ids[row]!, row);
    }
    this.#rowMapCount = block.count;
    const row = map.get(id);
    if (row === undefined) {
      return -1;
    }
    this.#rowHint = row + 1;
    return row;
  }

  #ensureCapacity(nodes: number): void {
    const capacity = this.#nodeId.length;
    if (nodes <= capacity) {
      return;
    }
    const next = Math.max(nodes, capacity * 2, 64);
    this.#nodeId = grow(this.#nodeId, next);
    this.#nodeRow = grow(this.#nodeRow, next);
    this.#level = grow(this.#level, next);
    this.#deleted = grow(this.#deleted, next);
    this.#links0 = grow(this.#links0, next * this.#stride0);
    this.#visited = grow(this.#visited, next);
  }

  #randomLevel(): number {
    // mulberry32: tiny, fast, and seedable, so builds are reproducible.
    let t = (this.#rng = (this.#rng + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const uniform = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    return Math.min(MAX_LEVEL, Math.floor(-Math.log(1 - uniform) * this.#levelMult));
  }

  #insert(node: number): void {
    const level = this.#randomLevel();
    this.#level[node] = level;
    this.#upper[node] = level > 0 ? new Int32Array(level * (this.m + 1)) : undefined;
    if (this.#entry < 0) {
      this.#entry = node;
      this.#maxLevel = level;
      return;
    }
    const dim = this.dim;
    const row = this.#nodeRow[node]!;
    const query = this.#query;
    query.set(this.#data.subarray(row * dim, (row + 1) * dim));

    let cur = this.#entry;
    let curScore = this.#score(query, cur);
    if (this.#maxLevel > level) {
      cur = this.#greedy(query, cur, curScore, this.#maxLevel, level + 1);
      curScore = this.#greedyScore;
    }
    const linkScores = this.#linkScores;
    for (let layer = Math.min(level, this.#maxLevel); layer >= 0; layer -= 1) {
      this.#searchLayer(query, cur, curScore, this.efConstruction, layer, false);
      const found = this.#drainResults();
      cur = this.#candNodes[0]!;
      curScore = this.#candScores[0]!;
      const selected = this.#selectNeighbors(found, this.m);
      const links = layer === 0 ? this.#links0 : this.#upper[node]!;
      const base = layer === 0 ? node * this.#stride0 : (layer - 1) * (this.m + 1);
      links[base] = selected;
      links.set(this.#selNodes.subarray(0, selected), base + 1);
      // #connect reuses the selection scratch, so keep this node's link scores aside first.
      linkScores.set(this.#selScores.subarray(0, selected));
      for (let j = 0; j < selected; j += 1) {
        this.#connect(links[base + 1 + j]!, node, linkScores[j]!, layer);
      }
    }
    if (level > this.#maxLevel) {
      this.#entry = node;
      this.#maxLevel = level;
    }
  }

  /** Adds `node` to `target`'s links at `level`, re-pruning with the heuristic when full. */
  #connect(target: number, node: number, score: number, level: number): void {
    const links = level === 0 ? this.#links0 : this.#upper[target]!;
    const base = level === 0 ? target * this.#stride0 : (level - 1) * (this.m + 1);
    const cap = level === 0 ? this.#mMax0 : this.m;
    const count = links[base]!;
    if (count < cap) {
      links[base + 1 + count] = node;
      links[base] = count + 1;
      return;
    }
    const candNodes = this.#candNodes;
    const candScores = this.#candScores;
    for (let j = 0; j < count; j += 1) {
      const other = links[base + 1 + j]!;
      candNodes[j] = other;
      candScores[j] = this.#dotNodes(target, other);
    }
    candNodes[count] = node;
    candScores[count] = score;
    sortDescending(candNodes, candScores, count + 1);
    const kept = this.#selectNeighbors(count + 1, cap);
    links[base] = kept;
    links.set(this.#selNodes.subarray(0, kept), base + 1);
  }

  /**
   * The paper's neighbor-selection heuristic over the candidates (sorted best first): keep a
   * candidate only if it is closer to the base than to every neighbor already kept. This spreads
   * links across directions, which is what keeps clustered data navigable.
   */
  #selectNeighbors(count: number, max: number): number {
    const candNodes = this.#candNodes;
    const candScores = this.#candScores;
    const selNodes = this.#selNodes;
    const selScores = this.#selScores;
    const nodeRow = this.#nodeRow;
    let selected = 0;
    for (let i = 0; i < count && selected < max; i += 1) {
      const candidate = candNodes[i]!;
      if (nodeRow[candidate] === NO_VECTOR) {
        continue;
      }
      const score = candScores[i]!;
      let keep = true;
      for (let j = 0; j < selected; j += 1) {
        if (this.#dotNodes(candidate, selNodes[j]!) > score) {
          keep = false;
          break;
        }
      }
      if (keep) {
        selNodes[selected] = candidate;
        selScores[selected] = score;
        selected += 1;
      }
    }
    return selected;
  }

  /** Moves the result beam into the candidate scratch, best first; returns how many. */
  #drainResults(): number {
    const results = this.#results;
    const count = results.size;
    if (count > this.#candNodes.length) {
      this.#candNodes = new Int32Array(count);
      this.#candScores = new Float64Array(count);
    }
    for (let i = count - 1; i >= 0; i -= 1) {
      this.#candNodes[i] = results.topNode;
      this.#candScores[i] = results.topScore;
      results.pop();
    }
    return count;
  }

  /** Greedy descent (beam of 1) from `fromLevel` down to `toLevel` (both >= 1). */
  #greedy(query: Float32Array, ep: number, epScore: number, fromLevel: number, toLevel: number): number {
    const strideU = this.m + 1;
    let cur = ep;
    let curScore = epScore;
    for (let level = fromLevel; level >= toLevel; level -= 1) {
      let changed = true;
      while (changed) {
        changed = false;
        const links = this.#upper[cur]!;
        const base = (level - 1) * strideU;
        const count = links[base]!;
        for (let j = 1; j <= count; j += 1) {
          const other = links[base + j]!;
          const score = this.#score(query, other);
          if (score > curScore) {
            cur = other;
            curScore = score;
            changed = true;
          }
        }
      }
    }
    this.#greedyScore = curScore;
    return cur;
  }

  /**
   * Beam search on one layer; leaves the best `ef` in `#results` (a min-heap). With `skipDeleted`,
   * deleted nodes are still expanded (they keep the graph connected) but never enter the results.
   */
  #searchLayer(
    query: Float32Array,
    ep: number,
    epScore: number,
    ef: number,
    level: number,
    skipDeleted: boolean
  ): void {
    const visited = this.#visited;
    const tag = this.#nextVisitTag();
    const candidates = this.#candidates;
    const results = this.#results;
    const deleted = this.#deleted;
    const nodeRow = this.#nodeRow;
    const data = this.#data;
    const dim = this.dim;
    const links0 = this.#links0;
    const stride0 = this.#stride0;
    const strideU = this.m + 1;
    candidates.clear();
    results.clear();
    visited[ep] = tag;
    candidates.push(ep, -epScore);
    if (!skipDeleted || deleted[ep] === 0) {
      results.push(ep, epScore);
    }
    while (candidates.size > 0) {
      const current = candidates.topNode;
      if (results.size >= ef && -candidates.topScore < results.topScore) {
        break;
      }
      candidates.pop();
      const links = level === 0 ? links0 : this.#upper[current]!;
      const base = level === 0 ? current * stride0 : (level - 1) * strideU;
      const end = base + links[base]!;
      for (let j = base + 1; j <= end; j += 1) {
        const other = links[j]!;
        if (visited[other] === tag) {
          continue;
        }
        visited[other] = tag;
        const row = nodeRow[other]!;
        const score = row >= 0 ? dotAt(query, 0, data, row * dim, dim) : this.#offBlockScore(query, row);
        if (results.size < ef || score > results.topScore) {
          candidates.push(other, -score);
          if (!skipDeleted || deleted[other] === 0) {
            results.push(other, score);
            if (results.size > ef) {
              results.pop();
            }
          }
        }
      }
    }
  }

  #nextVisitTag(): number {
    if (this.#visitTag === 0xffffffff) {
      this.#visited.fill(0);
      this.#visitTag = 0;
    }
    this.#visitTag += 1;
    return this.#visitTag;
  }

  #score(query: Float32Array, node: number): number {
    const row = this.#nodeRow[node]!;
    return row >= 0 ? dotAt(query, 0, this.#data, row * this.dim, this.dim) : this.#offBlockScore(query, row);
  }

  /** Score against a deleted node's tombstone copy, or NO_SCORE if its vector is gone. */
  #offBlockScore(query: Float32Array, row: number): number {
    return row === NO_VECTOR ? NO_SCORE : dotAt(query, 0, this.#tomb, (-row - 2) * this.dim, this.dim);
  }

  #dotNodes(a: number, b: number): number {
    const rowA = this.#nodeRow[a]!;
    const rowB = this.#nodeRow[b]!;
    const dim = this.dim;
    if (rowA >= 0 && rowB >= 0) {
      return dotAt(this.#data, rowA * dim, this.#data, rowB * dim, dim);
    }
    if (rowA === NO_VECTOR || rowB === NO_VECTOR) {
      return NO_SCORE;
    }
    const arrayA = rowA >= 0 ? this.#data : this.#tomb;
    const arrayB = rowB >= 0 ? this.#data : this.#tomb;
    const offsetA = (rowA >= 0 ? rowA : -rowA - 2) * dim;
    const offsetB = (rowB >= 0 ? rowB : -rowB - 2) * dim;
    return dotAt(arrayA, offsetA, arrayB, offsetB, dim);
  }
}

function align4(bytes: number): number {
  return (bytes + 3) & ~3;
}

function grow<T extends Int32Array | Uint8Array | Uint32Array>(array: T, length: number): T {
  const grown = new (array.constructor as new (length: number) => T)(length);
  grown.set(array);
  return grown;
}

/** Appends the `[count, ...links]` list at `links[base]` to `stream[at]`; returns the stream position after it. */
function writeList(links: Int32Array, base: number, stream: Int32Array, at: number): number {
  const end = base + 1 + links[base]!;
  stream.set(links.subarray(base, end), at);
  return at + end - base;
}

/** Reads the `[count, ...links]` list at `stream[at]` into `links[base]`; returns the stream position after it. */
function readList(stream: Int32Array, at: number, links: Int32Array, base: number, cap: number): number {
  const count = stream[at]!;
  if (count < 0 || count > cap) {
    throw new RangeError('HNSW buffer is corrupt');
  }
  const end = at + 1 + count;
  links.set(stream.subarray(at, end), base);
  return end;
}

/** Insertion sort, best score first: the lists are at most 2m + 1 long. */
function sortDescending(nodes: Int32Array, scores: Float64Array, count: number): void {
  for (let i = 1; i < count; i += 1) {
    const node = nodes[i]!;
    const score = scores[i]!;
    let j = i - 1;
    while (j >= 0 && scores[j]! < score) {
      nodes[j + 1] = nodes[j]!;
      scores[j + 1] = scores[j]!;
      j -= 1;
    }
    nodes[j + 1] = node;
    scores[j + 1] = score;
  }
}
