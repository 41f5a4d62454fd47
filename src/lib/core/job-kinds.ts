/**
 * The kinds of edge job the app knows: what each sends, what a completed one answers, and which of
 * its artifacts is the report the device keeps. One entry per kind; the outbox, the lists and the
 * server read the same entry, so a new engine is one entry here and its server handler.
 */
import * as z from 'zod/mini';
import type { JobRequest, JobView, MedgemmaAnalyzeInput, MedgemmaAnalyzeResult } from './edge-wire.ts';

export interface JobKind<Input, Result> {
  /** The engine's name as the user sees it (e.g. on the button that sends a job). */
  label: string;
  /** A job's `input`, with the limits the server enforces. */
  input: z.ZodMiniType<Input>;
  /** A completed job's `result`. */
  result: z.ZodMiniType<Result>;
  /** The artifact that is the human-readable report: the device keeps it, so it reads offline. */
  report: string;
}

const positiveInt = z.number().check(z.int(), z.positive());

const medgemmaAnalyzeInput: z.ZodMiniType<MedgemmaAnalyzeInput> = z.object({
  /** One image, or up to 64 video frames in order: data:image/… URLs, `upload:<id>` names, or https URLs on allowed hosts. */
  images: z
    .array(
      z.object({
        url: z.string().check(z.minLength(1)),
        timestamp_ms: z.optional(z.number().check(z.int(), z.nonnegative()))
      })
    )
    .check(z.minLength(1), z.maxLength(64)),
  prompt: z.optional(z.string().check(z.minLength(1), z.maxLength(4_000))),
  model: z.optional(z.string().check(z.minLength(1))),
  max_tokens: z.optional(positiveInt.check(z.lte(2_048)))
});

const medgemmaAnalyzeResult: z.ZodMiniType<MedgemmaAnalyzeResult> = z.object({
  model: z.string(),
  findings: z.array(
    z.object({ index: z.number().check(z.int()), timestamp_ms: z.nullable(z.number()), text: z.string() })
  ),
  summary: z.string()
});

export const JOB_KINDS = {
  'medgemma.analyze': {
    label: 'MedGemma',
    input: medgemmaAnalyzeInput,
    result: medgemmaAnalyzeResult,
    report: 'report.md'
  }
} satisfies Record<string, JobKind<unknown, unknown>>;

export type JobKindName = keyof typeof JOB_KINDS;
export type JobInputOf<K extends JobKindName> = z.output<(typeof JOB_KINDS)[K]['input']>;
export type JobResultOf<K extends JobKindName> = z.output<(typeof JOB_KINDS)[K]['result']>;

/** A request for a job of one of the kinds the app knows. */
export type KnownJobRequest = { [K in JobKindName]: JobRequest<K, JobInputOf<K>> }[JobKindName];

/** Whether the app knows jobs of this type (the server may run others, sent from elsewhere). */
export const isJobKind = (type: string): type is JobKindName => Object.hasOwn(JOB_KINDS, type);

/** The report artifact of jobs of this type; null for a type the app does not know. */
export const reportArtifactOf = (type: string): string | null => (isJobKind(type) ? JOB_KINDS[type].report : null);

/** A completed job's result, if the job is of `kind` and its result has that kind's shape. */
export function resultOf<K extends JobKindName>(kind: K, job: JobView | null): JobResultOf<K> | null {
  if (job?.type !== kind || job.state !== 'completed') {
    return null;
  }
  const parsed = JOB_KINDS[kind].result.safeParse(job.result);
  // TypeScript does not follow `kind` through the registry's type: the schema is `kind`'s own.
  return parsed.success ? (parsed.data as JobResultOf<K>) : null;
}
