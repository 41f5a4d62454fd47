import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadLuaCommand } from '../../../edge-api/jobs/lua-scripts.ts';
import { useRedis } from '../support/redis.ts';

const SCRIPTS = readdirSync(new URL('../../../edge-api/jobs/lua/', import.meta.url)).filter((name) =>
  name.endsWith('.lua')
);

const redis = useRedis();

describe.each(SCRIPTS)('the BullMQ ledger script %s', (file) => {
  const { numberOfKeys, lua } = loadLuaCommand(file);

  it('has its includes in place', () => {
    expect(lua).not.toMatch(/@include/);
  });

  it('uses exactly the keys its file name counts, each listed in its header', () => {
    const used = [...lua.matchAll(/KEYS\[(\d+)\]/g)].map((match) => Number(match[1]));
    expect(Math.max(...used)).toBe(numberOfKeys);
    const header = /^--\[\[([\s\S]*?)\]\]/.exec(lua)?.[1] ?? '';
    for (let n = 1; n <= numberOfKeys; n++) {
      expect(header, `KEYS[${n}] is described in the header`).toContain(`KEYS[${n}]`);
    }
  });

  it('compiles in Redis', async () => {
    await expect(redis.client.script('LOAD', lua)).resolves.toMatch(/^[0-9a-f]{40}$/);
  });
});
