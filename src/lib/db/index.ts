import { Dexie, type EntityTable } from 'dexie';
import { withOutboxMark } from '#lib/core/edge-outbox.ts';
import { edgeJobV7, type EdgeJobV6 } from './edge-job-upgrades.ts';
import type {
  DocumentVectors,
  DownloadPart,
  EdgeJob,
  ErrorLogEntry,
  InstalledModel,
  KnowledgeBase,
  KnowledgeChunk,
  KnowledgeDocument,
  Observation,
  PerfSampleRow,
  ReadingResult,
  SearchGraph,
  SettingRow,
  TaskSession
} from './schema.ts';

export type * from './schema.ts';

/** The one IndexedDB database; every schema change is a new version below, never an edit of one. */
export class VisionHubDb extends Dexie {
  settings!: EntityTable<SettingRow, 'key'>;
  models!: EntityTable<InstalledModel, 'modelId'>;
  downloadParts!: Dexie.Table<DownloadPart, [string, number]>;
  observations!: EntityTable<Observation, 'id'>;
  knowledgeBases!: EntityTable<KnowledgeBase, 'id'>;
  documents!: EntityTable<KnowledgeDocument, 'id'>;
  chunks!: EntityTable<KnowledgeChunk, 'id'>;
  vectors!: Dexie.Table<DocumentVectors, [number, string]>;
  taskSessions!: EntityTable<TaskSession, 'id'>;
  searchGraphs!: Dexie.Table<SearchGraph, [number, string]>;
  edgeJobs!: EntityTable<EdgeJob, 'id'>;
  perfSamples!: EntityTable<PerfSampleRow, 'id'>;
  errorLog!: EntityTable<ErrorLogEntry, 'id'>;
  readings!: EntityTable<ReadingResult, 'id'>;

  constructor(name = 'vision-hub') {
    super(name);
    // Only versions with an upgrade are declared, each in full: versions 1 to 5 only added tables
    // and indexes, which Dexie (3 and later) adds to a database of any of them from the schema it
    // finds there. Each declaration costs every page's start-up (Dexie re-parses all of them on each).
    // Version 6: a send round reads only the `outbox` index (see EdgeJob.outbox).
    this.version(6)
      .stores({
        settings: 'key',
        models: 'modelId',
        downloadParts: '[url+offset], url',
        observations: '++id, createdAt',
        knowledgeBases: '++id',
        documents: '++id, baseId, [baseId+contentHash]',
        chunks: '++id, documentId, baseId',
        vectors: '[documentId+modelId], [baseId+modelId], baseId',
        taskSessions: '++id, taskId, updatedAt',
        searchGraphs: '[baseId+modelId]',
        edgeJobs: 'id, createdAt, outbox'
      })
      .upgrade((tx) =>
        tx
          .table<EdgeJobV6, string>('edgeJobs')
          .toCollection()
          .modify((job, row) => {
            row.value = withOutboxMark(job);
          })
      );
    // Jobs of more kinds than MedGemma's, about more than observations, with more than a report to keep.
    this.version(7).upgrade((tx) =>
      tx
        .table<EdgeJobV6 | EdgeJob, string>('edgeJobs')
        .toCollection()
        .modify((job, row) => {
          // Every row is a version 6 row until this upgrade has run.
          row.value = edgeJobV7(job as EdgeJobV6);
        })
    );
    // The status monitor's figures and error log, kept across reloads (new tables: nothing to upgrade).
    this.version(8).stores({
      perfSamples: '++id, metric',
      errorLog: '++id'
    });
    // Reading practice: each learner's results, newest first.
    this.version(9).stores({ readings: '++id, [learner+createdAt]' });
  }
}

export const db = new VisionHubDb();
