/**
 * Which documents the knowledge base takes, and the checks that refuse bad ones before any work
 * is done: pure, so the same rules hold in the page, a worker and the edge API.
 */
import { DocumentImportError } from './errors.ts';

export type DocumentFormat = 'text' | 'markdown' | 'html' | 'pdf';

/** Bigger files are refused up front: chunking and embedding them would take many minutes on a phone. */
export const MAX_DOCUMENT_BYTES = 50 * 1024 * 1024;

const BY_EXTENSION: Record<string, DocumentFormat> = {
  txt: 'text',
  text: 'text',
  md: 'markdown',
  markdown: 'markdown',
  html: 'html',
  htm: 'html',
  pdf: 'pdf'
};

/** The format of a file by its name (the type a browser reports for .md is unreliable), or an error saying what is accepted. */
export function documentFormat(name: string, bytes: number): DocumentFormat {
  const extension = name.toLowerCase().split('.').pop() ?? '';
  const format = BY_EXTENSION[extension];
  if (!format) {
    throw new DocumentImportError(`"${name}" is not a supported document: use .txt, .md, .html or .pdf`);
  }
  if (bytes === 0) {
    throw new DocumentImportError(`"${name}" is empty`);
  }
  if (bytes > MAX_DOCUMENT_BYTES) {
    const mb = (n: number) => Math.round(n / 1024 / 1024);
    throw new DocumentImportError(
      `"${name}" is ${mb(bytes)} MB; documents up to ${mb(MAX_DOCUMENT_BYTES)} MB are taken`
    );
  }
  return format;
}

/**
 * Text files with NUL bytes or many control characters are binary files renamed: embedding them
 * would fill the base with noise. Checks the first 8 KB.
 */
export function looksBinary(bytes: Uint8Array): boolean {
  const sample = bytes.subarray(0, 8192);
  let control = 0;
  for (const byte of sample) {
    if (byte === 0) {
      return true;
    }
    // Tab, line feed, form feed and carriage return are text.
    if (byte < 32 && byte !== 9 && byte !== 10 && byte !== 12 && byte !== 13) {
      control += 1;
    }
  }
  return control > sample.length * 0.1;
}
