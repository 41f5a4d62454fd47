import * as z from 'zod';
import { CAPABILITIES } from './backends/backend.ts';

/** Thrown at startup for a bad environment: the message names every variable that is wrong. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

const csv = z
  .string()
  .optional()
  .transform((value) =>
    (value ?? '')
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean)
  );
const flag = z.enum(['true', 'false', '1', '0']).transform((value) => value === 'true' || value === '1');
const positiveInt = z.coerce.number().int().positive();
const nonNegativeInt = z.coerce.number().int().nonnegative();

const upstream = z.object({
  /** The model id clients ask for, e.g. `google/medgemma-4b-it`. */
  model: z.string().min(1),
  /** Base URL of an OpenAI-compatible server (vLLM, TGI, SGLang), ending before `/chat/completions`. */
  url: z.url({ protocol: /^https?$/ }),
  /** The model id on that server, when it differs. */
  upstreamModel: z.string().min(1).optional(),
  apiKey: z.string().min(1).optional(),
  /** What the server does with that model (`images` for an SDXL server); `chat` and `vision` when omitted. */
  capabilities: z.array(z.enum(CAPABILITIES)).min(1).optional()
});

const upstreams = z
  .string()
  .optional()
  .transform((value, context) => {
    if (!value?.trim()) {
      return [];
    }
    try {
      return JSON.parse(value) as unknown;
    } catch {
      context.addIssue({ code: 'custom', message: 'must be a JSON array' });
      return z.NEVER;
    }
  })
  .pipe(z.array(upstream));

const schema = z.object({
  /** 0 lets the OS pick a free port (tests). */
  PORT: z.coerce.number().int().min(0).max(65_535).default(8787),
  HOST: z.string().min(1).default('127.0.0.1'),
  /** Model files served at /models/ and run by the local backend. */
  MODELS_DIR: z.string().min(1).default('.cache/models'),
  /** The built PWA; empty to run the API alone. */
  STATIC_DIR: z.string().default('build'),
  /** The embedded job database and job artifacts. */
  DATA_DIR: z.string().min(1).default('.cache/edge-data'),
  /** Set to scale out: jobs on BullMQ, rate limits shared by every node. */
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),

  /**
   * Requests without credentials get the `local` tenant. Defaults to true only when the server
   * listens on loopback (one user on their own machine); anywhere else auth is required.
   */
  ALLOW_ANONYMOUS: flag.optional(),
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  JWT_PUBLIC_KEY: z.string().optional(),
  JWT_JWKS_URL: z.url({ protocol: /^https?$/ }).optional(),
  JWT_ALGORITHMS: csv,
  JWT_ISSUER: z.string().optional(),
  JWT_AUDIENCE: z.string().optional(),
  JWT_TENANT_CLAIM: z.string().min(1).default('tenant'),
  /** `tenant:name:sha256hex` entries, comma-separated (`npm run api-key` makes one). */
  API_KEYS: z.string().default(''),

  /** Origins allowed to call the API from a browser (the PWA's, when served elsewhere). */
  CORS_ORIGINS: csv,
  RATE_LIMIT_BURST: positiveInt.default(60),
  RATE_LIMIT_PER_SECOND: z.coerce.number().positive().default(5),
  /** Large enough for a few camera frames as data: URLs. */
  BODY_LIMIT_MB: z.coerce.number().positive().max(512).default(20),
  /**
   * The most one upload (`/v1/uploads`) may hold, sent in chunks of at most BODY_LIMIT_MB each:
   * a video's frames or a large scan, referenced from jobs instead of sent inside them.
   */
  UPLOAD_MAX_MB: z.coerce.number().positive().max(65_536).default(1_024),
  /** Hosts whose http(s) images chat requests may reference (data: URLs are always accepted). */
  IMAGE_URL_HOSTS: csv,
  /** How long one of those images may take to download, whole; a slower one is refused (400). */
  IMAGE_FETCH_TIMEOUT_MS: positiveInt.default(10_000),

  UPSTREAMS: upstreams,
  UPSTREAM_TIMEOUT_MS: positiveInt.default(120_000),
  /** The model `medgemma.analyze` jobs ask when they name none. */
  MEDGEMMA_MODEL: z.string().min(1).default('google/medgemma-4b-it'),
  /** Manifest model ids the local backend runs; empty: every manifest model present in MODELS_DIR. */
  LOCAL_MODELS: csv,
  /**
   * How long a live camera session (`/ws`, `/api/v1/realtime/*`) with no connection and no frames
   * is kept, for its client to reconnect and resume it.
   */
  REALTIME_IDLE_SECONDS: positiveInt.default(300),
  /** Task sessions unchanged this long are deleted (SQLite or Redis alike). */
  TASK_SESSION_RETENTION_DAYS: z.coerce.number().positive().default(30),

  /** Jobs run at once by this process; 0 leaves them to `npm run worker` processes. */
  JOB_CONCURRENCY: nonNegativeInt.default(1),
  /**
   * SQLite only: how often an idle worker looks for jobs anyway (enqueues wake workers over local
   * sockets; this catches a lost wake), and how often SSE followers see other processes' changes.
   */
  JOB_POLL_MS: positiveInt.default(100),
  /**
   * Where `npm run worker` serves its own /metrics and /health/live (0: a free port, logged);
   * unset: nowhere. The API's /metrics only counts the jobs its own process runs.
   */
  WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65_535).optional(),
  /** Jobs of one tenant run at once by all workers together; its other jobs wait while other tenants' run. */
  JOB_MAX_RUNNING_PER_TENANT: positiveInt.default(2),
  /** Jobs one tenant may have queued or running (its backlog); more are refused with 429. */
  JOB_MAX_QUEUED_PER_TENANT: positiveInt.default(100),
  JOB_RETENTION_HOURS: z.coerce.number().positive().default(24),

  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info')
});

/**
 * With a JWT key source, both claims must be pinned: otherwise a token the identity provider
 * signed for any other app (or that another issuer sharing the keys signed) would be accepted.
 */
const checkedSchema = schema.superRefine((config, context) => {
  if (config.JWT_SECRET === undefined && config.JWT_PUBLIC_KEY === undefined && config.JWT_JWKS_URL === undefined) {
    return;
  }
  for (const name of ['JWT_ISSUER', 'JWT_AUDIENCE'] as const) {
    if (!config[name]) {
      context.addIssue({
        code: 'custom',
        path: [name],
        message: 'required with JWT_SECRET, JWT_PUBLIC_KEY or JWT_JWKS_URL, so tokens meant for other apps are refused'
      });
    }
  }
});

export type Config = z.output<typeof schema> & { ALLOW_ANONYMOUS: boolean };

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

/** `BODY_LIMIT_MB` in bytes: the most a request may carry, inline images included. */
export const bodyLimitBytes = (config: Config): number => Math.round(config.BODY_LIMIT_MB * 1024 * 1024);

/** `UPLOAD_MAX_MB` in bytes: the most one upload may hold, over all its chunks. */
export const uploadMaxBytes = (config: Config): number => Math.round(config.UPLOAD_MAX_MB * 1024 * 1024);

/** Settings an earlier version read: refused with what replaced them, never silently ignored. */
const REPLACED: Record<string, string> = {
  JOB_MAX_ACTIVE_PER_TENANT:
    'replaced by JOB_MAX_QUEUED_PER_TENANT (jobs a tenant may have queued or running) and JOB_MAX_RUNNING_PER_TENANT (run at once)'
};

/** Reads and checks the environment; a bad value stops startup with a message naming it. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const result = checkedSchema.safeParse(env);
  const problems = [
    ...Object.entries(REPLACED)
      .filter(([name]) => env[name] !== undefined)
      .map(([name, replacement]) => `  ${name}: ${replacement}`),
    ...(result.error?.issues ?? []).map((issue) => `  ${issue.path.join('.') || '(env)'}: ${issue.message}`)
  ];
  if (!result.success || problems.length > 0) {
    throw new ConfigError(`Invalid configuration:\n${problems.join('\n')}`);
  }
  const config = result.data;
  return { ...config, ALLOW_ANONYMOUS: config.ALLOW_ANONYMOUS ?? LOOPBACK.has(config.HOST) };
}

/**
 * For entry points: starts from the configuration. A bad setting, whether in the environment or
 * found later (an API key entry, a JWT key), goes to stderr with exit code 2 and no stack trace.
 */
export async function startOrExit<T>(
  env: Record<string, string | undefined>,
  start: (config: Config) => Promise<T>
): Promise<T> {
  try {
    return await start(loadConfig(env));
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
}
