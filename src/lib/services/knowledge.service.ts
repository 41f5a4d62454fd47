import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { documentFormat } from '#lib/core/document-format.ts';
import { abortError, DocumentImportError, isQuotaExceeded, QuotaError } from '#lib/core/errors.ts';
import {
  appendVectors,
  Bm25Index,
  chunkDocument,
  createVectorBlock,
  DEFAULT_MIN_COSINE,
  exactTopK,
  fuseResults,
  scoreIds,
  type Chunk,
  type VectorBlock
} from '#lib/core/retrieval/index.ts';
import { db, type KnowledgeBase, type KnowledgeChunk, type KnowledgeDocument } from '#lib/db/index.ts';
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
  forget(baseId);
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
    forget(removed.document.baseId);
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
    forget(removed.document.baseId);
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
    forget(baseId);
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
  if (index.block.count === 0) {
    return [];
  }
  const { vectors: query } = await embedder.embed([question]);
  const vectorHits = exactTopK(index.block, query, k * 4);
  const keywordHits = index.bm25.search(question, k * 4);
  const cosines = scoreIds(
    index.block,
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

export interface SearchIndex {
  block: VectorBlock;
  bm25: Bm25Index;
}

/** Per base and model, built from IndexedDB on first search and dropped when the base changes. */
const indexes = new Map<string, Promise<SearchIndex>>();

function forget(baseId: number): void {
  for (const key of indexes.keys()) {
    if (key.startsWith(`${baseId}:`)) {
      indexes.delete(key);
    }
  }
}

/** The in-memory search structures of a base for one embedding model, read from IndexedDB once. */
export function openSearchIndex(baseId: number, modelId: string): Promise<SearchIndex> {
  const key = `${baseId}:${modelId}`;
  let index = indexes.get(key);
  if (!index) {
    index = loadIndex(baseId, modelId);
    index.catch(() => indexes.delete(key));
    indexes.set(key, index);
  }
  return index;
}

async function loadIndex(baseId: number, modelId: string): Promise<SearchIndex> {
  const rows = await db.vectors.where('[baseId+modelId]').equals([baseId, modelId]).toArray();
  const dim = rows[0]?.dim ?? 1;
  const block = createVectorBlock(
    dim,
    rows.reduce((n, row) => n + row.chunkIds.length, 0)
  );
  for (const row of rows) {
    appendVectors(block, row.chunkIds, row.data);
  }
  const bm25 = new Bm25Index();
  await db.chunks
    .where('baseId')
    .equals(baseId)
    .each((chunk) => bm25.add(chunk.id!, chunk.text));
  return { block, bm25 };
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
