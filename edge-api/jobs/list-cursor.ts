import { InvalidCursorError } from './job-queue.ts';

// Versioned so that the format can change without misreading cursors already handed out.
const FORMAT = /^v1:(\d{1,15})$/;

/** The opaque `next` of a `list` page: the position of its last job. */
export function encodeCursor(position: number): string {
  return Buffer.from(`v1:${position}`).toString('base64url');
}

/** The position inside a cursor from `encodeCursor`; `InvalidCursorError` for anything else. */
export function decodeCursor(cursor: string): number {
  const match = FORMAT.exec(Buffer.from(cursor, 'base64url').toString());
  if (!match) {
    throw new InvalidCursorError();
  }
  return Number(match[1]);
}
