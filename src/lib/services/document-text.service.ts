import { looksBinary, type DocumentFormat } from '#lib/core/document-format.ts';
import { DocumentImportError } from '#lib/core/errors.ts';
import type { PageSpan } from '#lib/core/retrieval/index.ts';

export interface ExtractedText {
  /** Markdown-like text: HTML headings become `#` lines so chunking keeps the heading path. */
  text: string;
  pages?: PageSpan[];
}

/** The searchable text of a document, or a DocumentImportError that says what is wrong with it. */
export async function extractText(name: string, format: DocumentFormat, bytes: Uint8Array): Promise<ExtractedText> {
  const extracted = format === 'pdf' ? await pdfText(name, bytes) : { text: plainText(name, format, bytes) };
  if (!extracted.text.trim()) {
    throw new DocumentImportError(
      format === 'pdf'
        ? `"${name}" has no text layer (a scanned PDF needs OCR first)`
        : `"${name}" has no text to search`
    );
  }
  return extracted;
}

function plainText(name: string, format: DocumentFormat, bytes: Uint8Array): string {
  if (looksBinary(bytes)) {
    throw new DocumentImportError(`"${name}" looks like a binary file, not text`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (error) {
    throw new DocumentImportError(`"${name}" is not UTF-8 text`, { cause: error });
  }
  return format === 'html' ? htmlToText(text) : text;
}

const BLOCKS = 'p, div, section, article, li, tr, blockquote, pre, table, ul, ol, br';

/** Visible text of an HTML page with its structure kept: headings as `#` lines, blocks as paragraphs. */
function htmlToText(html: string): string {
  const doc = new DOMParser().parseFromString(html, 'text/html');
  doc.querySelectorAll('script, style, noscript, template').forEach((node) => node.remove());
  doc.querySelectorAll('h1, h2, h3, h4, h5, h6').forEach((heading) => {
    const level = Number(heading.tagName[1]);
    heading.replaceWith(`\n\n${'#'.repeat(level)} ${heading.textContent?.trim() ?? ''}\n\n`);
  });
  doc.querySelectorAll(BLOCKS).forEach((block) => block.append('\n\n'));
  return (doc.body?.textContent ?? '')
    .replace(/[ \t]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

async function pdfText(name: string, bytes: Uint8Array): Promise<ExtractedText> {
  // Loaded on the first PDF only: pdf.js is large and most imports are text. unpdf ships pdf.js
  // without the optional native canvas packages, which a clean install could not fetch everywhere.
  const { extractText: pdfPages, getDocumentProxy } = await import('unpdf');
  let pdf;
  try {
    // pdf.js takes ownership of the buffer it is given: hand it a copy.
    pdf = await getDocumentProxy(bytes.slice());
  } catch (error) {
    throw new DocumentImportError(`"${name}" could not be read as a PDF (damaged or not a PDF)`, { cause: error });
  }
  try {
    const { text: pageTexts } = await pdfPages(pdf, { mergePages: false });
    let text = '';
    const pages = pageTexts.map((pageText, i) => {
      const start = text.length;
      text += pageText;
      const span = { page: i + 1, start, end: text.length };
      text += '\n\n';
      return span;
    });
    return { text, pages };
  } finally {
    await pdf.loadingTask.destroy();
  }
}
