import { Dexie, type EntityTable } from 'dexie';
import type { DownloadPart, InstalledModel, Observation, SettingRow } from './schema.ts';

export type { DownloadPart, InstalledModel, Observation, SettingRow } from './schema.ts';

/** The one IndexedDB database; every schema change is a new version below, never an edit. */
export class VisionHubDb extends Dexie {
  settings!: EntityTable<SettingRow, 'key'>;
  models!: EntityTable<InstalledModel, 'modelId'>;
  downloadParts!: Dexie.Table<DownloadPart, [string, number]>;
  observations!: EntityTable<Observation, 'id'>;

  constructor(name = 'vision-hub') {
    super(name);
    this.version(1).stores({
      settings: 'key',
      models: 'modelId',
      downloadParts: '[url+offset], url',
      observations: '++id, createdAt'
    });
  }
}

export const db = new VisionHubDb();
