// Not the retrieval barrel: settings load on every page, search code only where it is used.
import { DEFAULT_MIN_COSINE } from '#lib/core/retrieval/fusion.ts';
import { ANN_MIN_VECTORS } from '#lib/core/retrieval/search-defaults.ts';
import { db } from '#lib/db/index.ts';
import { DEFAULT_MODEL_HOST } from './registry.service.ts';

export interface Settings {
  /** Hugging Face or a mirror in the same layout (e.g. the school's edge API at /models/). */
  modelHost: string;
  /** The vision model the camera assistant uses. */
  visionModelId: string | null;
  /** The embedding model the knowledge base searches with. */
  embeddingModelId: string | null;
  /** Variant the user forced per model id, overriding automatic selection. */
  variantOverrides: Record<string, string>;
  continuousIntervalS: number;
  /**
   * Cosine a passage needs to count as relevant. Embedding models differ in how high their
   * cosines run, so it is the user's to tune; below it the answer is "no relevant passage".
   */
  minRelevance: number;
  /** From how many vectors a knowledge base is searched through its saved HNSW graph (below it, exactly). */
  annMinVectors: number;
  /** The edge API for heavy jobs; null: the app's own origin (the edge server also serves the app). */
  edgeUrl: string | null;
  /** An API key (`vh_…`) or a JWT for the edge API; null asks anonymously. */
  edgeCredential: string | null;
  /**
   * Server ids of edge jobs removed from this device's list, oldest first, at most core's
   * `HIDDEN_JOBS_KEPT`: the server lists them until its retention ends, and must not bring them back.
   */
  hiddenEdgeJobs: string[];
  /**
   * Where the camera assistant's answers are computed, as the user chose; null until they choose:
   * then on the server when this device cannot run a vision model, else here.
   */
  answerOn: 'device' | 'server' | null;
  /**
   * Let questions go to the edge server's models: the camera's choice may then pick one of them,
   * and the question and the frame leave the device. Off until the user allows it.
   */
  serverModels: boolean;
}

export const DEFAULT_SETTINGS: Settings = {
  modelHost: DEFAULT_MODEL_HOST,
  visionModelId: null,
  embeddingModelId: null,
  variantOverrides: {},
  continuousIntervalS: 5,
  minRelevance: DEFAULT_MIN_COSINE,
  annMinVectors: ANN_MIN_VECTORS,
  edgeUrl: null,
  edgeCredential: null,
  hiddenEdgeJobs: [],
  answerOn: null,
  serverModels: false
};

export async function loadSettings(): Promise<Settings> {
  const rows = await db.settings.toArray();
  const stored = Object.fromEntries(rows.map((r) => [r.key, r.value])) as Partial<Settings>;
  return { ...DEFAULT_SETTINGS, ...stored };
}

export async function loadSetting<K extends keyof Settings>(key: K): Promise<Settings[K]> {
  const row = await db.settings.get(key);
  return row ? (row.value as Settings[K]) : DEFAULT_SETTINGS[key];
}

/**
 * Changes a setting from its stored value, read and written in one transaction so that a change
 * made meanwhile (another tab) is not lost. Called inside a wider transaction, it is part of it.
 */
export async function updateSetting<K extends keyof Settings>(
  key: K,
  change: (value: Settings[K]) => Settings[K]
): Promise<void> {
  await db.transaction('rw', db.settings, async () => saveSetting(key, change(await loadSetting(key))));
}

export async function saveSetting<K extends keyof Settings>(key: K, value: Settings[K]): Promise<void> {
  if (key === 'modelHost' || (key === 'edgeUrl' && value !== null)) {
    const url = URL.parse(String(value));
    if (url?.protocol !== 'https:' && url?.protocol !== 'http:') {
      throw new TypeError(`The ${key === 'modelHost' ? 'model host' : 'edge server'} must be an http(s) URL`);
    }
  }
  if (key === 'minRelevance' && !(typeof value === 'number' && value >= 0 && value <= 1)) {
    throw new RangeError('The relevance threshold must be a number from 0 to 1');
  }
  if (key === 'annMinVectors' && !(Number.isInteger(value) && (value as number) >= 1)) {
    throw new RangeError('The search graph threshold must be a whole number of vectors, at least 1');
  }
  if (key === 'answerOn' && value !== null && value !== 'device' && value !== 'server') {
    throw new RangeError('Answers are computed on the device or on the server');
  }
  if (key === 'serverModels' && typeof value !== 'boolean') {
    throw new TypeError('Whether questions may go to the edge server is true or false');
  }
  await db.settings.put({ key, value });
}
