import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Embedder } from '#lib/core/embedder.ts';
import { DocumentImportError } from '#lib/core/errors.ts';
import { modelLoadRequest } from '#lib/core/model-load-request.ts';
import { db } from '#lib/db/index.ts';
import {
  createBase,
  deleteBase,
  deleteDocument,
  importDocument,
  listBases,
  listDocuments,
  renameBase,
  type ImportProgress
} from '#lib/services/knowledge-documents.service.ts';
import { reembedMissing } from '#lib/services/knowledge-reembed.service.ts';
import { openSearchIndex, passageOf, search, searchAllBases } from '#lib/services/knowledge-search.service.ts';
import { installModel } from '#lib/services/model-install.service.ts';
import { DEFAULT_SETTINGS } from '#lib/services/settings.service.ts';
import { EmbedBridge } from '#lib/workers/embed-bridge.ts';
import { devModel, mirror, variantOn } from './helpers.ts';
import { pdfOf } from './fixtures/pdf.ts';

const bert = devModel('vision-hub-dev/tiny-bert');
const bridge = new EmbedBridge();
// The real embedding worker with the tiny random BERT: vectors are noise across texts, but the
// same text always gets the same vector, so asking with a passage's own text must find it first.
const embedder: Embedder = { modelId: bert.id, embed: (texts) => bridge.embed(texts) };

const GUIDE = `# Pour-over coffee

## Grind
Grind 15 g of beans medium-fine, like sea salt.

## Bloom
Pour 30 g of water just off the boil and wait 30 seconds while the grounds degas.

## Pour
Pour the rest in slow circles until the scale reads 250 g.`;

/** The app's graph threshold, as the stores pass it from the settings (these bases stay far below it). */
const graph = { annMinVectors: DEFAULT_SETTINGS.annMinVectors };

const file = (name: string, content: BlobPart | BlobPart[], type = '') =>
  new File(Array.isArray(content) ? content : [content], name, { type });

async function counts() {
  return { documents: await db.documents.count(), chunks: await db.chunks.count(), vectors: await db.vectors.count() };
}

let baseId = 0;

beforeAll(async () => {
  await installModel(bert, variantOn(bert, 'wasm'), mirror, () => undefined);
  const hosts = { modelHost: mirror, ortBase: new URL('/ort/', location.origin).href };
  await bridge.load(modelLoadRequest(bert, variantOn(bert, 'wasm'), 'feature-extraction', hosts), () => undefined);
});

afterAll(() => bridge.dispose());

beforeEach(async () => {
  await Promise.all([
    db.knowledgeBases.clear(),
    db.documents.clear(),
    db.chunks.clear(),
    db.vectors.clear(),
    db.searchGraphs.clear()
  ]);
  baseId = await createBase('Kitchen');
});

describe('knowledge base', () => {
  it('imports markdown: chunks by heading, embeds with progress, stores in one go, and finds a passage', async () => {
    const progress: ImportProgress[] = [];
    const document = await importDocument(baseId, file('coffee.md', GUIDE), embedder, {
      ...graph,
      onProgress: (p) => progress.push(p)
    });
    expect(progress.map((p) => p.phase)).toEqual(expect.arrayContaining(['reading', 'embedding', 'saving']));
    expect(progress.at(-1)).toEqual({ phase: 'saving', done: 1, total: 1 });

    const chunks = await db.chunks.where('documentId').equals(document.id!).sortBy('index');
    expect(chunks.length).toBe(document.chunkCount);
    const bloom = chunks.find((c) => c.text.includes('degas'))!;
    expect(bloom.headingPath).toEqual(['Pour-over coffee', 'Bloom']);
    const vectors = await db.vectors.get([document.id!, bert.id]);
    expect(vectors!.chunkIds).toEqual(chunks.map((c) => c.id));
    expect(vectors!.data.length).toBe(chunks.length * vectors!.dim);

    const hits = await search(baseId, [...bloom.headingPath, bloom.text].join('\n'), embedder, {
      ...graph,
      minCosine: 0.99
    });
    expect(hits[0]?.chunk.id).toBe(bloom.id);
    expect(hits[0]?.cosine).toBeCloseTo(1, 4);
    expect(hits[0]?.document.name).toBe('coffee.md');
  });

  it('imports HTML (headings kept, scripts dropped) and a PDF with its page numbers', async () => {
    const html = `<html><head><script>alert(1)</script></head><body>
      <h1>Lab safety</h1><p>Wear goggles at all times.</p><h2>Spills</h2><p>Report every spill to the teacher.</p></body></html>`;
    const page = await importDocument(baseId, file('safety.html', html), embedder, graph);
    const htmlChunks = await db.chunks.where('documentId').equals(page.id!).toArray();
    expect(htmlChunks.some((c) => c.headingPath.join('/') === 'Lab safety/Spills')).toBe(true);
    expect(htmlChunks.some((c) => c.text.includes('alert'))).toBe(false);

    const pdf = await importDocument(
      baseId,
      file('titration.pdf', [pdfOf('Add the indicator drop by drop')]),
      embedder,
      graph
    );
    const pdfChunks = await db.chunks.where('documentId').equals(pdf.id!).toArray();
    expect(pdfChunks.map((c) => c.text).join(' ')).toContain('Add the indicator drop by drop');
    expect(pdfChunks.every((c) => c.page === 1)).toBe(true);
  });

  it('refuses a duplicate, and deleting cascades to passages and vectors, with undo', async () => {
    const document = await importDocument(baseId, file('coffee.md', GUIDE), embedder, graph);
    const before = await counts();
    await expect(importDocument(baseId, file('copy.md', GUIDE), embedder, graph)).rejects.toThrow(
      /already in this knowledge base \(as "coffee.md"\)/
    );
    expect(await counts()).toEqual(before);

    const undo = await deleteDocument(document.id!, graph);
    expect(await counts()).toEqual({ documents: 0, chunks: 0, vectors: 0 });
    expect(await search(baseId, 'Grind', embedder, { ...graph, minCosine: -1 })).toEqual([]);

    await undo();
    expect(await counts()).toEqual(before);
    expect((await listDocuments(baseId)).map((d) => d.name)).toEqual(['coffee.md']);
    expect((await search(baseId, 'Grind', embedder, { ...graph, minCosine: -1 })).length).toBeGreaterThan(0);
  });

  it('a failed import gives a clear error and leaves the store unchanged', async () => {
    await importDocument(baseId, file('coffee.md', GUIDE), embedder, graph);
    const before = await counts();
    const megabyte = new Uint8Array(1024 * 1024);
    const cases: [File, RegExp][] = [
      [file('broken.pdf', '%PDF-1.7\nthis is not really a pdf'), /could not be read as a PDF/],
      [file('empty.txt', ''), /"empty.txt" is empty/],
      [file('photo.txt', [new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 13, 0, 1, 2, 3])]), /binary file/],
      [
        file(
          'huge.txt',
          Array.from({ length: 200 }, () => megabyte)
        ),
        /200 MB; documents up to 50 MB/
      ],
      [file('slides.pptx', 'x'), /not a supported document/]
    ];
    for (const [bad, message] of cases) {
      const failure = importDocument(baseId, bad, embedder, graph);
      await expect(failure).rejects.toBeInstanceOf(DocumentImportError);
      await expect(failure).rejects.toThrow(message);
    }
    expect(await counts()).toEqual(before);
  });

  it('after a change of embedding model, re-embeds in the background and never mixes two models', async () => {
    const document = await importDocument(baseId, file('coffee.md', GUIDE), embedder, graph);
    // Another model id: its vectors are kept apart from the first model's.
    const other: Embedder = { modelId: 'other-model', embed: embedder.embed };
    expect(await search(baseId, GUIDE, other, { ...graph, minCosine: -1 })).toEqual([]);

    const progress: { done: number; total: number }[] = [];
    expect(await reembedMissing(baseId, other, { ...graph, onProgress: (p) => progress.push(p) })).toBe(1);
    expect(progress.at(-1)).toEqual({ done: 1, total: 1 });
    expect(await db.vectors.where('documentId').equals(document.id!).count()).toBe(2);
    expect((await openSearchIndex(baseId, 'other-model', graph)).vectors.block.count).toBe(document.chunkCount);
    const hits = await search(baseId, GUIDE, other, { ...graph, minCosine: -1 });
    expect(hits.length).toBeGreaterThan(0);
    expect(hits.every((hit) => hit.document.id === document.id)).toBe(true);
    // Nothing left to do the second time.
    expect(await reembedMissing(baseId, other, graph)).toBe(0);
  });

  it('searches every base at once for questions asked outside the Knowledge page', async () => {
    const garden = await createBase('Garden');
    await importDocument(baseId, file('coffee.md', GUIDE), embedder, graph);
    await importDocument(
      garden,
      file('roses.txt', 'Prune roses in late winter, above an outward bud.'),
      embedder,
      graph
    );
    const hits = await searchAllBases('Prune roses in late winter, above an outward bud.', embedder, {
      ...graph,
      k: 2
    });
    expect(hits[0]!.document.name).toBe('roses.txt');
    // Across bases too, in the order of the relevance each hit shows.
    expect(hits[0]!.relevance).toBeGreaterThanOrEqual(hits[1]?.relevance ?? -1);
    expect(passageOf(hits[0]!)).toEqual({
      source: 'roses.txt',
      text: 'Prune roses in late winter, above an outward bud.'
    });
  });

  it('base names are unique ignoring case and spaces; a base can be renamed', async () => {
    await expect(createBase('  kitchen ')).rejects.toThrow('There is already a knowledge base called "Kitchen"');
    await expect(createBase('   ')).rejects.toThrow('needs a name');
    const garden = await createBase(' Garden ');
    await expect(renameBase(garden, 'KITCHEN')).rejects.toThrow(/already a knowledge base called "Kitchen"/);
    // Its own name, in other letters, is no clash.
    await renameBase(garden, 'garden');
    await renameBase(baseId, ' Coffee corner ');
    expect((await listBases()).map((base) => base.name)).toEqual(['Coffee corner', 'garden']);
  });

  it('deleting a base removes everything in it, and undo puts it all back under the same ids', async () => {
    const other = await createBase('Garden');
    await importDocument(other, file('roses.txt', 'Prune roses in late winter.'), embedder, graph);
    const document = await importDocument(baseId, file('coffee.md', GUIDE), embedder, graph);
    await db.searchGraphs.put({ baseId, modelId: 'other-model', graph: new ArrayBuffer(8), nodes: 0, updatedAt: 0 });
    const before = await counts();
    const chunkIds = (await db.chunks.where('baseId').equals(baseId).primaryKeys()).sort();
    expect((await search(baseId, 'Grind', embedder, { ...graph, minCosine: -1 })).length).toBeGreaterThan(0);

    const undo = await deleteBase(baseId);
    expect((await listBases()).map((base) => base.name)).toEqual(['Garden']);
    expect(await counts()).toEqual({ documents: 1, chunks: 1, vectors: 1 });
    expect(await db.searchGraphs.count()).toBe(0);
    expect(await search(baseId, 'Grind', embedder, { ...graph, minCosine: -1 })).toEqual([]);

    await undo();
    expect(await counts()).toEqual(before);
    expect((await listBases()).find((base) => base.id === baseId)?.name).toBe('Kitchen');
    expect((await listDocuments(baseId)).map((d) => d.id)).toEqual([document.id]);
    expect((await db.chunks.where('baseId').equals(baseId).primaryKeys()).sort()).toEqual(chunkIds);
    expect(await db.searchGraphs.count()).toBe(1);
    expect((await search(baseId, 'Grind', embedder, { ...graph, minCosine: -1 })).length).toBeGreaterThan(0);
  });

  it('an undone base whose name was taken meanwhile comes back as "(restored)"', async () => {
    const undo = await deleteBase(baseId);
    await createBase('kitchen');
    await undo();
    expect((await listBases()).map((base) => base.name).sort()).toEqual(['Kitchen (restored)', 'kitchen']);
  });

  it('orders results by the relevance it shows', async () => {
    await importDocument(baseId, file('coffee.md', GUIDE), embedder, graph);
    const hits = await search(baseId, 'Pour the water in slow circles', embedder, { ...graph, minCosine: -1 });
    expect(hits.length).toBeGreaterThan(1);
    expect(hits.map((hit) => hit.relevance)).toEqual([...hits.map((hit) => hit.relevance)].sort((a, b) => b - a));
    expect(hits.every((hit) => hit.relevance > 0 && hit.relevance <= 1)).toBe(true);
  });

  it('reads the file while the embedding model is still loading', async () => {
    // A model that never finishes loading: the file's problem is still found, and said.
    const photo = file('photo.txt', [new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 13])]);
    await expect(importDocument(baseId, photo, new Promise<Embedder>(() => undefined), graph)).rejects.toThrow(
      /binary file/
    );
    let loaded!: (embedder: Embedder) => void;
    const phases: string[] = [];
    const importing = importDocument(baseId, file('coffee.md', GUIDE), new Promise<Embedder>((r) => (loaded = r)), {
      ...graph,
      onProgress: (p) => phases.push(p.phase)
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(phases).toEqual(['reading']);
    loaded(embedder);
    expect((await importing).chunkCount).toBeGreaterThan(0);
  });

  it('a cancelled import stores nothing', async () => {
    const controller = new AbortController();
    const long = Array.from({ length: 80 }, (_, i) => `Paragraph ${i}. ${'All about brewing. '.repeat(25)}`).join(
      '\n\n'
    );
    const importing = importDocument(baseId, file('long.txt', long), embedder, {
      ...graph,
      onProgress: (p) => p.phase === 'embedding' && p.done > 0 && controller.abort(),
      signal: controller.signal
    });
    await expect(importing).rejects.toThrow(/cancelled/);
    expect(await counts()).toEqual({ documents: 0, chunks: 0, vectors: 0 });
  });
});
