import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/** A Lua script sent once per Redis server and run by its hash after that. */
export class RedisScript {
  readonly #lua: string;
  readonly #sha: string;

  constructor(lua: string) {
    this.#lua = lua;
    this.#sha = createHash('sha1').update(lua).digest('hex');
  }

  /** Runs the script with these keys and arguments; returns its reply. */
  async run(client: Redis, keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
      return await client.evalsha(this.#sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) {
        throw error;
      }
      return client.eval(this.#lua, keys.length, ...keys, ...args);
    }
  }
}
