import { readFile } from 'node:fs/promises';
import { parseTaskDefinition, parseTaskIndex, type TaskDefinition } from '../../src/lib/core/tracker/index.ts';

const TASKS = new URL('../../static/tasks/', import.meta.url);

/**
 * The tasks a session may name by `task_id`: the sample tasks the app ships (static/tasks), read
 * and checked once, on first use.
 */
export function storedTasks(folder: URL = TASKS): (id: string) => Promise<TaskDefinition | null> {
  let loaded: Promise<Map<string, TaskDefinition>> | undefined;
  const load = async () => {
    const read = async (file: string) => JSON.parse(await readFile(new URL(file, folder), 'utf8')) as unknown;
    const index = parseTaskIndex(await read('index.json'));
    const tasks = await Promise.all(index.map(async (entry) => parseTaskDefinition(await read(entry.file))));
    return new Map(tasks.map((task) => [task.id, task]));
  };
  return async (id) => {
    loaded ??= load();
    return (await loaded).get(id) ?? null;
  };
}
