import { describe, expect, it } from 'vitest';
import { chunkDocument, type Chunk, type ChunkOptions } from '#lib/core/retrieval/index.ts';
import { mulberry32 } from './fixtures/retrieval-random.ts';

/** Invariants every chunking must keep, whatever the input. */
function expectSound(text: string, chunks: Chunk[], options: ChunkOptions): void {
  const maxChars = options.maxChars ?? 1000;
  chunks.forEach((chunk, i) => {
    expect(text.slice(chunk.start, chunk.end)).toBe(chunk.text);
    expect(chunk.index).toBe(i);
    expect(chunk.text.length).toBeGreaterThan(0);
    expect(chunk.text.length).toBeLessThanOrEqual(maxChars);
    expect(chunk.text).toBe(chunk.text.trim());
    if (i > 0) {
      expect(chunk.start).toBeGreaterThan(chunks[i - 1]!.start);
    }
  });
  // Nothing is lost: every non-space character lies in some chunk.
  const covered = new Uint8Array(text.length);
  for (const chunk of chunks) {
    covered.fill(1, chunk.start, chunk.end);
  }
  for (let i = 0; i < text.length; i += 1) {
    if (covered[i] === 0 && /\S/.test(text[i]!)) {
      throw new Error(`character ${i} (${JSON.stringify(text.slice(i, i + 20))}) is in no chunk`);
    }
  }
}

/** Deterministic prose: sentences of 4–14 words. */
function prose(sentences: number, seed: number): string {
  const random = mulberry32(seed);
  const words = ['camera', 'model', 'frame', 'offline', 'cache', 'vision', 'the', 'runs', 'quickly', 'on', 'device'];
  return Array.from({ length: sentences }, () => {
    const sentence = Array.from({ length: 4 + Math.floor(random() * 11) }, () => words[Math.floor(random() * 11)]);
    return `${sentence.join(' ').replace(/^./, (c) => c.toUpperCase())}.`;
  }).join(' ');
}

describe('chunkDocument', () => {
  it('returns nothing for empty or blank input', () => {
    expect(chunkDocument('', { kind: 'markdown' })).toEqual([]);
    expect(chunkDocument(' \n\n \t\n', { kind: 'text' })).toEqual([]);
  });

  it('keeps one short document whole', () => {
    const text = '  Just one short note.\n';
    const chunks = chunkDocument(text, { kind: 'text' });
    expect(chunks).toEqual([{ text: 'Just one short note.', start: 2, end: 22, headingPath: [], index: 0 }]);
  });

  it('splits markdown at headings and records the heading path', () => {
    const text = [
      'Intro before any heading.',
      '',
      '# Guide',
      '',
      'Welcome to the guide.',
      '',
      '## Install',
      '',
      'Run the installer.',
      '',
      '### Linux',
      'Use the tarball.',
      '',
      '## Usage',
      'Open the app.',
      '',
      '# FAQ',
      'Questions here.'
    ].join('\n');
    const options: ChunkOptions = { kind: 'markdown' };
    const chunks = chunkDocument(text, options);
    expectSound(text, chunks, options);
    expect(chunks.map((c) => [c.headingPath, c.text])).toEqual([
      [[], 'Intro before any heading.'],
      [['Guide'], '# Guide\n\nWelcome to the guide.'],
      [['Guide', 'Install'], '## Install\n\nRun the installer.'],
      [['Guide', 'Install', 'Linux'], '### Linux\nUse the tarball.'],
      [['Guide', 'Usage'], '## Usage\nOpen the app.'],
      [['FAQ'], '# FAQ\nQuestions here.']
    ]);
  });

  it('folds a heading with no text of its own into the next section', () => {
    const text = '# Manual\n\n## Setup ##\nStep one.\n\nSetup\n-----\nSetext heading body.';
    const chunks = chunkDocument(text, { kind: 'markdown' });
    expect(chunks.map((c) => [c.headingPath, c.text])).toEqual([
      [['Manual', 'Setup'], '# Manual\n\n## Setup ##\nStep one.'],
      [['Manual', 'Setup'], 'Setup\n-----\nSetext heading body.']
    ]);
  });

  it('ignores headings and blank lines inside fenced code', () => {
    const code = '```sh\n# not a heading\n\necho hi\n```';
    const text = `# Build\n\n${code}\n\nDone.`;
    const chunks = chunkDocument(text, { kind: 'markdown', maxChars: 40, overlapChars: 0 });
    expect(chunks.map((c) => c.text)).toEqual(['# Build', code, 'Done.']);
    expect(chunks.every((c) => c.headingPath.join() === 'Build')).toBe(true);
    // Plain text has no headings at all.
    expect(chunkDocument('# Title\nbody', { kind: 'text' })[0]!.headingPath).toEqual([]);
  });

  it('packs whole paragraphs and cuts only at paragraph boundaries when they fit', () => {
    const paragraphs = Array.from({ length: 30 }, (_, i) => prose(3 + (i % 4), i));
    const text = paragraphs.join('\n\n');
    const options: ChunkOptions = { kind: 'text', maxChars: 600, overlapChars: 0 };
    const chunks = chunkDocument(text, options);
    expectSound(text, chunks, options);
    expect(chunks.length).toBeGreaterThan(3);
    for (const chunk of chunks) {
      expect(chunk.start === 0 || text.slice(chunk.start - 2, chunk.start) === '\n\n').toBe(true);
      expect(chunk.end === text.length || text.slice(chunk.end, chunk.end + 2) === '\n\n').toBe(true);
    }
  });

  it('overlaps consecutive chunks, starting the overlap at a sentence or word', () => {
    const text = Array.from({ length: 12 }, (_, i) => prose(4, 100 + i)).join('\n\n');
    const options: ChunkOptions = { kind: 'text', maxChars: 500, overlapChars: 120 };
    const chunks = chunkDocument(text, options);
    expectSound(text, chunks, options);
    expect(chunks.length).toBeGreaterThan(3);
    let overlapping = 0;
    for (let i = 1; i < chunks.length; i += 1) {
      const previous = chunks[i - 1]!;
      const chunk = chunks[i]!;
      const overlap = previous.end - chunk.start;
      expect(overlap).toBeLessThanOrEqual(120);
      if (overlap > 0) {
        overlapping += 1;
        expect(previous.text.endsWith(text.slice(chunk.start, previous.end))).toBe(true);
        expect(/\s/.test(text[chunk.start - 1]!)).toBe(true);
      }
    }
    expect(overlapping).toBeGreaterThanOrEqual(chunks.length - 2);
  });

  it('does not overlap across sections', () => {
    const text = `# A\n\n${prose(30, 1)}\n\n# B\n\n${prose(30, 2)}`;
    const options: ChunkOptions = { kind: 'markdown', maxChars: 300, overlapChars: 100 };
    const chunks = chunkDocument(text, options);
    expectSound(text, chunks, options);
    const firstOfB = chunks.findIndex((c) => c.headingPath[0] === 'B');
    expect(chunks[firstOfB]!.text.startsWith('# B')).toBe(true);
    expect(chunks[firstOfB]!.start).toBeGreaterThanOrEqual(chunks[firstOfB - 1]!.end);
  });

  it('splits a single giant paragraph at sentence ends', () => {
    const text = prose(400, 7);
    const options: ChunkOptions = { kind: 'text' };
    const chunks = chunkDocument(text, options);
    expectSound(text, chunks, options);
    expect(chunks.length).toBeGreaterThan(text.length / 1000);
    expect(chunks.every((c) => c.text.endsWith('.'))).toBe(true);
    expect(chunks.slice(1).every((c) => /[A-Z]/.test(c.text[0]!))).toBe(true);
  });

  it('falls back to line breaks, then spaces, then hard cuts', () => {
    const list = Array.from({ length: 200 }, (_, i) => `- item number ${i} without a period`).join('\n');
    const spaced = Array.from({ length: 600 }, (_, i) => `w${i}`).join(' ');
    const unbroken = `${'x'.repeat(2500)}😀${'y'.repeat(10)}`;
    for (const text of [list, spaced, unbroken]) {
      const options: ChunkOptions = { kind: 'text', maxChars: 400, overlapChars: 50 };
      const chunks = chunkDocument(text, options);
      expectSound(text, chunks, options);
      if (text === list) {
        expect(chunks.every((c) => c.text.startsWith('- item') && /without a period$/.test(c.text))).toBe(true);
      }
    }
    // The emoji's surrogate pair is never cut in two.
    const chunks = chunkDocument(unbroken, { kind: 'text', maxChars: 2501, overlapChars: 0 });
    expect(chunks[0]!.text).toHaveLength(2500);
    expect(chunks[1]!.text.startsWith('😀')).toBe(true);
  });

  it('tags chunks with their page and never straddles a page boundary', () => {
    const pageTexts = [prose(12, 31), prose(3, 32), prose(20, 33)];
    let text = '';
    const pages = pageTexts.map((pageText, i) => {
      const start = text.length;
      text += pageText;
      const span = { page: i + 1, start, end: text.length };
      text += '\n\f\n';
      return span;
    });
    const options: ChunkOptions = { kind: 'text', pages, maxChars: 500, overlapChars: 80 };
    const chunks = chunkDocument(text, options);
    expectSound(text, chunks, options);
    for (const chunk of chunks) {
      const page = pages.find((p) => p.page === chunk.page)!;
      expect(chunk.start).toBeGreaterThanOrEqual(page.start);
      expect(chunk.end).toBeLessThanOrEqual(page.end);
    }
    expect(new Set(chunks.map((c) => c.page))).toEqual(new Set([1, 2, 3]));
  });

  it('maps offsets exactly with CRLF line endings and non-ASCII text', () => {
    const text = '# Überblick\r\n\r\nKamera läuft. 東京で動作します。\r\n\r\n## Détails\r\n\r\nZweiter Absatz.\r\n';
    const options: ChunkOptions = { kind: 'markdown' };
    const chunks = chunkDocument(text, options);
    expectSound(text, chunks, options);
    expect(chunks.map((c) => c.headingPath)).toEqual([['Überblick'], ['Überblick', 'Détails']]);
  });
});
