import { base64url } from 'jose';
import { sha256Hex } from '../http/sha256-hex.ts';
import { isTenant } from './principal.ts';

/**
 * API keys for programmatic clients: `vh_` + 32 random bytes in base64url. The prefix lets the
 * auth middleware tell a key from a JWT and lets secret scanners spot leaked keys. The server
 * only ever holds SHA-256 hashes: a leaked configuration grants nothing, and since keys carry
 * 256 bits of entropy a fast unsalted hash is enough (no dictionary to attack).
 */
export const API_KEY_PREFIX = 'vh_';
const API_KEY = /^vh_[A-Za-z0-9_-]{43}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface ApiKeyEntry {
  tenant: string;
  /** Which key this is (`ci`, `lab-scanner`): lets operators rotate one key and shows up as the principal's subject. */
  name: string;
  /** SHA-256 of the key, lowercase hex. */
  hash: string;
}

/** Keys of the right shape; anything else is rejected before hashing. */
export const isWellFormedApiKey = (key: string): boolean => API_KEY.test(key);

/** Key names share the tenant alphabet: they end up in `API_KEYS` entries and log lines. */
export const isApiKeyName = (name: string): boolean => NAME.test(name);

/** SHA-256 of a key as lowercase hex: the form `API_KEYS` stores. */
export const hashApiKey = (key: string): Promise<string> => sha256Hex(key);

/** A new random key and its hash; the key is shown once and never stored. */
export async function createApiKey(): Promise<{ key: string; hash: string }> {
  const key = API_KEY_PREFIX + base64url.encode(crypto.getRandomValues(new Uint8Array(32)));
  return { key, hash: await hashApiKey(key) };
}

/**
 * Parses `tenant:name:sha256hex` entries, comma-separated (the `API_KEYS` variable). Throws on
 * the first bad entry, naming its position, so a typo stops startup instead of locking a client out.
 */
export function parseApiKeyList(list: string): ApiKeyEntry[] {
  const entries = list
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry, index) => {
      const [tenant = '', name = '', hash = '', ...rest] = entry.split(':');
      const problem = entryProblem(tenant, name, hash.toLowerCase(), rest.length > 0);
      if (problem) {
        throw new Error(`API key entry ${index + 1}: ${problem}`);
      }
      return { tenant, name, hash: hash.toLowerCase() };
    });
  if (new Set(entries.map((entry) => entry.hash)).size !== entries.length) {
    throw new Error('API key list: the same key hash appears twice');
  }
  return entries;
}

function entryProblem(tenant: string, name: string, hash: string, extraFields: boolean): string | undefined {
  if (extraFields || !hash) {
    return 'must be tenant:name:sha256hex';
  }
  if (!isTenant(tenant)) {
    return 'tenant must be 1-64 letters, digits, ".", "_" or "-"';
  }
  if (!isApiKeyName(name)) {
    return 'name must be 1-64 letters, digits, ".", "_" or "-"';
  }
  if (!SHA256_HEX.test(hash)) {
    return 'hash must be 64 hex digits (the SHA-256 of the key, never the key itself)';
  }
  return undefined;
}

/** Finds the entry of a key by its hash; `undefined` for unknown keys. Check the shape first. */
export type ApiKeyLookup = (key: string) => Promise<ApiKeyEntry | undefined>;

/** An in-memory lookup over parsed entries (see {@link parseApiKeyList}). */
export function apiKeyLookup(entries: readonly ApiKeyEntry[]): ApiKeyLookup {
  // A map lookup by hash is not a timing oracle: an attacker cannot steer the hash of a guess
  // towards a stored one, so how long the comparison takes tells them nothing useful.
  const byHash = new Map(entries.map((entry) => [entry.hash, entry]));
  // Keys already verified skip the hash on later requests. Only known keys are remembered, so
  // the cache never holds more entries than the configuration, whatever callers send.
  const verified = new Map<string, ApiKeyEntry>();
  return async (key) => {
    const known = verified.get(key);
    if (known) {
      return known;
    }
    const entry = byHash.get(await hashApiKey(key));
    if (entry) {
      verified.set(key, entry);
    }
    return entry;
  };
}
