import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { ApiError, notFound, unprocessable } from '../http/errors.ts';
import { apiRouter } from '../http/validation.ts';
import { errorResponses, jsonResponse } from '../schemas/common.ts';
import { UploadCreateHeaders, UploadIdParams, UploadPatchHeaders, UploadSchema } from '../schemas/uploads.ts';
import type { AuthEnv } from '../security/principal.ts';
import { UploadError, type Upload, type UploadStore } from '../storage/upload-store.ts';

/** The tus protocol version these routes follow (the core protocol, with creation and expiration). */
const TUS_VERSION = '1.0.0';
const CHUNK_TYPE = 'application/offset+octet-stream';
const MEDIA_TYPE = /^[\w.+-]+\/[\w.+-]+$/;

const create = createRoute({
  method: 'post',
  path: '/',
  summary: 'Start a resumable upload (tus 1.0 creation): its size now, its bytes in chunks after',
  description:
    'For inputs too large to send inside a job (a video’s frames, a large scan). Send no body; the ' +
    '`Location` header is where the chunks go. Kept JOB_RETENTION_HOURS after creation, or after completion.',
  request: { headers: UploadCreateHeaders },
  responses: { 201: jsonResponse(UploadSchema, 'Created, at offset 0'), ...errorResponses(401, 413, 422, 429) }
});

const get = createRoute({
  method: 'get',
  path: '/{id}',
  summary: 'Where an upload stands (HEAD: the same headers, for a tus client resuming)',
  description:
    '`Upload-Offset` is where to resume. Asking stops a chunk still being received for this upload: a ' +
    'client asks after giving up on that connection.',
  request: { params: UploadIdParams },
  responses: { 200: jsonResponse(UploadSchema, 'The upload'), ...errorResponses(401, 404, 422, 429) }
});

const append = createRoute({
  method: 'patch',
  path: '/{id}',
  summary: 'Send the next chunk (tus 1.0 PATCH), streamed to storage as it arrives',
  description:
    'At most BODY_LIMIT_MB per chunk. What arrives before a dropped connection is kept: ask where the upload ' +
    'stands, then resume from there. The last chunk completes it and its SHA-256 is taken.',
  request: {
    params: UploadIdParams,
    headers: UploadPatchHeaders,
    body: { content: { [CHUNK_TYPE]: { schema: z.string().openapi({ format: 'binary' }) } }, required: true }
  },
  responses: {
    204: { description: 'Stored; `Upload-Offset` is the new offset' },
    ...errorResponses(401, 404, 409, 413, 415, 422, 429)
  }
});

/** `/v1/uploads`: resumable chunked uploads of large job inputs, after tus 1.0. Tenants reach only their own. */
export function uploadRoutes(deps: { uploads: UploadStore }) {
  const found = (upload: Upload | null, id: string): Upload => {
    if (!upload) {
      throw notFound(`No upload ${id}`, 'upload_not_found');
    }
    return upload;
  };

  const router = apiRouter<AuthEnv>();
  router.use(async (c, next) => {
    await next();
    c.res.headers.set('tus-resumable', TUS_VERSION);
  });
  return router
    .openapi(create, async (c) => {
      const headers = c.req.valid('header');
      const upload = await deps.uploads
        .create(c.get('principal').tenant, {
          length: headers['upload-length'],
          contentType: contentTypeOf(headers['upload-metadata'])
        })
        .catch(asApiError);
      c.header('location', `/v1/uploads/${upload.id}`);
      setProgressHeaders(c, upload);
      return c.json(uploadView(upload), 201);
    })
    .openapi(get, async (c) => {
      const { id } = c.req.valid('param');
      const upload = found(await deps.uploads.settle(c.get('principal').tenant, id), id);
      setProgressHeaders(c, upload);
      c.header('cache-control', 'no-store');
      return c.json(uploadView(upload), 200);
    })
    .openapi(append, async (c) => {
      if (c.req.header('content-type') !== CHUNK_TYPE) {
        throw new ApiError(415, 'unsupported_media_type', `Send a chunk as ${CHUNK_TYPE}`);
      }
      const { id } = c.req.valid('param');
      const offset = c.req.valid('header')['upload-offset'];
      const body = c.req.raw.body ?? new Blob().stream();
      const upload = await deps.uploads.append(c.get('principal').tenant, id, offset, body).catch(asApiError);
      setProgressHeaders(c, found(upload, id));
      return c.body(null, 204);
    });
}

/** An upload as the routes answer it; `reference` is what job inputs name it by. */
function uploadView(upload: Upload): z.infer<typeof UploadSchema> {
  return {
    id: upload.id,
    object: 'upload',
    length: upload.length,
    offset: upload.offset,
    complete: upload.sha256 !== null,
    content_type: upload.contentType,
    sha256: upload.sha256,
    reference: `upload:${upload.id}`,
    created_at: upload.createdAt,
    expires_at: upload.expiresAt
  };
}

function setProgressHeaders(c: Context, upload: Upload): void {
  c.header('upload-offset', String(upload.offset));
  c.header('upload-length', String(upload.length));
  c.header('upload-expires', new Date(upload.expiresAt).toUTCString());
}

/** A store refusal as the client sees it, with the offset to resume from. */
function asApiError(error: unknown): never {
  if (error instanceof UploadError) {
    const headers = { 'upload-offset': String(error.offset) };
    throw new ApiError(error.code === 'upload_offset_mismatch' ? 409 : 413, error.code, error.message, { headers });
  }
  throw error;
}

/** The media type from tus `Upload-Metadata` (`filetype`, as tus clients send it); bytes when not given. */
function contentTypeOf(metadata: string | undefined): string {
  const entries = (metadata ?? '')
    .split(',')
    .map((pair) => pair.trim().split(' '))
    .filter(([key]) => key);
  const value = entries.find(([key]) => key === 'filetype')?.[1];
  if (value === undefined) {
    return 'application/octet-stream';
  }
  const type = Buffer.from(value, 'base64').toString('utf8');
  if (!MEDIA_TYPE.test(type)) {
    throw unprocessable(
      'Upload-Metadata filetype must be a media type, base64-encoded',
      'invalid_upload_metadata',
      'upload-metadata'
    );
  }
  return type.toLowerCase();
}
