import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { documentFormat } from '#lib/core/document-format.ts';
import { sourceLabel, type Passage } from '#lib/core/grounded-answer.ts';
import { abortError, DocumentImportError, isQuotaExceeded, QuotaError } from '#lib/core/errors.ts';
import {
  ANN_MIN_VECTORS,
  Bm25Index,
  chunkDocument,
  DEFAULT_MIN_COSINE,
  fuseResults,
  scoreIds,
  VectorSearch,
  wantsGraph,
  type Chunk
} from '#lib/core/retrieval/index.ts';
import { db, type KnowledgeBase, type KnowledgeChunk, type KnowledgeDocument } from '#lib/db/index.ts';
import { readVectorBlock } from '#lib/db/vector-block.ts';
import { updateSearchGraphInWorker, type GraphReport } from '#lib/workers/search-index-runner.ts';
import { extractText } from './document-text.service.ts';

/** Turns passages into vectors; the knowledge base never mixes two models' vectors in one search. */
export interface Embedder {
  modelId: string;
  embed(texts: string[]): Promise<{ vectors: Float32Array; dim: number }>;
}

export interface ImportProgress {
  phase: 'reading' | 'embedding' | 'saving';
  done: number;
  total: number;
}

export interface SearchHit {
  chunk: KnowledgeChunk;
  document: KnowledgeDocument;
  /** Fused rank score (reciprocal rank fusion of vector and keyword ranks). */
  score: number;
  /** Cosine similarity to the question: what the relevance threshold applies to. */
  cosine: number;
}

/** Passages per embedding call: progress moves often, and an abort lands within one batch. */
const EMBED_BATCH = 32;

export async function createBase(name: string): Promise<number> {
  const trimmed = name.trim();
  if (!trimmed) {
    throw new DocumentImportError('A knowledge base needs a name');
  }
  return (await db.knowledgeBases.add({ name: trimmed, createdAt: Date.now() })) as number;
}

export function listBases(): Promise<KnowledgeBase[]> {
  return db.knowledgeBases.toArray();
}

export function listDocuments(baseId: number): Promise<KnowledgeDocument[]> {
  return db.documents.where('baseId').equals(baseId).sortBy('createdAt');
}

/**
 * Reads, chunks and embeds `file`, then stores the document, its passages and its vectors in one
 * transaction: a failure at any point (bad file, abort, full storage) leaves the base unchanged.
 */
export async function importDocument(
  baseId: number,
  file: File,
  embedder: Embedder,
  onProgress: (progress: ImportProgress) => void = () => undefined,
  signal?: AbortSignal
): Promise<KnowledgeDocument> {
  const format = documentFormat(file.name, file.size);
  onProgress({ phase: 'reading', done: 0, total: 1 });
  const bytes = new Uint8Array(await file.arrayBuffer());
  const contentHash = bytesToHex(sha256(bytes));
  await refuseDuplicate(baseId, contentHash, file.name);
  const { text, pages } = await extractText(file.name, format, bytes);
  const chunks = chunkDocument(text, { kind: format === 'text' ? 'text' : 'markdown', pages });
  const { vectors, dim } = await embedChunks(chunks, embedder, onProgress, signal);

  refuseIfCancelled(signal);
  onProgress({ phase: 'saving', done: 0, total: 1 });
  const document: KnowledgeDocument = {
    baseId,
    name: file.name,
    format,
    contentHash,
    bytes: file.size,
    chunkCount: chunks.length,
    createdAt: Date.now()
  };
  try {
    await db.transaction('rw', [db.documents, db.chunks, db.vectors], async () => {
      await refuseDuplicate(baseId, contentHash, file.name);
      const documentId = (await db.documents.add(document)) as number;
      document.id = documentId;
      const chunkIds = (await db.chunks.bulkAdd(
        chunks.map((chunk) => toRow(chunk, documentId, baseId)),
        { allKeys: true }
      )) as number[];
      await db.vectors.add({ documentId, baseId, modelId: embedder.modelId, dim, chunkIds, data: vectors });
    });
  } catch (error) {
    throw isQuotaExceeded(error)
      ? new QuotaError(`Storage is full: "${file.name}" was not added. Free some space and try again.`, {
          cause: error
        })
      : error;
  }
  changed(baseId, [embedder.modelId]);
  onProgress({ phase: 'saving', done: 1, total: 1 });
  return document;
}

/**
 * Deletes a document with its passages and vectors, and returns an undo that puts back exactly
 * what was removed (same ids, so citations elsewhere keep working).
 */
export async function deleteDocument(documentId: number): Promise<() => Promise<void>> {
  const removed = await db.transaction('rw', [db.documents, db.chunks, db.vectors], async () => {
    const document = await db.documents.get(documentId);
    const chunks = await db.chunks.where('documentId').equals(documentId).toArray();
    const vectors = await db.vectors
      .where('[documentId+modelId]')
      .between([documentId, ''], [documentId, '\uffff'])
      .toArray();
    await db.documents.delete(documentId);
    await db.chunks.where('documentId').equals(documentId).delete();
    await db.vectors.bulkDelete(vectors.map((v) => [v.documentId, v.modelId] as [number, string]));
    return { document, chunks, vectors };
  });
  if (removed.document) {
    changed(removed.document.baseId, modelsOf(removed.vectors));
  }
  return async () => {
    if (!removed.document) {
      return;
    }
    await db.transaction('rw', [db.documents, db.chunks, db.vectors], async () => {
      await db.documents.put(removed.document!);
      await db.chunks.bulkPut(removed.chunks);
      await db.vectors.bulkPut(removed.vectors);
    });
    changed(removed.document.baseId, modelsOf(removed.vectors));
  };
}

/**
 * Embeds, with `embedder`'s model, every document of the base that has no vectors from it yet
 * (the user changed the embedding model). One document at a time, so an interruption keeps what
 * was done; searches meanwhile use only documents that have this model's vectors, never a mix.
 * Returns how many documents were embedded.
 */
export async function reembedMissing(
  baseId: number,
  embedder: Embedder,
  onProgress: (progress: { done: number; total: number }) => void = () => undefined,
  signal?: AbortSignal
): Promise<number> {
  const documents = await listDocuments(baseId);
  const done = new Set(
    (await db.vectors.where('[baseId+modelId]').equals([baseId, embedder.modelId]).toArray()).map((v) => v.documentId)
  );
  const missing = documents.filter((d) => !done.has(d.id!));
  for (const [i, document] of missing.entries()) {
    onProgress({ done: i, total: missing.length });
    const chunks = await db.chunks.where('documentId').equals(document.id!).sortBy('index');
    const { vectors, dim } = await embedChunks(chunks, embedder, () => undefined, signal);
    await db.transaction('rw', [db.documents, db.vectors], async () => {
      // Deleted while it was being embedded: nothing to keep.
      if (await db.documents.get(document.id!)) {
        const chunkIds = chunks.map((c) => c.id!);
        await db.vectors.put({
          documentId: document.id!,
          baseId,
          modelId: embedder.modelId,
          dim,
          chunkIds,
          data: vectors
        });
      }
    });
    changed(baseId, [embedder.modelId]);
  }
  onProgress({ done: missing.length, total: missing.length });
  return missing.length;
}

/**
 * Passages of base `baseId` relevant to `question`: exact cosine top-k fused with BM25 keyword
 * ranks, keeping only passages whose cosine reaches `minCosine` — an empty result means "no
 * relevant passage", never a guess.
 */
export async function search(
  baseId: number,
  question: string,
  embedder: Embedder,
  options: { k?: number; minCosine?: number } = {}
): Promise<SearchHit[]> {
  const k = options.k ?? 5;
  const index = await openSearchIndex(baseId, embedder.modelId);
  const { block } = index.vectors;
  if (block.count === 0) {
    return [];
  }
  const { vectors: query } = await embedder.embed([question]);
  const vectorHits = index.vectors.topK(query, k * 4);
  const keywordHits = index.bm25.search(question, k * 4);
  const cosines = scoreIds(
    block,
    query,
    keywordHits.map((hit) => hit.id)
  );
  const fused = fuseResults(vectorHits, keywordHits, {
    k,
    minCosine: options.minCosine ?? DEFAULT_MIN_COSINE,
    cosineOf: (id) => cosines.get(id)
  });
  const chunks = await db.chunks.bulkGet(fused.map((hit) => hit.id));
  const documents = new Map(
    (await db.documents.bulkGet([...new Set(chunks.map((c) => c?.documentId ?? -1))])).flatMap((d) =>
      d ? [[d.id!, d] as const] : []
    )
  );
  return fused.flatMap((hit, i) => {
    const chunk = chunks[i];
    const document = chunk && documents.get(chunk.documentId);
    return chunk && document ? [{ chunk, document, score: hit.score, cosine: hit.cosine }] : [];
  });
}

/** A hit as a model reads it, named as its citation shows it. */
export function passageOf(hit: SearchHit): Passage {
  return { source: sourceLabel(hit.document.name, hit.chunk.headingPath, hit.chunk.page), text: hit.chunk.text };
}

/**
 * The best passages for `question` across every knowledge base (for questions asked outside the
 * Knowledge page, such as the task guide's): each base is searched, and the hits merged by cosine.
 */
export async function searchAllBases(
  question: string,
  embedder: Embedder,
  options: { k?: number; minCosine?: number } = {}
): Promise<SearchHit[]> {
  const k = options.k ?? 3;
  const perBase = await Promise.all(
    (await listBases()).map((base) => search(base.id!, question, embedder, { ...options, k }))
  );
  return perBase
    .flat()
    .sort((a, b) => b.cosine - a.cosine)
    .slice(0, k);
}

export interface SearchIndex {
  /** Exact below `ANN_MIN_VECTORS` vectors, through the base's persisted graph from there on. */
  vectors: VectorSearch;
  bm25: Bm25Index;
}

/** Per base and model, built from IndexedDB on first search and dropped when the base changes. */
const indexes = new Map<string, Promise<SearchIndex>>();
const keyOf = (baseId: number, modelId: string) => `${baseId}:${modelId}`;

let annMinVectors = ANN_MIN_VECTORS;

/** Moves the size from which bases are searched through a graph (tests and benchmarks use small bases). */
export function setAnnMinVectors(count: number): void {
  annMinVectors = count;
  indexes.clear();
}

/**
 * A base's documents changed: drop its cached search structures, and bring the search graphs of
 * `modelIds` up to date in the background when the base is large enough to have one.
 */
function changed(baseId: number, modelIds: string[]): void {
  for (const key of indexes.keys()) {
    if (key.startsWith(`${baseId}:`)) {
      indexes.delete(key);
    }
  }
  void graphNeeded(baseId).then((needed) => {
    for (const modelId of modelIds) {
      if (needed.graph || needed.saved.has(modelId)) {
        void updateSearchGraph(baseId, modelId).catch(() => undefined);
      }
    }
  });
}

/** Whether the base is large enough for a graph (by passage count), and which models have one saved. */
async function graphNeeded(baseId: number): Promise<{ graph: boolean; saved: Set<string> }> {
  let passages = 0;
  await db.documents
    .where('baseId')
    .equals(baseId)
    .each((document) => (passages += document.chunkCount));
  const saved = await db.searchGraphs.where('[baseId+modelId]').between([baseId, ''], [baseId, '\uffff']).primaryKeys();
  return { graph: wantsGraph(passages, annMinVectors), saved: new Set(saved.map(([, modelId]) => modelId)) };
}

function modelsOf(rows: { modelId: string }[]): string[] {
  return [...new Set(rows.map((row) => row.modelId))];
}

/** The in-memory search structures of a base for one embedding model, read from IndexedDB once. */
export function openSearchIndex(baseId: number, modelId: string): Promise<SearchIndex> {
  const key = keyOf(baseId, modelId);
  let index = indexes.get(key);
  if (!index) {
    index = loadIndex(baseId, modelId);
    index.catch(() => indexes.delete(key));
    indexes.set(key, index);
  }
  return index;
}

async function loadIndex(baseId: number, modelId: string): Promise<SearchIndex> {
  const vectors = new VectorSearch(await readVectorBlock(db, baseId, modelId));
  const bm25 = new Bm25Index();
  await db.chunks
    .where('baseId')
    .equals(baseId)
    .each((chunk) => bm25.add(chunk.id!, chunk.text));
  if (wantsGraph(vectors.block.count, annMinVectors)) {
    const saved = await db.searchGraphs.get([baseId, modelId]);
    if (!saved || !vectors.attachGraph(saved.graph) || vectors.uncovered > 0) {
      // Searches stay correct meanwhile: what the graph does not cover is scanned exactly.
      void updateSearchGraph(baseId, modelId).catch(() => undefined);
    }
  }
  return { vectors, bm25 };
}

export interface GraphActivity {
  baseId: number;
  modelId: string;
  /** How many new vectors are linked in so far; null once the update ended. */
  progress: { done: number; total: number } | null;
  /** Why the update failed (search stays exact for what the graph does not cover). */
  error?: string;
}

const graphListeners = new Set<(activity: GraphActivity) => void>();

/** Tells `listener` how background search-graph updates progress; returns the unsubscribe. */
export function onGraphActivity(listener: (activity: GraphActivity) => void): () => void {
  graphListeners.add(listener);
  return () => graphListeners.delete(listener);
}

const report = (activity: GraphActivity) => graphListeners.forEach((listener) => listener(activity));

/** Per base and model: the last update started or queued, and the one not started yet (if any). */
const graphUpdates = new Map<string, { tail: Promise<unknown>; queued: Promise<GraphReport | null> | null }>();

/**
 * Brings the persisted search graph of a base up to date in a worker (only new vectors are
 * linked in), then lets open searches use it. Updates of one base run one at a time; calls made
 * while one runs share a single follow-up, which sees every change made until it starts.
 */
export function updateSearchGraph(baseId: number, modelId: string): Promise<GraphReport | null> {
  const key = keyOf(baseId, modelId);
  const slot = graphUpdates.get(key) ?? { tail: Promise.resolve(), queued: null };
  if (slot.queued) {
    return slot.queued;
  }
  const run = slot.tail
    .catch(() => undefined)
    .then(() => {
      slot.queued = null;
      return runGraphUpdate(baseId, modelId);
    });
  slot.queued = run;
  slot.tail = run;
  graphUpdates.set(key, slot);
  run.finally(() => slot.tail === run && graphUpdates.delete(key)).catch(() => undefined);
  return run;
}

async function runGraphUpdate(baseId: number, modelId: string): Promise<GraphReport | null> {
  try {
    const result = await updateSearchGraphInWorker(baseId, modelId, annMinVectors, (done, total) =>
      report({ baseId, modelId, progress: { done, total } })
    );
    await adoptGraph(baseId, modelId);
    report({ baseId, modelId, progress: null });
    return result;
  } catch (error) {
    report({ baseId, modelId, progress: null, error: error instanceof Error ? error.message : String(error) });
    throw error;
  }
}

/** Points an already open search index at the freshly saved graph. */
async function adoptGraph(baseId: number, modelId: string): Promise<void> {
  const open = indexes.get(keyOf(baseId, modelId));
  const saved = await db.searchGraphs.get([baseId, modelId]);
  if (open && saved) {
    (await open).vectors.attachGraph(saved.graph);
  }
}

async function embedChunks(
  chunks: Pick<Chunk, 'headingPath' | 'text'>[],
  embedder: Embedder,
  onProgress: (progress: ImportProgress) => void,
  signal?: AbortSignal
): Promise<{ vectors: Float32Array; dim: number }> {
  const parts: Float32Array[] = [];
  let dim = 0;
  for (let i = 0; i < chunks.length; i += EMBED_BATCH) {
    refuseIfCancelled(signal);
    onProgress({ phase: 'embedding', done: i, total: chunks.length });
    // The heading path gives later passages of a section the context their first line had.
    const texts = chunks.slice(i, i + EMBED_BATCH).map((chunk) => [...chunk.headingPath, chunk.text].join('\n'));
    const result = await embedder.embed(texts);
    parts.push(result.vectors);
    dim = result.dim;
  }
  onProgress({ phase: 'embedding', done: chunks.length, total: chunks.length });
  const vectors = new Float32Array(chunks.length * dim);
  parts.reduce((offset, part) => (vectors.set(part, offset), offset + part.length), 0);
  return { vectors, dim };
}

function refuseIfCancelled(signal?: AbortSignal): void {
  if (signal?.aborted) {
    throw abortError('The import was cancelled');
  }
}

async function refuseDuplicate(baseId: number, contentHash: string, name: string): Promise<void> {
  const existing = await db.documents.where('[baseId+contentHash]').equals([baseId, contentHash]).first();
  if (existing) {
    throw new DocumentImportError(`"${name}" is already in this knowledge base (as "${existing.name}")`);
  }
}

function toRow(chunk: Chunk, documentId: number, baseId: number): KnowledgeChunk {
  const { text, start, end, headingPath, page, index } = chunk;
  return { documentId, baseId, index, text, start, end, headingPath, ...(page !== undefined && { page }) };
}
