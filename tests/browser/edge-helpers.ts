import type { MedgemmaAnalyzeRequest } from '#lib/core/edge-wire.ts';
import type { EdgeJobV6 } from '#lib/db/edge-job-upgrades.ts';
import { testFrame } from './helpers.ts';

/** A camera-like JPEG as a data: URL, the way the app sends frames to MedGemma. */
export async function jpegDataUrl(): Promise<string> {
  const frame = await testFrame(160, 120);
  const canvas = new OffscreenCanvas(frame.width, frame.height);
  canvas.getContext('2d')!.drawImage(frame, 0, 0);
  const blob = await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.7 });
  const bytes = new Uint8Array(await blob.arrayBuffer());
  return `data:image/jpeg;base64,${btoa(String.fromCharCode(...bytes))}`;
}

/** `maxTokens` makes a job long: the random-weight model rarely stops before its limit. */
export async function analysisRequest(prompt: string, maxTokens?: number): Promise<MedgemmaAnalyzeRequest> {
  return {
    type: 'medgemma.analyze',
    input: { images: [{ url: await jpegDataUrl() }], prompt, ...(maxTokens && { max_tokens: maxTokens }) }
  };
}

/** What each shipped version added to the database (tables, or a table's new indexes). */
const SHIPPED: Record<number, Record<string, string>> = {
  1: {
    settings: 'key',
    models: 'modelId',
    downloadParts: '[url+offset], url',
    observations: '++id, createdAt'
  },
  2: {
    knowledgeBases: '++id',
    documents: '++id, baseId, [baseId+contentHash]',
    chunks: '++id, documentId, baseId',
    vectors: '[documentId+modelId], [baseId+modelId], baseId'
  },
  3: { taskSessions: '++id, taskId, updatedAt' },
  4: { searchGraphs: '[baseId+modelId]' },
  5: { edgeJobs: 'id, createdAt, observationId' },
  6: { edgeJobs: 'id, createdAt, outbox' }
};

/**
 * The database's tables as a version shipped them, every table in one step: upgrade tests open
 * an old database with these, then the app's. Written out, not taken from the app, whose
 * declarations are what these tests check.
 */
export function shippedStores(version: 1 | 2 | 3 | 4 | 5 | 6): Record<string, string> {
  return Object.assign({}, ...Object.entries(SHIPPED).flatMap(([v, tables]) => (Number(v) <= version ? [tables] : [])));
}

/** An unsent job row as versions 5 and 6 stored it; `extra` sets what a test needs. */
export function shippedJobRow(id: string, extra: Partial<EdgeJobV6> = {}): EdgeJobV6 {
  return {
    id,
    idempotencyKey: `vh-${id}`,
    request: { type: 'medgemma.analyze', input: { images: [{ url: 'data:image/jpeg;base64,AA==' }] } },
    observationId: null,
    label: id,
    server: null,
    serverId: null,
    job: null,
    report: null,
    problem: null,
    attempts: 0,
    retryAt: 0,
    createdAt: 1,
    updatedAt: 1,
    ...extra
  };
}
