import type { Context, MiddlewareHandler } from 'hono';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
type Fields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: Fields): void;
  info(message: string, fields?: Fields): void;
  warn(message: string, fields?: Fields): void;
  error(message: string, fields?: Fields): void;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };
/** Inline images (camera frames) must never reach the logs: they are large and may be medical. */
const DATA_URL = /data:[\w/+.-]+;base64,[A-Za-z0-9+/=]{16,}/g;
const MAX_TEXT = 1_000;

/** One JSON object per line on stdout, the shape log collectors parse without configuration. */
export function jsonLogger(level: LogLevel, write: (line: string) => void = (line) => console.log(line)): Logger {
  const log =
    (at: Exclude<LogLevel, 'silent'>) =>
    (message: string, fields: Fields = {}) => {
      if (RANK[at] >= RANK[level]) {
        write(JSON.stringify({ time: new Date().toISOString(), level: at, message, ...scrub(fields) }));
      }
    };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

function scrub(fields: Fields): Fields {
  return Object.fromEntries(
    Object.entries(fields).map(([key, value]) => [
      key,
      typeof value === 'string' ? value.replace(DATA_URL, 'data:…').slice(0, MAX_TEXT) : value
    ])
  );
}

/** What an unexpected error says in the log: its kind and message, and where it came from. */
export function describeError(error: unknown): Fields {
  return error instanceof Error
    ? { error: error.name, detail: error.message, stack: error.stack?.split('\n').slice(0, 6).join(' | ') }
    : { error: String(error) };
}

/**
 * Logs each request once it is answered: request id, method, path (never the query string or
 * headers, where tokens travel), status, time and tenant.
 */
export function requestLogger(logger: Logger): MiddlewareHandler {
  return async (c: Context, next) => {
    const started = performance.now();
    await next();
    const status = c.res.status;
    const principal = c.get('principal') as { tenant?: string } | undefined;
    logger[status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info']('request', {
      request_id: c.get('requestId') as string | undefined,
      method: c.req.method,
      path: c.req.path,
      status,
      ms: Math.round((performance.now() - started) * 10) / 10,
      tenant: principal?.tenant
    });
  };
}
