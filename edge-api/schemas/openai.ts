import { z } from '@hono/zod-openapi';
import { CAPABILITIES } from '../backends/backend.ts';
import { unsupportedIssue } from '../http/validation.ts';

const TextPart = z.object({ type: z.literal('text'), text: z.string() });
const ImagePart = z.object({
  type: z.literal('image_url'),
  image_url: z.object({
    url: z.string().min(1).openapi({ description: 'A data:image/… URL, or an https URL on an allowed host' }),
    detail: z.enum(['auto', 'low', 'high']).optional()
  })
});

export const ChatMessageSchema = z.object({
  role: z
    .enum(['system', 'developer', 'user', 'assistant'])
    .openapi({ description: '`developer` is what newer clients call `system`, and is read as one' }),
  content: z.union([z.string(), z.array(z.discriminatedUnion('type', [TextPart, ImagePart])).min(1)]),
  name: z.string().optional()
});

/**
 * An OpenAI parameter that would change the answer in a way this server cannot: refused with a
 * 400 naming it (`unsupported_parameter`, `message`) unless absent, null, or a value that changes nothing.
 */
function unsupported<T extends z.ZodType>(schema: T, changesNothing: (value: z.output<T>) => boolean, message: string) {
  return schema
    .nullish()
    .refine((value) => value === null || value === undefined || changesNothing(value), { message, ...unsupportedIssue })
    .openapi({ description: `${message}; refused (400) unless absent, null, or a value that changes nothing` });
}

/** Accepted because clients send it routinely, and ignored: the answer does not depend on it here. */
const ignored = <T extends z.ZodType>(schema: T) => schema.nullish().openapi({ description: 'Accepted and ignored' });

const tokenLimit = z.number().int().positive().max(8_192);

export const ChatCompletionRequestSchema = z
  .object({
    model: z.string().min(1).openapi({ example: 'google/medgemma-4b-it' }),
    messages: z.array(ChatMessageSchema).min(1),
    stream: z.boolean().nullish(),
    stream_options: z.object({ include_usage: z.boolean().nullish() }).nullish(),
    max_tokens: tokenLimit.nullish(),
    max_completion_tokens: tokenLimit
      .nullish()
      .openapi({ description: 'The same limit as `max_tokens`; with both, the smaller applies' }),
    temperature: z.number().min(0).max(2).nullish(),
    top_p: z.number().gt(0).max(1).nullish(),
    stop: z.union([z.string(), z.array(z.string()).max(4)]).nullish(),
    n: unsupported(
      z.number().int().min(1),
      (n) => n === 1,
      '`n` other than 1 is not supported: one choice is generated'
    ),
    user: ignored(z.string()),
    seed: ignored(z.number().int()),
    presence_penalty: ignored(z.number().min(-2).max(2)),
    frequency_penalty: ignored(z.number().min(-2).max(2)),
    metadata: ignored(z.record(z.string(), z.string())),
    store: ignored(z.boolean()),
    parallel_tool_calls: ignored(z.boolean()),
    response_format: unsupported(
      z.object({ type: z.enum(['text', 'json_object', 'json_schema']) }),
      (format) => format.type === 'text',
      '`response_format` other than `{ "type": "text" }` is not supported (no JSON mode, no structured outputs)'
    ),
    tools: unsupported(
      z.array(z.unknown()),
      (tools) => tools.length === 0,
      '`tools` are not supported (no function calling)'
    ),
    functions: unsupported(
      z.array(z.unknown()),
      (functions) => functions.length === 0,
      '`functions` are not supported (no function calling)'
    ),
    tool_choice: unsupported(
      z.unknown(),
      (choice) => choice === 'none' || choice === 'auto',
      '`tool_choice` other than none or auto is not supported (no function calling)'
    ),
    function_call: unsupported(
      z.unknown(),
      (call) => call === 'none' || call === 'auto',
      '`function_call` other than none or auto is not supported (no function calling)'
    ),
    logprobs: unsupported(z.boolean(), (wanted) => !wanted, '`logprobs` are not supported'),
    top_logprobs: unsupported(
      z.number().int().min(0).max(20),
      (count) => count === 0,
      '`top_logprobs` are not supported'
    ),
    logit_bias: unsupported(
      z.record(z.string(), z.number()),
      (bias) => Object.keys(bias).length === 0,
      '`logit_bias` is not supported'
    ),
    modalities: unsupported(
      z.array(z.string()),
      (kinds) => kinds.every((kind) => kind === 'text'),
      '`modalities` other than text are not supported'
    ),
    audio: unsupported(z.unknown(), () => false, '`audio` output is not supported'),
    prediction: unsupported(z.unknown(), () => false, '`prediction` (predicted outputs) is not supported')
  })
  .openapi('ChatCompletionRequest');

const UsageSchema = z
  .object({ prompt_tokens: z.number(), completion_tokens: z.number(), total_tokens: z.number() })
  .openapi('Usage');

export const ChatCompletionSchema = z
  .object({
    id: z.string(),
    object: z.literal('chat.completion'),
    created: z.number(),
    model: z.string(),
    choices: z.array(
      z.object({
        index: z.number(),
        message: z.object({ role: z.literal('assistant'), content: z.string() }),
        finish_reason: z.enum(['stop', 'length'])
      })
    ),
    usage: UsageSchema
  })
  .openapi('ChatCompletion');

export const ModelSchema = z
  .object({
    id: z.string(),
    object: z.literal('model'),
    created: z.number(),
    owned_by: z.string(),
    capabilities: z.array(z.enum(CAPABILITIES))
  })
  .openapi('Model');

export const ModelListSchema = z.object({ object: z.literal('list'), data: z.array(ModelSchema) }).openapi('ModelList');

export const EmbeddingRequestSchema = z
  .object({
    model: z.string().min(1),
    input: z.union([z.string().min(1), z.array(z.string().min(1)).min(1).max(256)]),
    encoding_format: z
      .enum(['float', 'base64'])
      .nullish()
      .openapi({ description: '`float` (the default) or `base64`: little-endian float32 bytes, as the SDKs ask' }),
    dimensions: z
      .number()
      .int()
      .positive()
      .nullish()
      .openapi({
        description:
          'Only where the model was trained for shorter embeddings (Matryoshka) and its server supports it, or the ' +
          "model's own size; otherwise a 400 naming `dimensions`"
      }),
    user: ignored(z.string())
  })
  .openapi('EmbeddingRequest');

export const EmbeddingListSchema = z
  .object({
    object: z.literal('list'),
    data: z.array(
      z.object({
        object: z.literal('embedding'),
        index: z.number(),
        embedding: z.union([z.array(z.number()), z.string()])
      })
    ),
    model: z.string(),
    usage: z.object({ prompt_tokens: z.number(), total_tokens: z.number() })
  })
  .openapi('EmbeddingList');

export type ChatCompletionRequest = z.infer<typeof ChatCompletionRequestSchema>;
export type EmbeddingRequest = z.infer<typeof EmbeddingRequestSchema>;
