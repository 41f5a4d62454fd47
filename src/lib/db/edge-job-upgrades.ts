import type { JobView, MedgemmaAnalyzeRequest } from '#lib/core/edge-wire.ts';
import type { EdgeJob } from './schema.ts';

/**
 * An edge job as versions 5 and 6 stored it: MedGemma only, about an observation, with one report.
 * Spelled out, so that later changes to EdgeJob leave it as it was.
 */
export interface EdgeJobV6 {
  id: string;
  idempotencyKey: string;
  request: MedgemmaAnalyzeRequest;
  observationId: number | null;
  label: string;
  server: string | null;
  serverId: string | null;
  job: JobView | null;
  report: string | null;
  problem: { message: string; code: string; final: boolean } | null;
  attempts: number;
  retryAt: number;
  outbox?: 1;
  createdAt: number;
  updatedAt: number;
}

/**
 * A version 6 job in the shape of version 7: its kind, its observation as its subject, its report
 * as its one artifact. Written with the names as they were then, not read from today's job kinds,
 * so later changes to those cannot change what this upgrade did.
 */
export function edgeJobV7(old: EdgeJobV6): EdgeJob {
  const { observationId, report, ...rest } = old;
  const offered = old.job?.artifacts.find((artifact) => artifact.name === 'report.md');
  return {
    ...rest,
    kind: 'medgemma.analyze',
    subject: observationId === null ? null : { kind: 'observation', id: observationId },
    artifacts:
      report === null
        ? []
        : [{ name: 'report.md', contentType: offered?.content_type ?? 'text/markdown', content: report }]
  };
}
