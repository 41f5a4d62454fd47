import { describe, expect, it } from 'vitest';
import { Bm25Index, tokenize, type Bm25Json } from '#lib/core/retrieval/index.ts';
import { mulberry32 } from './fixtures/retrieval-random.ts';

const DOCS: [number, string][] = [
  [1, 'To grant camera permission, open the site settings and allow the camera. A denied permission blocks capture.'],
  [2, 'The model cache stores ONNX weights in the Cache API so the app works offline.'],
  [3, 'Frame differencing skips inference when consecutive video frames barely change.'],
  [4, 'Install the app from the browser menu; it runs offline after the first visit.'],
  [5, 'WebGPU adapters report limits such as maxBufferSize and maxStorageBufferBindingSize.'],
  [6, 'Offline mode: the service worker serves the app shell and the ONNX runtime files.']
];

function indexOf(docs: [number, string][]): Bm25Index {
  const index = new Bm25Index();
  for (const [id, text] of docs) {
    index.add(id, text);
  }
  return index;
}

describe('tokenize', () => {
  it('lowercases, drops stopwords, strips plurals, and splits CJK per character', () => {
    expect(tokenize("The Cameras aren't in the Libraries, it's the batteries!")).toEqual([
      'camera',
      'aren',
      'library',
      'battery'
    ]);
    expect(tokenize('class status analysis')).toEqual(['class', 'status', 'analysis']);
    expect(tokenize('Café naïve ＡＢＣ 123')).toEqual(['café', 'naïve', 'abc', '123']);
    expect(tokenize('東京の天気 weather')).toEqual(['東', '京', 'の', '天', '気', 'weather']);
    expect(tokenize('')).toEqual([]);
  });

  it('drops the words a question is made of, so only what it is about is matched and highlighted', () => {
    expect(tokenize('What does the manual say about descaling? How should I do it, and why?')).toEqual([
      'manual',
      'say',
      'descaling'
    ]);
  });
});

describe('BM25 index', () => {
  it('ranks the obviously right document first', () => {
    const index = indexOf(DOCS);
    expect(index.search('camera permission denied', 3)[0]!.id).toBe(1);
    expect([2, 4, 6]).toContain(index.search('how do I use it offline without network?', 6)[0]!.id);
    expect(index.search('maxBufferSize', 3).map((h) => h.id)).toEqual([5]);
    expect(index.search('frames inference', 2)[0]!.id).toBe(3);
    const hits = index.search('onnx offline', 6);
    expect(hits.map((h) => h.id).sort()).toEqual([2, 4, 6]);
    expect(hits[2]!.id).toBe(4); // the only one without "onnx"
    hits.forEach((hit, i) => expect(i === 0 || hits[i - 1]!.score >= hit.score).toBe(true));
  });

  it('returns nothing for unknown or stopword-only queries', () => {
    const index = indexOf(DOCS);
    expect(index.search('zebra', 5)).toEqual([]);
    expect(index.search('the and of', 5)).toEqual([]);
    expect(index.search('camera', 0)).toEqual([]);
    expect(new Bm25Index().search('camera', 5)).toEqual([]);
  });

  it('removes and replaces documents by id', () => {
    const index = indexOf(DOCS);
    expect(index.remove(1)).toBe(true);
    expect(index.remove(1)).toBe(false);
    expect(index.search('camera permission', 5)).toEqual([]);
    index.add(3, 'Camera permission troubleshooting.');
    expect(index.size).toBe(5);
    expect(index.search('camera', 5).map((h) => h.id)).toEqual([3]);
    expect(index.search('frames', 5)).toEqual([]);
  });

  it('round-trips through JSON with identical results', () => {
    const index = indexOf(DOCS);
    index.remove(2);
    const json = JSON.parse(JSON.stringify(index)) as Bm25Json;
    const restored = Bm25Index.fromJSON(json);
    expect(restored.size).toBe(5);
    for (const query of ['camera permission', 'onnx offline', 'webgpu limits', 'model cache', 'app']) {
      expect(restored.search(query, 10)).toEqual(index.search(query, 10));
    }
    expect(() => Bm25Index.fromJSON({ version: 2 } as unknown as Bm25Json)).toThrow(TypeError);
  });

  it('scores after many removals (and the compaction they trigger) like a freshly built index', () => {
    const random = mulberry32(21);
    const words = Array.from({ length: 300 }, (_, i) => `w${i.toString(36)}`);
    const docs: [number, string][] = Array.from({ length: 400 }, (_, id) => [
      id,
      Array.from({ length: 5 + Math.floor(random() * 40) }, () => words[Math.floor(random() * words.length)]).join(' ')
    ]);
    const index = indexOf(docs);
    const kept = docs.filter(([id]) => id % 3 !== 0);
    for (const [id] of docs) {
      if (id % 3 === 0) {
        index.remove(id);
      }
    }
    const fresh = indexOf(kept);
    expect(index.size).toBe(kept.length);
    for (let q = 0; q < 30; q += 1) {
      const query = `${words[q * 7]} ${words[q * 11 + 1]} ${words[q * 3 + 2]}`;
      const hits = index.search(query, 10);
      const expected = fresh.search(query, 10);
      expect(hits.map((h) => h.id)).toEqual(expected.map((h) => h.id));
      hits.forEach((hit, i) => expect(hit.score).toBeCloseTo(expected[i]!.score, 9));
    }
    const restored = Bm25Index.fromJSON(JSON.parse(JSON.stringify(index)) as Bm25Json);
    expect(restored.search(words[5]!, 20)).toEqual(index.search(words[5]!, 20));
  });
});
