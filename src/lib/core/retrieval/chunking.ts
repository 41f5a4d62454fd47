/** What the text came from: markdown headings shape the chunks; plain and HTML-extracted text have none. */
export type DocumentKind = 'markdown' | 'text' | 'html-text';

/** Where one page's text sits in the document text (e.g. from a PDF extractor), `end` exclusive. */
export interface PageSpan {
  page: number;
  start: number;
  end: number;
}

export interface ChunkOptions {
  kind: DocumentKind;
  /** Page spans, for documents that have pages; chunks never straddle a page boundary. */
  pages?: readonly PageSpan[];
  /** Longest chunk in UTF-16 code units. Default 1000. */
  maxChars?: number;
  /** How much of the previous chunk's tail the next chunk of a section repeats. Default 150, at most maxChars / 2. */
  overlapChars?: number;
}

/** A passage to embed and cite. `text === source.slice(start, end)`, so a citation can highlight it exactly. */
export interface Chunk {
  text: string;
  start: number;
  end: number;
  /** Titles of the enclosing markdown headings, outermost first; empty outside any heading. */
  headingPath: string[];
  /** Page of the passage, when pages were given and it lies on one. */
  page?: number;
  /** Position in the document's chunk list. */
  index: number;
}

interface Range {
  start: number;
  end: number;
}

interface Section extends Range {
  headingPath: string[];
  /** Where the text after the heading line begins (equal to `start` without a heading). */
  bodyStart: number;
}

interface Heading {
  lineStart: number;
  lineEnd: number;
  level: number;
  title: string;
}

const ATX_HEADING = /^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/;
const SETEXT_UNDERLINE = /^ {0,3}(=+|-+)[ \t]*$/;
const FENCE = /^ {0,3}(`{3,}|~{3,})/;
/** A blank line, or a run of them, between two paragraphs. */
const PARAGRAPH_BREAK = /\n(?:[ \t\r\f\v]*\n)+/g;
/** Where a sentence may end: terminators, closing quotes/brackets, then space (or a CJK terminator). */
const SENTENCE_END = /[.!?…]+['"’”)\]]*\s+|[。！？]+\s*/g;
const LINE_END = /\n/g;
const WORD_END = /\s+/g;
/** A clean place for a chunk to begin: after a sentence end or a line break. */
const CLEAN_START = /(?:[.!?…]+['"’”)\]]*\s+|[。！？]+\s*|\n\s*)(?=\S)/g;
const WORD_START = /\s+(?=\S)/g;

/**
 * Splits a document into overlapping passages for embedding.
 *
 * Structure first, size second: markdown headings cut sections (a heading with no text of its own
 * joins the section after it), blank lines cut paragraphs, and only a paragraph longer than
 * `maxChars` is cut further, at sentence ends, then line breaks, then spaces, then anywhere.
 * Whole pieces are then packed greedily up to `maxChars`. Each chunk after the first in a section
 * starts up to `overlapChars` back inside the previous one, at a sentence or word start, so a
 * fact straddling the cut is whole in at least one chunk.
 */
export function chunkDocument(text: string, options: ChunkOptions): Chunk[] {
  const maxChars = Math.max(1, Math.floor(options.maxChars ?? 1000));
  const overlapChars = Math.min(Math.max(0, Math.floor(options.overlapChars ?? 150)), Math.floor(maxChars / 2));
  const fences: Range[] = [];
  let sections: Section[] =
    options.kind === 'markdown'
      ? markdownSections(text, fences)
      : [{ start: 0, end: text.length, headingPath: [], bodyStart: 0 }];
  const pages = options.pages ? [...options.pages].sort((a, b) => a.start - b.start) : undefined;
  if (pages) {
    sections = splitAtPages(sections, pages);
  }

  const chunks: Chunk[] = [];
  for (const section of sections) {
    const units: Range[] = [];
    for (const paragraph of paragraphs(text, section, fences)) {
      splitLong(text, paragraph, maxChars, 0, units);
    }
    for (const range of pack(text, units, maxChars, overlapChars)) {
      const chunk: Chunk = {
        text: text.slice(range.start, range.end),
        start: range.start,
        end: range.end,
        headingPath: [...section.headingPath],
        index: chunks.length
      };
      const page = pages && pageAt(pages, range.start);
      if (page !== undefined) {
        chunk.page = page;
      }
      chunks.push(chunk);
    }
  }
  return chunks;
}

/**
 * Markdown sections, one per ATX (`## Title`) or single-line setext heading, plus the text before
 * the first heading. Fenced code blocks are recorded in `fences`: a `#` or a blank line inside
 * one is code, not structure.
 */
function markdownSections(text: string, fences: Range[]): Section[] {
  const headings: Heading[] = [];
  let fence: { marker: string; start: number } | undefined;
  // The previous line, if it could be a setext heading's text (a one-line paragraph).
  let setextCandidate: { start: number; title: string } | undefined;
  let previousBlank = true;
  for (let lineStart = 0; lineStart <= text.length;) {
    const newline = text.indexOf('\n', lineStart);
    const lineEnd = newline < 0 ? text.length : newline;
    const line = text.slice(lineStart, lineEnd).replace(/\r$/, '');
    const next = lineEnd + 1;
    const blank = line.trim() === '';
    let candidate: typeof setextCandidate;
    const fenceMatch = FENCE.exec(line);
    if (fence) {
      const closing = fenceMatch?.[1];
      if (
        closing &&
        closing[0] === fence.marker[0] &&
        closing.length >= fence.marker.length &&
        line.trim() === closing
      ) {
        fences.push({ start: fence.start, end: lineEnd });
        fence = undefined;
      }
    } else if (fenceMatch) {
      fence = { marker: fenceMatch[1]!, start: lineStart };
    } else {
      const atx = ATX_HEADING.exec(line);
      const underline = SETEXT_UNDERLINE.exec(line);
      if (atx && atx[2]!.trim() !== '') {
        headings.push({ lineStart, lineEnd, level: atx[1]!.length, title: atx[2]!.trim() });
      } else if (underline && setextCandidate) {
        const level = underline[1]!.startsWith('=') ? 1 : 2;
        headings.push({ lineStart: setextCandidate.start, lineEnd, level, title: setextCandidate.title });
      } else if (!blank && previousBlank) {
        candidate = { start: lineStart, title: line.trim() };
      }
    }
    setextCandidate = candidate;
    previousBlank = blank;
    lineStart = next;
  }
  if (fence) {
    fences.push({ start: fence.start, end: text.length });
  }

  const sections: Section[] = [];
  const firstStart = headings[0]?.lineStart ?? text.length;
  if (firstStart > 0) {
    sections.push({ start: 0, end: firstStart, headingPath: [], bodyStart: 0 });
  }
  const stack: Heading[] = [];
  headings.forEach((heading, i) => {
    while (stack.length > 0 && stack[stack.length - 1]!.level >= heading.level) {
      stack.pop();
    }
    stack.push(heading);
    sections.push({
      start: heading.lineStart,
      end: headings[i + 1]?.lineStart ?? text.length,
      headingPath: stack.map((h) => h.title),
      bodyStart: Math.min(heading.lineEnd + 1, text.length)
    });
  });

  // A heading with no text of its own ("# Guide" straight before "## Install") would make a
  // useless one-line chunk: fold it into the section that follows.
  const merged: Section[] = [];
  let carried: number | undefined;
  sections.forEach((section, i) => {
    if (carried !== undefined) {
      section.start = carried;
      carried = undefined;
    }
    if (section.bodyStart > section.start && i < sections.length - 1 && isBlank(text, section.bodyStart, section.end)) {
      carried = section.start;
      return;
    }
    merged.push(section);
  });
  return merged;
}

/** Cuts sections at page boundaries, so every chunk cites exactly one page. */
function splitAtPages(sections: Section[], pages: readonly PageSpan[]): Section[] {
  const cuts = [...new Set(pages.flatMap((p) => [p.start, p.end]))].sort((a, b) => a - b);
  const out: Section[] = [];
  for (const section of sections) {
    let start = section.start;
    for (const cut of cuts) {
      if (cut > start && cut < section.end) {
        out.push({ ...section, start, end: cut });
        start = cut;
      }
    }
    out.push({ ...section, start, end: section.end });
  }
  return out;
}

/** Page whose span holds `offset`, by binary search over spans sorted by start. */
function pageAt(pages: readonly PageSpan[], offset: number): number | undefined {
  let lo = 0;
  let hi = pages.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const page = pages[mid]!;
    if (offset < page.start) {
      hi = mid - 1;
    } else if (offset >= page.end) {
      lo = mid + 1;
    } else {
      return page.page;
    }
  }
  return undefined;
}

/** Trimmed, non-empty paragraphs of a range: runs of text between blank lines outside code fences. */
function paragraphs(text: string, range: Range, fences: readonly Range[]): Range[] {
  const out: Range[] = [];
  let start = range.start;
  PARAGRAPH_BREAK.lastIndex = range.start;
  for (let match = PARAGRAPH_BREAK.exec(text); match && match.index < range.end; match = PARAGRAPH_BREAK.exec(text)) {
    const at = match.index;
    if (insideFence(fences, at)) {
      continue;
    }
    pushTrimmed(text, start, Math.min(at, range.end), out);
    start = Math.min(at + match[0].length, range.end);
  }
  pushTrimmed(text, start, range.end, out);
  return out;
}

/** Boundary patterns for cutting an over-long paragraph, coarsest first. */
const SPLITTERS = [SENTENCE_END, LINE_END, WORD_END];

/**
 * Appends `range` to `out` if it fits in `maxChars`, else cuts it at the boundaries of
 * `SPLITTERS[level]` and recurses into pieces that are still too long. Past the last splitter
 * (e.g. a URL or CJK run with no spaces), cuts every `maxChars`, never inside a surrogate pair.
 */
function splitLong(text: string, range: Range, maxChars: number, level: number, out: Range[]): void {
  if (range.end - range.start <= maxChars) {
    out.push(range);
    return;
  }
  const splitter = SPLITTERS[level];
  if (splitter === undefined) {
    for (let start = range.start; start < range.end;) {
      let end = Math.min(start + maxChars, range.end);
      if (end < range.end && isLowSurrogate(text.charCodeAt(end)) && end - 1 > start) {
        end -= 1;
      }
      pushTrimmed(text, start, end, out);
      start = end;
    }
    return;
  }
  const pieces: Range[] = [];
  let start = range.start;
  splitter.lastIndex = range.start;
  for (let match = splitter.exec(text); match && match.index < range.end; match = splitter.exec(text)) {
    const cut = Math.min(match.index + match[0].length, range.end);
    pushTrimmed(text, start, cut, pieces);
    start = cut;
  }
  pushTrimmed(text, start, range.end, pieces);
  if (pieces.length <= 1) {
    splitLong(text, range, maxChars, level + 1, out);
    return;
  }
  for (const piece of pieces) {
    splitLong(text, piece, maxChars, level + 1, out);
  }
}

/**
 * Greedily packs consecutive units (each at most `maxChars`) into chunks of at most `maxChars`,
 * starting each chunk after the first up to `overlapChars` back inside the previous one.
 */
function pack(text: string, units: readonly Range[], maxChars: number, overlapChars: number): Range[] {
  const chunks: Range[] = [];
  let i = 0;
  let start = units[0]?.start ?? 0;
  while (i < units.length) {
    let end = units[i]!.end;
    while (i + 1 < units.length && units[i + 1]!.end - start <= maxChars) {
      i += 1;
      end = units[i]!.end;
    }
    chunks.push({ start, end });
    i += 1;
    const nextUnit = units[i];
    if (nextUnit === undefined) {
      break;
    }
    // The overlap may not push the next chunk past maxChars once its first unit is in.
    const lo = Math.max(start + 1, end - overlapChars, nextUnit.end - maxChars);
    start = overlapChars > 0 && lo < end ? (overlapStart(text, lo, end) ?? nextUnit.start) : nextUnit.start;
  }
  return chunks;
}

/** The earliest sentence or line start in `[lo, hi)`, else the earliest word start, else none. */
function overlapStart(text: string, lo: number, hi: number): number | undefined {
  for (const pattern of [CLEAN_START, WORD_START]) {
    // Back up a little so a boundary that begins before `lo` but ends inside the window is seen.
    pattern.lastIndex = Math.max(0, lo - 8);
    for (let match = pattern.exec(text); match && match.index < hi; match = pattern.exec(text)) {
      const at = match.index + match[0].length;
      if (at >= hi) {
        break;
      }
      if (at >= lo) {
        return at;
      }
    }
  }
  return undefined;
}

/** Whether `at` falls inside one of the (sorted, disjoint) fenced code blocks. */
function insideFence(fences: readonly Range[], at: number): boolean {
  let lo = 0;
  let hi = fences.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const fence = fences[mid]!;
    if (at <= fence.start) {
      hi = mid - 1;
    } else if (at >= fence.end) {
      lo = mid + 1;
    } else {
      return true;
    }
  }
  return false;
}

function pushTrimmed(text: string, start: number, end: number, out: Range[]): void {
  while (start < end && isSpace(text.charCodeAt(start))) {
    start += 1;
  }
  while (end > start && isSpace(text.charCodeAt(end - 1))) {
    end -= 1;
  }
  if (end > start) {
    out.push({ start, end });
  }
}

function isBlank(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i += 1) {
    if (!isSpace(text.charCodeAt(i))) {
      return false;
    }
  }
  return true;
}

/** The characters `\s` matches, without a regex per character. */
function isSpace(code: number): boolean {
  return (
    code === 32 ||
    (code >= 9 && code <= 13) ||
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000 ||
    code === 0xfeff
  );
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}
