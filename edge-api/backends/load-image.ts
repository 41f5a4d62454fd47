import { RawImage } from '@huggingface/transformers';
import { ApiError, badRequest } from '../http/errors.ts';

/** Bounds on one image download, so a slow, endless or huge image cannot hold the server. */
export interface ImageLimits {
  /** The whole download, first byte to last. */
  timeoutMs: number;
  maxBytes: number;
}

const invalidImage = (message: string) => badRequest('invalid_image', message, 'messages');

/**
 * A data: URL or an allowlisted http(s) URL (the route checked both) as an image. A redirect is
 * refused rather than followed: the allowlist vouched for this URL only, and an allowed host
 * redirecting to 169.254.169.254 or a private address would otherwise reach it (SSRF). Every
 * failure is a 400 `invalid_image`, except the caller's own abort, which is passed on.
 */
export async function loadImage(url: string, limits: ImageLimits, signal: AbortSignal): Promise<RawImage> {
  const image = await download(url, limits, signal);
  try {
    return await RawImage.fromBlob(image);
  } catch {
    throw invalidImage('An image could not be decoded: send a PNG, JPEG, WebP or GIF');
  }
}

async function download(url: string, limits: ImageLimits, signal: AbortSignal): Promise<Blob> {
  const timeout = AbortSignal.timeout(limits.timeoutMs);
  try {
    const response = await fetch(url, { redirect: 'manual', signal: AbortSignal.any([signal, timeout]) });
    if (!response.ok) {
      await response.body?.cancel();
      throw invalidImage(
        response.status >= 300 && response.status < 400
          ? 'An image URL redirects, and redirects are not followed: link the image itself'
          : `An image could not be downloaded (HTTP ${response.status})`
      );
    }
    if (Number(response.headers.get('content-length')) > limits.maxBytes) {
      await response.body?.cancel();
      throw tooLarge(limits.maxBytes);
    }
    return await readCapped(response, limits.maxBytes);
  } catch (error) {
    if (error instanceof ApiError) {
      throw error;
    }
    if (signal.aborted) {
      throw signal.reason;
    }
    if (timeout.aborted) {
      throw invalidImage(`An image did not download within ${limits.timeoutMs / 1000} s`);
    }
    // The cause (DNS, refused connection, reset) would tell the client about this network's hosts.
    throw invalidImage('An image could not be downloaded');
  }
}

/** The body, but no more than `maxBytes` of it: a server may send more than it declared, or no length at all. */
async function readCapped(response: Response, maxBytes: number): Promise<Blob> {
  const parts: Uint8Array[] = [];
  let size = 0;
  for await (const part of response.body ?? []) {
    size += part.byteLength;
    if (size > maxBytes) {
      // Leaving the loop cancels the stream: nothing more is read.
      throw tooLarge(maxBytes);
    }
    parts.push(part);
  }
  return new Blob([Buffer.concat(parts, size)], { type: response.headers.get('content-type') ?? '' });
}

const tooLarge = (maxBytes: number) =>
  invalidImage(`An image is larger than ${(maxBytes / 1024 / 1024).toFixed(1)} MB, the most one request may carry`);
