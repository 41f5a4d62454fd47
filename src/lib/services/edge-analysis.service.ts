import type { EdgeModelList } from '#lib/core/edge-wire.ts';
import type { JobKindName } from '#lib/core/job-kinds.ts';
import type { EdgeClient } from './edge-client.ts';

/**
 * What a job kind asks of a model on the server: the capability its server handler needs, and the
 * models it is made for, preferred over any other model with that capability.
 */
const NEEDS: Record<JobKindName, { capability: string; preferred: RegExp }> = {
  'medgemma.analyze': { capability: 'vision', preferred: /medgemma/i }
};

/** Said where a job kind has no model on the server (the server's own message names its settings). */
export const NO_ANALYSIS_MODEL = 'The edge server has no model for detailed analysis.';

/** Refusals of a job that mean the server runs no model for it, whatever the server's wording. */
const NO_MODEL_CODES = new Set(['model_not_found', 'model_not_capable']);

/**
 * The model a job of `kind` runs on, from the server's list, or null when the server has none
 * that can. Jobs name it, so a server that serves one but whose default is another still answers.
 */
export function modelForJob(models: EdgeModelList['data'], kind: JobKindName): string | null {
  const { capability, preferred } = NEEDS[kind];
  const able = models.filter((model) => model.capabilities.includes(capability));
  return (able.find((model) => preferred.test(model.id)) ?? able[0])?.id ?? null;
}

/** {@link modelForJob} on the server `client` talks to. */
export async function serverModelForJob(client: EdgeClient, kind: JobKindName): Promise<string | null> {
  return modelForJob((await client.models()).data, kind);
}

/** Why a job failed, in the user's words where the server's are meant for its operator. */
export function jobProblemInWords(code: string | undefined, message: string): string {
  return code && NO_MODEL_CODES.has(code) ? NO_ANALYSIS_MODEL : message;
}
