import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { documentFormat } from '#lib/core/document-format.ts';
import type { Embedder } from '#lib/core/embedder.ts';
import { abortError, DocumentImportError, isQuotaExceeded, QuotaError } from '#lib/core/errors.ts';
import { chunkDocument, type Chunk } from '#lib/core/retrieval/index.ts';
import { db, type KnowledgeBase, type KnowledgeChunk, type KnowledgeDocument } from '#lib/db/index.ts';
import { extractText } from './document-text.service.ts';
import { forgetSearchIndexes } from './search-index-cache.ts';
import { refreshSearchAfterChange, type GraphOptions } from './search-graph-upkeep.service.ts';

export interface ImportProgress {
  phase: 'reading' | 'embedding' | 'saving';
  done: number;
  total: number;
}

/** An import: the app's graph threshold, and optionally progress reports and a cancel signal. */
export interface ImportOptions extends GraphOptions {
  onProgress?: (progress: ImportProgress) => void;
  signal?: AbortSignal;
}

/** Passages per embedding call: progress moves often, and an abort lands within one batch. */
const EMBED_BATCH = 32;

/**
 * Why `name` cannot name a knowledge base, or null when it can: names are what tells bases apart
 * in the picker, so they are unique, ignoring case and surrounding spaces (`exceptId`: the base
 * being renamed keeps its own name).
 */
export function baseNameProblem(name: string, bases: readonly KnowledgeBase[], exceptId?: number): string | null {
  const trimmed = name.trim();
  if (!trimmed) {
    return 'A knowledge base needs a name';
  }
  const taken = bases.find((base) => base.id !== exceptId && base.name.trim().toLowerCase() === trimmed.toLowerCase());
  return taken ? `There is already a knowledge base called "${taken.name}"` : null;
}

export async function createBase(name: string): Promise<number> {
  return db.transaction('rw', db.knowledgeBases, async () => {
    refuseName(name, await listBases());
    return (await db.knowledgeBases.add({ name: name.trim(), createdAt: Date.now() })) as number;
  });
}

export async function renameBase(baseId: number, name: string): Promise<void> {
  await db.transaction('rw', db.knowledgeBases, async () => {
    refuseName(name, await listBases(), baseId);
    await db.knowledgeBases.update(baseId, { name: name.trim() });
  });
}

/**
 * Deletes a knowledge base with everything in it (documents, passages, vectors, search graphs)
 * and returns an undo that puts back exactly what was removed, under the same ids.
 */
export async function deleteBase(baseId: number): Promise<() => Promise<void>> {
  const tables = [db.knowledgeBases, db.documents, db.chunks, db.vectors, db.searchGraphs];
  const removed = await db.transaction('rw', tables, async () => {
    const rows = {
      base: await db.knowledgeBases.get(baseId),
      documents: await db.documents.where('baseId').equals(baseId).toArray(),
      chunks: await db.chunks.where('baseId').equals(baseId).toArray(),
      vectors: await db.vectors.where('baseId').equals(baseId).toArray(),
      graphs: await db.searchGraphs.where('[baseId+modelId]').between([baseId, ''], [baseId, '\uffff']).toArray()
    };
    await db.knowledgeBases.delete(baseId);
    await db.documents.where('baseId').equals(baseId).delete();
    await db.chunks.where('baseId').equals(baseId).delete();
    await db.vectors.where('baseId').equals(baseId).delete();
    await db.searchGraphs.bulkDelete(rows.graphs.map((graph) => [graph.baseId, graph.modelId] as [number, string]));
    return rows;
  });
  forgetSearchIndexes(baseId);
  return async () => {
    if (!removed.base) {
      return;
    }
    await db.transaction('rw', tables, async () => {
      // Another base may have taken the name meanwhile: both stay, told apart by "(restored)".
      const name = baseNameProblem(removed.base!.name, await listBases())
        ? `${removed.base!.name} (restored)`
        : removed.base!.name;
      await db.knowledgeBases.put({ ...removed.base!, name });
      await db.documents.bulkPut(removed.documents);
      await db.chunks.bulkPut(removed.chunks);
      await db.vectors.bulkPut(removed.vectors);
      await db.searchGraphs.bulkPut(removed.graphs);
    });
    forgetSearchIndexes(baseId);
  };
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
 * `embedder` may still be loading: the file is read meanwhile (a model's first load and a PDF's
 * parsing take seconds each, on different threads).
 */
export async function importDocument(
  baseId: number,
  file: File,
  embedderReady: Embedder | Promise<Embedder>,
  options: ImportOptions
): Promise<KnowledgeDocument> {
  const { onProgress = () => undefined, signal } = options;
  const format = documentFormat(file.name, file.size);
  onProgress({ phase: 'reading', done: 0, total: 1 });
  const bytes = new Uint8Array(await file.arrayBuffer());
  const contentHash = bytesToHex(sha256(bytes));
  await refuseDuplicate(baseId, contentHash, file.name);
  const { text, pages } = await extractText(file.name, format, bytes);
  const chunks = chunkDocument(text, { kind: format === 'text' ? 'text' : 'markdown', pages });
  const embedder = await embedderReady;
  const { vectors, dim } = await embedPassages(chunks, embedder, onProgress, signal);

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
  refreshSearchAfterChange(baseId, [embedder.modelId], options);
  onProgress({ phase: 'saving', done: 1, total: 1 });
  return document;
}

/**
 * Deletes a document with its passages and vectors, and returns an undo that puts back exactly
 * what was removed (same ids, so citations elsewhere keep working). Both bring the base's search
 * graphs up to date with `annMinVectors`.
 */
export async function deleteDocument(documentId: number, options: GraphOptions): Promise<() => Promise<void>> {
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
    refreshSearchAfterChange(removed.document.baseId, modelsOf(removed.vectors), options);
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
    refreshSearchAfterChange(removed.document.baseId, modelsOf(removed.vectors), options);
  };
}

/**
 * Embeds passages in batches, each with its heading path, and returns their vectors end to end
 * (the layout of a document's vector row). Checks `signal` before every batch.
 */
export async function embedPassages(
  chunks: Pick<Chunk, 'headingPath' | 'text'>[],
  embedder: Embedder,
  onProgress: (progress: ImportProgress) => void = () => undefined,
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

function refuseName(name: string, bases: readonly KnowledgeBase[], exceptId?: number): void {
  const problem = baseNameProblem(name, bases, exceptId);
  if (problem) {
    throw new DocumentImportError(problem);
  }
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

function modelsOf(rows: { modelId: string }[]): string[] {
  return [...new Set(rows.map((row) => row.modelId))];
}
