import { commands } from 'vitest/browser';
import { expect, it } from 'vitest';
import type { Embedder } from '#lib/core/embedder.ts';
import { modelLoadRequest } from '#lib/core/model-load-request.ts';
import { db } from '#lib/db/index.ts';
import { extractText } from '#lib/services/document-text.service.ts';
import { documentFormat } from '#lib/core/document-format.ts';
import { chunkDocument } from '#lib/core/retrieval/index.ts';
import { createBase, importDocument, type ImportProgress } from '#lib/services/knowledge-documents.service.ts';
import { installModel } from '#lib/services/model-install.service.ts';
import { DEFAULT_SETTINGS } from '#lib/services/settings.service.ts';
import { EmbedBridge } from '#lib/workers/embed-bridge.ts';
import { pdfOf } from '../browser/fixtures/pdf.ts';
import { devModel, mirror, variantOn } from '../browser/helpers.ts';
import { round, type BenchRow } from './stats.ts';

/**
 * The tiny embedder the slow imports were seen with: its embedding is fast, so what an import costs
 * beyond embedding the same passages alone (the reference, measured in the same run) is overhead.
 */
const bert = devModel('vision-hub-dev/tiny-bert');
const graph = { annMinVectors: DEFAULT_SETTINGS.annMinVectors };

const TIMEOUT = { timeout: 600_000 };
const clear = () =>
  Promise.all([db.knowledgeBases.clear(), db.documents.clear(), db.chunks.clear(), db.vectors.clear()]);

it('document import: where the time goes, against embedding the same passages alone', TIMEOUT, async () => {
  await installModel(bert, variantOn(bert, 'wasm'), mirror, () => undefined);
  await clear();
  const gpl = await commands.readFile('tests/bench/fixtures/gpl-3.txt');
  // GPL-3 twice over, a little changed the second time: ~70 KB of text, as the PDF that was slow had.
  const pdfBytes = pdfOf(`${gpl}\n${gpl.replaceAll('License', 'Licence')}`);
  const rows: BenchRow[] = [];
  const row = (c: string, metric: string, value: number, unit: string, note?: string) =>
    rows.push({ bench: 'knowledge-import', case: c, metric, value, unit, ...(note && { note }) });
  const hosts = { modelHost: mirror, ortBase: new URL('/ort/', location.origin).href };
  const request = modelLoadRequest(bert, variantOn(bert, 'wasm'), 'feature-extraction', hosts);

  // The app's path for a first import: the PDF is read while the model loads, both cold.
  const first = new EmbedBridge();
  try {
    const started = performance.now();
    const ready = first
      .load(request, () => undefined)
      .then(() => ({ modelId: bert.id, embed: (texts: string[]) => first.embed(texts) }));
    const document = await importDocument(await createBase('First'), new File([pdfBytes], 'first.pdf'), ready, graph);
    row(
      'PDF, first import of the session',
      'import, model loading alongside',
      round(performance.now() - started, 0),
      'ms',
      `${document.chunkCount} passages; pdf.js and the model both cold, loading in parallel (the app's path)`
    );
  } finally {
    first.dispose();
  }

  const bridge = new EmbedBridge();
  try {
    let started = performance.now();
    await bridge.load(request, () => undefined);
    row(
      'tiny-bert (wasm)',
      'model load in a fresh worker',
      round(performance.now() - started, 0),
      'ms',
      'runtime compiled, session built: what a first import paid before reading its file, until now'
    );
    const embedder: Embedder = { modelId: bert.id, embed: (texts) => bridge.embed(texts) };
    // Warm-up: the first run compiles kernels, paid once per worker, not per document.
    await bridge.embed(['warm-up']);

    for (const { label, file } of [
      { label: 'GPL-3 text', file: new File([gpl], 'gpl-3.txt') },
      { label: 'PDF', file: new File([pdfBytes], 'manual.pdf') }
    ]) {
      const baseId = await createBase(label);
      const seen = new Map<ImportProgress['phase'], number>();
      started = performance.now();
      const document = await importDocument(baseId, file, embedder, {
        ...graph,
        onProgress: (p) => seen.has(p.phase) || seen.set(p.phase, performance.now() - started)
      });
      const importMs = performance.now() - started;
      // The reference: the same passages, embedded alone in the same worker.
      const format = documentFormat(file.name, file.size);
      const { text, pages } = await extractText(file.name, format, new Uint8Array(await file.arrayBuffer()));
      const chunks = chunkDocument(text, { kind: format === 'text' ? 'text' : 'markdown', pages });
      expect(chunks.length).toBe(document.chunkCount);
      started = performance.now();
      await bridge.embed(chunks.map((chunk) => [...chunk.headingPath, chunk.text].join('\n')));
      const embedMs = performance.now() - started;
      const size = `${Math.round(file.size / 1024)} KB, ${chunks.length} passages`;
      row(label, 'import', round(importMs, 0), 'ms', size);
      row(label, 'reading (extract, chunk)', round(seen.get('embedding')! - seen.get('reading')!, 0), 'ms');
      row(label, 'embedding', round(seen.get('saving')! - seen.get('embedding')!, 0), 'ms');
      row(label, 'saving', round(importMs - seen.get('saving')!, 0), 'ms', 'one IndexedDB transaction');
      row(label, 'embed alone', round(embedMs, 0), 'ms', 'the same passages, one call');
      row(label, 'import / embed alone', round(importMs / embedMs, 2), '×', 'what an import costs beyond embedding');
      console.log(
        `[bench knowledge-import] ${label}: ${size}, import ${round(importMs, 0)} ms, embed ${round(embedMs, 0)} ms`
      );
    }
    await commands.writeFile('tests/bench/results/knowledge-import.json', JSON.stringify(rows, null, 2));
  } finally {
    bridge.dispose();
    await clear();
  }
});
