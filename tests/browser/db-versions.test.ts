import { Dexie } from 'dexie';
import { afterEach, describe, expect, it } from 'vitest';
import { VisionHubDb } from '#lib/db/index.ts';
import { shippedStores } from './edge-helpers.ts';

// Versions 1 to 5 are no longer declared (they only added tables and indexes): a database
// installed at any of them must still open with every table and index of today, its rows kept.

const names: string[] = [];
afterEach(async () => {
  await Promise.all(names.splice(0).map((name) => Dexie.delete(name)));
});

describe('a database installed by an early version', () => {
  it.each([1, 3] as const)('at version %i opens with every table of today and keeps its rows', async (version) => {
    const name = `vision-hub-v${version}-${crypto.randomUUID()}`;
    names.push(name);
    const old = new Dexie(name);
    old.version(version).stores(shippedStores(version));
    await old.table('settings').put({ key: 'theme', value: 'dark' });
    await old.table('observations').add({ createdAt: 5, prompt: 'What is this?', answer: 'A kettle.' });
    old.close();

    const db = new VisionHubDb(name);
    try {
      expect(await db.settings.get('theme')).toEqual({ key: 'theme', value: 'dark' });
      expect(await db.observations.where('createdAt').equals(5).count()).toBe(1);
      // Tables and indexes that came after the installed version are there and usable.
      expect(await db.edgeJobs.where('outbox').equals(1).count()).toBe(0);
      expect(await db.searchGraphs.count()).toBe(0);
      expect(await db.perfSamples.where('metric').equals('fps').count()).toBe(0);
      await db.errorLog.add({ at: 1, where: 'Camera', message: 'kept', loaded: [] });
      expect(await db.errorLog.count()).toBe(1);
      expect(await db.readings.where('[learner+createdAt]').between(['Ana', 0], ['Ana', Infinity]).count()).toBe(0);
      expect(db.verno).toBe(9);
      expect(db.tables.map((table) => table.name).sort()).toEqual(
        [
          'chunks',
          'documents',
          'downloadParts',
          'edgeJobs',
          'errorLog',
          'knowledgeBases',
          'models',
          'observations',
          'perfSamples',
          'readings',
          'searchGraphs',
          'settings',
          'taskSessions',
          'vectors'
        ].sort()
      );
    } finally {
      db.close();
    }
  });
});
