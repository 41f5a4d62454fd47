import { z } from '@hono/zod-openapi';

export const UploadSchema = z
  .object({
    id: z.string(),
    object: z.literal('upload'),
    length: z.number().int().openapi({ description: 'Bytes declared at creation (Upload-Length)' }),
    offset: z.number().int().openapi({ description: 'Bytes received so far: where the next chunk starts' }),
    complete: z.boolean(),
    content_type: z.string().openapi({ description: 'From the `filetype` entry of Upload-Metadata' }),
    sha256: z.string().nullable().openapi({ description: 'Hex SHA-256 of the whole upload, once complete' }),
    reference: z.string().openapi({ description: 'What a job input names it by', example: 'upload:…' }),
    created_at: z.number().openapi({ description: 'Unix milliseconds' }),
    expires_at: z.number().openapi({ description: 'Unix milliseconds; also the Upload-Expires header' })
  })
  .openapi('Upload');

export const UploadIdParams = z.object({
  id: z.uuid().openapi({ param: { name: 'id', in: 'path' } })
});

export const UploadCreateHeaders = z.object({
  'upload-length': z.coerce
    .number()
    .int()
    .positive()
    .openapi({ description: 'The whole upload’s size in bytes, at most UPLOAD_MAX_MB' }),
  'upload-metadata': z
    .string()
    .optional()
    .openapi({ description: 'tus metadata: comma-separated `key base64(value)` pairs; `filetype` is the media type' })
});

export const UploadPatchHeaders = z.object({
  'upload-offset': z.coerce
    .number()
    .int()
    .nonnegative()
    .openapi({ description: 'Where this chunk starts: the offset the upload has reached' })
});
