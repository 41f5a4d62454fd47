import type { GenerationStats } from '#lib/core/vlm-types.ts';

export interface SettingRow {
  key: string;
  value: unknown;
}

export interface InstalledModel {
  modelId: string;
  variantId: string;
  /** Host the files were fetched from; it is part of their cache keys. */
  host: string;
  bytes: number;
  files: { path: string; size: number; sha256: string }[];
  installedAt: number;
}

/** Bytes of an unfinished download, kept so it can resume with a Range request. */
export interface DownloadPart {
  url: string;
  offset: number;
  data: Blob;
  /** Validator of the response the bytes came from; a changed file restarts the download. */
  etag: string | null;
}

export interface Observation {
  id?: number;
  createdAt: number;
  prompt: string;
  answer: string;
  modelId: string;
  variantId: string;
  /** JPEG thumbnail of the frame the answer is about. */
  thumbnail: Blob;
  stats: Omit<GenerationStats, 'text'>;
  source: 'camera' | 'upload' | 'continuous';
}
