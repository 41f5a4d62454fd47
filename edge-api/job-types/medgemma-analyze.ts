import { z } from '@hono/zod-openapi';
import type { MedgemmaAnalyzeInput, MedgemmaAnalyzeResult, MedgemmaFinding } from '../../src/lib/core/edge-wire.ts';
import type { ChatRequest } from '../backends/backend.ts';
import { checkImageUrl, DEFAULT_MAX_TOKENS } from '../backends/chat-request.ts';
import type { Config } from '../config.ts';
import { ApiError, unprocessable } from '../http/errors.ts';
import { PermanentJobError } from '../jobs/job-queue.ts';
import type { SameShape } from '../schemas/common.ts';
import { defineJobType, saveArtifact } from './job-type.ts';
import { uploadIdOf, uploadInputs } from './upload-inputs.ts';

export const MedgemmaAnalyzeInputSchema = z
  .object({
    images: z
      .array(
        z.object({
          url: z.string().min(1).openapi({
            description:
              'A data:image/… URL, `upload:<id>` naming a complete upload (POST /v1/uploads), or an https URL on an allowed host'
          }),
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

export const MedgemmaAnalyzeResultSchema = z
  .object({
    model: z.string(),
    findings: z.array(z.object({ index: z.number().int(), timestamp_ms: z.number().nullable(), text: z.string() })),
    summary: z.string()
  })
  .openapi('MedgemmaAnalyzeResult');

const SYSTEM =
  'You are a careful medical imaging assistant. Describe what is visible, name findings precisely, ' +
  'and say plainly when something cannot be determined from the image. You do not give diagnoses.';
const DEFAULT_PROMPT = 'Describe the medically relevant findings in this image.';
/** The media types an image data: URL may have (the chat routes accept the same). */
const IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/webp', 'image/gif']);

const modelOf = (input: MedgemmaAnalyzeInput, config: Config) => input.model ?? config.MEDGEMMA_MODEL;

/**
 * `medgemma.analyze`: MedGemma (or any vision chat model the API serves) looks at each image in
 * turn; a batch of frames ends with a summary across them. Result JSON plus a Markdown report.
 */
export const medgemmaAnalyze = defineJobType({
  type: 'medgemma.analyze',
  summary: 'MedGemma analysis of one image or a batch of video frames',
  input: MedgemmaAnalyzeInputSchema,
  result: MedgemmaAnalyzeResultSchema,
  needs: {
    capability: 'vision',
    model: modelOf,
    fix: 'Point UPSTREAMS at a server that runs it, or set MEDGEMMA_MODEL to a vision model this API serves.'
  },

  handler({ config, backends, artifacts, uploads }) {
    const inputs = uploadInputs(uploads);
    /** What the model is shown: an upload becomes the data: URL it would have been sent as. */
    const imageUrl = async (tenant: string, url: string) => {
      if (uploadIdOf(url) === null) {
        return url;
      }
      const { upload, data } = await inputs.read(tenant, url);
      return `data:${upload.contentType};base64,${Buffer.from(data).toString('base64')}`;
    };

    return {
      async admit(input, { tenant }) {
        for (const [i, image] of input.images.entries()) {
          const param = `input.images.${i}.url`;
          if (uploadIdOf(image.url) === null) {
            checkImageUrl(image.url, config.IMAGE_URL_HOSTS, param);
            continue;
          }
          const upload = await inputs.check(tenant, image.url, param);
          if (!IMAGE_TYPES.has(upload.contentType)) {
            throw unprocessable(
              `The upload ${upload.id} is ${upload.contentType}, not a PNG, JPEG, WebP or GIF image (declare its filetype)`,
              'invalid_image_url',
              param
            );
          }
        }
      },

      async run(input, job, context): Promise<MedgemmaAnalyzeResult> {
        const model = modelOf(input, config);
        const ask = async (request: Omit<ChatRequest, 'model' | 'maxTokens'>) => {
          try {
            const backend = backends.forModel(model, 'vision');
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
                  { type: 'image', url: await imageUrl(job.tenant, image.url) },
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
        await saveArtifact(artifacts, job, 'report.md', report(result, input.prompt ?? DEFAULT_PROMPT));
        await context.progress(1, 'Done');
        return result;
      }
    };
  }
});

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

const shapesAgree: SameShape<z.input<typeof MedgemmaAnalyzeInputSchema>, MedgemmaAnalyzeInput> &
  SameShape<z.output<typeof MedgemmaAnalyzeResultSchema>, MedgemmaAnalyzeResult> = true;
void shapesAgree;
