import { z } from '@hono/zod-openapi';
import { CAPABILITIES } from '../backends/backend.ts';

const TextPart = z.object({ type: z.literal('text'), text: z.string() });
const ImagePart = z.object({
  type: z.literal('image_url'),
  image_url: z.object({
    url: z.string().min(1).openapi({ description: 'A data:image/… URL, or an https URL on an allowed host' }),
    detail: z.enum(['auto', 'low', 'high']).optional()
  })
});

export const ChatMessageSchema = z.object({
  role: z.enum(['system', 'user', 'assistant']),
  content: z.union([z.string(), z.array(z.discriminatedUnion('type', [TextPart, ImagePart])).min(1)]),
  name: z.string().optional()
});

export const ChatCompletionRequestSchema = z
  .object({
    model: z.string().min(1).openapi({ example: 'google/medgemma-4b-it' }),
    messages: z.array(ChatMessageSchema).min(1),
    stream: z.boolean().default(false),
    stream_options: z.object({ include_usage: z.boolean().optional() }).optional(),
    max_tokens: z.number().int().positive().max(8_192).optional(),
    max_completion_tokens: z.number().int().positive().max(8_192).optional(),
    temperature: z.number().min(0).max(2).optional(),
    top_p: z.number().gt(0).max(1).optional(),
    stop: z.union([z.string(), z.array(z.string()).max(4)]).optional(),
    n: z.literal(1).optional().openapi({ description: 'Only one choice is generated' }),
    user: z.string().optional()
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

export const ModelListSchema = z
  .object({
    object: z.literal('list'),
    data: z.array(
      z.object({
        id: z.string(),
        object: z.literal('model'),
        created: z.number(),
        owned_by: z.string(),
        capabilities: z.array(z.enum(CAPABILITIES))
      })
    )
  })
  .openapi('ModelList');

export const EmbeddingRequestSchema = z
  .object({
    model: z.string().min(1),
    input: z.union([z.string().min(1), z.array(z.string().min(1)).min(1).max(256)]),
    encoding_format: z.literal('float').optional(),
    user: z.string().optional()
  })
  .openapi('EmbeddingRequest');

export const EmbeddingListSchema = z
  .object({
    object: z.literal('list'),
    data: z.array(z.object({ object: z.literal('embedding'), index: z.number(), embedding: z.array(z.number()) })),
    model: z.string(),
    usage: z.object({ prompt_tokens: z.number(), total_tokens: z.number() })
  })
  .openapi('EmbeddingList');

export type ChatCompletionRequest = z.infer<typeof ChatCompletionRequestSchema>;
