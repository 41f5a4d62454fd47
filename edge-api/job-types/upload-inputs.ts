import { unprocessable } from '../http/errors.ts';
import { PermanentJobError } from '../jobs/job-queue.ts';
import type { Upload, UploadStore } from '../storage/upload-store.ts';

const UPLOAD_REFERENCE = /^upload:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

/** The id an `upload:<id>` reference names; null for any other string (a data: or https URL). */
export const uploadIdOf = (reference: string): string | null => UPLOAD_REFERENCE.exec(reference)?.[1] ?? null;

/**
 * `upload:<id>` references in job inputs: large inputs sent beforehand through `/v1/uploads`
 * instead of inside the job's JSON. A tenant reaches only its own uploads.
 */
export interface UploadInputs {
  /** At submission: the reference names a complete upload of the tenant's; else a 422 at `param`. */
  check(tenant: string, reference: string, param: string): Promise<Upload>;
  /** In a handler: the upload's bytes; the job fails for good when the upload has expired since. */
  read(tenant: string, reference: string): Promise<{ upload: Upload; data: Uint8Array }>;
}

/** Resolves `upload:` references against the upload store. */
export function uploadInputs(uploads: UploadStore): UploadInputs {
  return {
    async check(tenant, reference, param) {
      const id = uploadIdOf(reference);
      const upload = id === null ? null : await uploads.get(tenant, id);
      if (!upload) {
        throw unprocessable(
          `No upload ${id ?? reference}: upload it with POST /v1/uploads first`,
          'upload_not_found',
          param
        );
      }
      if (upload.sha256 === null) {
        throw unprocessable(
          `The upload ${upload.id} has ${upload.offset} of its ${upload.length} bytes: finish it before using it`,
          'upload_incomplete',
          param
        );
      }
      return upload;
    },

    async read(tenant, reference) {
      const id = uploadIdOf(reference);
      const found = id === null ? null : await uploads.bytes(tenant, id);
      if (!found) {
        throw new PermanentJobError(
          `The upload ${id ?? reference} has expired or was never completed`,
          'upload_not_found'
        );
      }
      return found;
    }
  };
}
