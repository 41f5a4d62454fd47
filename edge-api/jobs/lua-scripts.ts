import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

// Beside this module: the edge API runs from source (`node edge-api/server.ts`), never bundled.
const LUA_DIR = new URL('./lua/', import.meta.url);
// BullMQ's conventions for its own scripts: `<name>-<number of keys>.lua`, and shared functions
// pulled in by `--- @include "<name>"` lines (from `includes/<name>.lua`).
const SCRIPT_FILE = /^\w+-(\d+)\.lua$/;
const INCLUDE = /^--- @include "([\w-]+)"$/gm;

/** A script as ioredis's `defineCommand` takes it. */
export interface LuaCommand {
  numberOfKeys: number;
  lua: string;
}

/** A command defined by `defineLuaCommands`: its keys, then its arguments. */
export type LuaScript = (...keysThenArgs: (string | number)[]) => Promise<unknown>;

/** Reads `lua/<file>` (named `<name>-<number of keys>.lua`) with its includes in place. */
export function loadLuaCommand(file: string): LuaCommand {
  const keys = SCRIPT_FILE.exec(file)?.[1];
  if (keys === undefined) {
    throw new Error(`Lua script ${file} is not named <name>-<number of keys>.lua`);
  }
  const source = readFileSync(new URL(file, LUA_DIR), 'utf8');
  const lua = source.replace(INCLUDE, (_, name: string) =>
    readFileSync(new URL(`includes/${name}.lua`, LUA_DIR), 'utf8')
  );
  return { numberOfKeys: Number(keys), lua };
}

/**
 * Loads the scripts (`command name -> file`) once, and returns what defines them on a client:
 * ioredis runs a defined command by its hash, sending the script again after a Redis restart.
 */
export function luaCommands<Name extends string>(
  files: Record<Name, string>
): (client: Redis) => Redis & Record<Name, LuaScript> {
  const commands = Object.entries<string>(files).map(([name, file]) => [name, loadLuaCommand(file)] as const);
  return (client) => {
    for (const [name, command] of commands) {
      client.defineCommand(name, command);
    }
    return client as Redis & Record<Name, LuaScript>;
  };
}
