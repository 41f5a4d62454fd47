import { z } from '@hono/zod-openapi';
import type { MedgemmaAnalyzeInput, MedgemmaAnalyzeResult, MedgemmaFinding } from '../../src/lib/core/edge-wire.ts';
import type { ChatRequest } from '../backends/backend.ts';
import { checkImageUrl, DEFAULT_MAX_TOKENS } from '../backends/chat-request.ts';
import type { BackendRegistry } from '../backends/registry.ts';
import { ApiError, unprocessable } from '../http/errors.ts';
import type { SameShape } from '../schemas/common.ts';
import { PermanentJobError } from '../jobs/job-queue.ts';
import type { WritableBlobStore } from '../storage/file-store.ts';
import { defineJobType, saveArtifact } from './job-type.ts';

export const MedgemmaAnalyzeInputSchema = z
  .object({
    images: z
      .array(
        z.object({
          url: z.string().min(1).openapi({ description: 'A data:image/… URL, or an https URL on an allowed host' }),
          timestamp_ms: z.number().int().nonnegative().optional()
        })
      )
      .min(1)
      .max(64)
      .openapi({ description: 'One image, or up to 64 video frames in order' }),
    prompt: z.string().min(1).max(4_000).optional(),
    model: z.string().min(1).optional(),
    max_tokens: z.number().int().positive().max(2_048).optional()
  })
  .openapi('MedgemmaAnalyzeInput');

const SYSTEM =
  'You are a careful medical imaging assistant. Describe what is visible, name findings precisely, ' +
  'and say plainly when something cannot be determined from the image. You do not give diagnoses.';
const DEFAULT_PROMPT = 'Describe the medically relevant findings in this image.';

export interface MedgemmaDeps {
  backends: BackendRegistry;
  /** The model asked when the job names none (e.g. `google/medgemma-4b-it`). */
  defaultModel: string;
  imageHosts: readonly string[];
  artifacts: WritableBlobStore;
}

/**
 * `medgemma.analyze`: MedGemma (or any vision chat model the API serves) looks at each image in
 * turn; a batch of frames ends with a summary across them. Result JSON plus a Markdown report.
 */
export function medgemmaAnalyze(deps: MedgemmaDeps) {
  return defineJobType({
    type: 'medgemma.analyze',
    summary: 'MedGemma analysis of one image or a batch of video frames',
    input: MedgemmaAnalyzeInputSchema,

    admit(input) {
      const model = input.model ?? deps.defaultModel;
      try {
        deps.backends.forModel(model, 'vision');
      } catch (error) {
        if (error instanceof ApiError) {
          throw unprocessable(
            `${error.message}. Point UPSTREAMS at a server that runs it, or set MEDGEMMA_MODEL to a vision model this API serves.`,
            error.code,
            'input.model'
          );
        }
        throw error;
      }
      input.images.forEach((image, i) => checkImageUrl(image.url, deps.imageHosts, `input.images.${i}.url`));
    },

    async run(input, job, context): Promise<MedgemmaAnalyzeResult> {
      const model = input.model ?? deps.defaultModel;
      const ask = async (request: Omit<ChatRequest, 'model' | 'maxTokens'>) => {
        try {
          const backend = deps.backends.forModel(model, 'vision');
          const { text } = await backend.chat(
            { ...request, model, maxTokens: input.max_tokens ?? DEFAULT_MAX_TOKENS },
            { signal: context.signal }
          );
          return text.trim();
        } catch (error) {
          // A refused request (unknown model, bad image) fails the same way on every retry.
          if (error instanceof ApiError && error.status < 500) {
            throw new PermanentJobError(error.message, error.code, { cause: error });
          }
          throw error;
        }
      };
      const batch = input.images.length > 1;
      const steps = input.images.length + (batch ? 1 : 0);
      const findings: MedgemmaFinding[] = [];
      for (const [index, image] of input.images.entries()) {
        await context.progress(index / steps, `Analysing image ${index + 1} of ${input.images.length}`);
        const text = await ask({
          messages: [
            { role: 'system', content: [{ type: 'text', text: SYSTEM }] },
            {
              role: 'user',
              content: [
                { type: 'image', url: image.url },
                { type: 'text', text: input.prompt ?? DEFAULT_PROMPT }
              ]
            }
          ]
        });
        findings.push({ index, timestamp_ms: image.timestamp_ms ?? null, text });
      }
      let summary = findings[0]?.text ?? '';
      if (batch) {
        await context.progress(input.images.length / steps, 'Summarising across frames');
        summary = await ask({
          messages: [
            { role: 'system', content: [{ type: 'text', text: SYSTEM }] },
            { role: 'user', content: [{ type: 'text', text: summaryPrompt(findings) }] }
          ]
        });
      }
      const result: MedgemmaAnalyzeResult = { model, findings, summary };
      await saveArtifact(deps.artifacts, job, 'report.md', report(result, input.prompt ?? DEFAULT_PROMPT));
      await context.progress(1, 'Done');
      return result;
    }
  });
}

const at = (finding: MedgemmaFinding) =>
  finding.timestamp_ms === null
    ? `Image ${finding.index + 1}`
    : `Frame at ${(finding.timestamp_ms / 1000).toFixed(1)} s`;

function summaryPrompt(findings: MedgemmaFinding[]): string {
  const lines = findings.map((finding) => `${at(finding)}: ${finding.text}`);
  return `These are findings from consecutive frames of one recording:\n\n${lines.join('\n')}\n\nSummarise them: what is consistently seen, and what changes over time.`;
}

function report(result: MedgemmaAnalyzeResult, prompt: string): string {
  const sections = result.findings.map((finding) => `## ${at(finding)}\n\n${finding.text}\n`);
  return `# MedGemma analysis\n\nModel: ${result.model}\n\nQuestion: ${prompt}\n\n# Summary\n\n${result.summary}\n\n${sections.join('\n')}`;
}

const inputShapesAgree: SameShape<z.input<typeof MedgemmaAnalyzeInputSchema>, MedgemmaAnalyzeInput> = true;
void inputShapesAgree;
