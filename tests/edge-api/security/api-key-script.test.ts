import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { apiKeyLookup, isWellFormedApiKey, parseApiKeyList } from '../../../edge-api/security/api-keys.ts';

const run = promisify(execFile);
const SCRIPT = 'scripts/api-key.ts';

/** Runs the script with this test's Node (24: it strips the types itself); never rejects. */
async function apiKeyScript(...args: string[]) {
  try {
    const { stdout, stderr } = await run(process.execPath, [SCRIPT, ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

/** The two lines a user copies: the key, and the `API_KEYS` entry. */
function printed(stdout: string) {
  const lines = stdout.split('\n').map((line) => line.trim());
  const keys = lines.filter((line) => line.startsWith('vh_'));
  const entries = lines.filter((line) => /^[^\s:]+:[^\s:]+:[0-9a-f]{64}$/.test(line));
  expect(keys).toHaveLength(1);
  expect(entries).toHaveLength(1);
  return { key: keys[0] ?? '', entry: entries[0] ?? '' };
}

describe('scripts/api-key.ts', () => {
  it('prints a key and the API_KEYS entry that authenticates it', async () => {
    const { code, stdout, stderr } = await apiKeyScript('clinic-7', 'lab-scanner');
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const { key, entry } = printed(stdout);
    expect(isWellFormedApiKey(key)).toBe(true);
    // The entry holds the key's hash, never the key itself.
    expect(entry).not.toContain(key);
    const lookup = apiKeyLookup(parseApiKeyList(entry));
    expect(await lookup(key)).toEqual({ tenant: 'clinic-7', name: 'lab-scanner', hash: entry.split(':')[2] });
  });

  it('makes a different key every time', async () => {
    const [first, second] = await Promise.all([apiKeyScript('acme', 'ci'), apiKeyScript('acme', 'ci')]);
    const a = printed(first?.stdout ?? '');
    const b = printed(second?.stdout ?? '');
    expect(a.key).not.toBe(b.key);
    expect(await apiKeyLookup(parseApiKeyList(a.entry))(b.key)).toBeUndefined();
  });

  it.each([
    [[], /exactly two arguments/],
    [['acme'], /exactly two arguments/],
    [['acme', 'ci', 'extra'], /exactly two arguments/],
    [['a:b', 'ci'], /Invalid tenant "a:b"/],
    [['../etc', 'ci'], /Invalid tenant/],
    [['acme', 'has space'], /Invalid key name "has space"/],
    [['acme', 'x'.repeat(65)], /Invalid key name/]
  ])('refuses %j with a clear message and exit code 2', async (args, message) => {
    const { code, stdout, stderr } = await apiKeyScript(...args);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stderr).toMatch(/Usage: node scripts\/api-key\.ts <tenant> <name>/);
    expect(stdout).toBe('');
  });
});
