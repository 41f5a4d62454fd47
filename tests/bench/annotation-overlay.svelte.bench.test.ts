// Named .svelte.bench.test.ts for $state: the layer's props change in place, as the camera page changes them.
import { flushSync, mount, unmount } from 'svelte';
import { expect, it } from 'vitest';
import { commands, page } from 'vitest/browser';
import AnnotationLayer from '#lib/components/AnnotationLayer.svelte';
import type { Annotation, AnnotationKind, FrameAnnotations } from '#lib/core/annotations.ts';
// The design tokens the layer draws with.
import '../../src/app.css';
import { percentile, round, type BenchRow } from './stats.ts';

const WIDTH = 1920;
const HEIGHT = 1080;
const REGIONS = 20;
const RUNS = 120;
const WARMUP = 15;
/** Each frame brings a different set, so no update is a no-op. */
const SETS = 8;
const WORDS = ['car', 'kettle', 'EXIT', 'mug', 'person', 'bicycle', 'PUSH TO OPEN', 'plant', 'laptop', 'bottle'];

/** A detector's output over one frame: 12 objects, 6 slanted text lines, 2 found phrases, jittered by `seed`. */
function regionSet(seed: number): FrameAnnotations {
  let state = seed * 7919 + 1;
  const random = () => (state = (state * 48271) % 2147483647) / 2147483647;
  const items = Array.from({ length: REGIONS }, (_, i): Annotation => {
    const kind: AnnotationKind = i < 12 ? 'object' : i < 18 ? 'text' : 'phrase';
    const [w, h] =
      kind === 'text' ? [200 + random() * 300, 30 + random() * 30] : [80 + random() * 400, 80 + random() * 300];
    const x = random() * (WIDTH - w);
    const y = random() * (HEIGHT - h);
    const slant = kind === 'text' ? (random() - 0.5) * 20 : 0;
    return {
      kind,
      label: `${WORDS[(i + seed) % WORDS.length]} ${i}`,
      corners: [
        [x, y + slant],
        [x + w, y - slant],
        [x + w, y + h - slant],
        [x, y + h + slant]
      ]
    };
  });
  return { width: WIDTH, height: HEIGHT, items };
}

/** The same regions drawn the way a canvas overlay would: two strokes per outline and a label chip. */
function canvasOverlay(canvas: HTMLCanvasElement): (set: FrameAnnotations) => void {
  const context = canvas.getContext('2d')!;
  const style = getComputedStyle(document.documentElement);
  const token = (name: string) => style.getPropertyValue(name).trim();
  const [surface, text, accent, accentText] = ['--surface', '--text', '--accent', '--accent-text'].map(token);
  context.font = '600 13px system-ui, sans-serif';
  context.lineJoin = 'round';
  return ({ items }) => {
    context.clearRect(0, 0, canvas.width, canvas.height);
    for (const { kind, label, corners } of items) {
      context.beginPath();
      corners.forEach(([x, y], i) => (i === 0 ? context.moveTo(x, y) : context.lineTo(x, y)));
      context.closePath();
      context.setLineDash([]);
      context.strokeStyle = surface!;
      context.lineWidth = 5;
      context.stroke();
      context.setLineDash(kind === 'text' ? [6, 4] : []);
      context.strokeStyle = kind === 'text' ? text! : accent!;
      context.lineWidth = kind === 'phrase' ? 3 : 2;
      context.stroke();
      const [left, top] = corners[0]!;
      const width = context.measureText(label).width + 14;
      context.fillStyle = kind === 'phrase' ? accent! : surface!;
      context.beginPath();
      context.roundRect(left, top - 26, width, 22, 8);
      context.fill();
      context.stroke();
      context.fillStyle = kind === 'phrase' ? accentText! : text!;
      context.fillText(label, left + 7, top - 10);
    }
  };
}

/** A task queued from inside a frame's requestAnimationFrame runs once that frame's rendering is done. */
function afterRendering(): Promise<number> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => resolve(performance.now());
    channel.port2.postMessage(null);
  });
}

/**
 * Main-thread cost of one frame that does `work`: from the start of its requestAnimationFrame to
 * the end of its rendering (style, layout, paint, commit).
 */
function frameCost(work: () => void): Promise<number> {
  return new Promise((resolve) =>
    requestAnimationFrame(() => {
      const started = performance.now();
      work();
      void afterRendering().then((ended) => resolve(ended - started));
    })
  );
}

/** `work` alone, then the style and layout it leaves, forced at once: what runs before the frame paints. */
function syncCost(work: () => void): [number, number] {
  const started = performance.now();
  work();
  const done = performance.now();
  void document.body.offsetHeight;
  return [done - started, performance.now() - done];
}

it(`annotation overlay: ${REGIONS} regions over a ${WIDTH}×${HEIGHT} frame, SVG layer against Canvas 2D`, async () => {
  await page.viewport(WIDTH, HEIGHT);
  const sets = Array.from({ length: SETS }, (_, i) => regionSet(i + 1));
  const stage = document.body.appendChild(document.createElement('div'));
  stage.style.cssText = `position: fixed; left: 0; top: 0; width: ${WIDTH}px; height: ${HEIGHT}px; background: #000`;
  const picture = stage.appendChild(document.createElement('canvas'));
  Object.assign(picture, { width: WIDTH, height: HEIGHT });
  picture.style.cssText = 'display: block; width: 100%; height: 100%; object-fit: contain';
  const frame = picture.getContext('2d')!;
  const gradient = frame.createLinearGradient(0, 0, WIDTH, HEIGHT);
  gradient.addColorStop(0, '#111');
  gradient.addColorStop(1, '#ddd');
  frame.fillStyle = gradient;
  frame.fillRect(0, 0, WIDTH, HEIGHT);

  // Raw, as a store holds a model's results: a deep $state proxy would time Svelte's proxying, not the layer.
  let annotations: FrameAnnotations | null = $state.raw(null);
  const layer = mount(AnnotationLayer, {
    target: stage,
    props: {
      get annotations() {
        return annotations;
      },
      fit: 'contain',
      onSelect: () => undefined
    }
  });
  const updateLayer = (i: number) => {
    annotations = sets[i % SETS]!;
    flushSync();
  };
  updateLayer(0);
  expect(stage.querySelectorAll('button')).toHaveLength(REGIONS);
  expect(stage.querySelector('path.line')!.getAttribute('d')).toMatch(/^M[\d.]+,[\d.]+L/);

  const overlay = stage.appendChild(document.createElement('canvas'));
  Object.assign(overlay, { width: WIDTH, height: HEIGHT });
  overlay.style.cssText = 'position: absolute; inset: 0; width: 100%; height: 100%';
  const draw = canvasOverlay(overlay);
  const drawCanvas = (i: number) => draw(sets[i % SETS]!);

  /** A frame with nothing to do, so the one measured next does not wait on the last one's drawing. */
  const settle = () => new Promise((resolve) => requestAnimationFrame(resolve));
  // Interleaved, frame by frame, so a busy moment on the machine falls on both alike.
  const layerSync: [number, number][] = [];
  const canvasSync: [number, number][] = [];
  const idle: number[] = [];
  const layerFrame: number[] = [];
  const canvasFrame: number[] = [];
  for (let i = 0; i < WARMUP + RUNS; i += 1) {
    const sync = [syncCost(() => updateLayer(i)), syncCost(() => drawCanvas(i))] as const;
    // A different set from the one just drawn, so the frame's update is never a no-op.
    const next = i + SETS / 2;
    const frames: number[] = [];
    for (const work of [() => undefined, () => updateLayer(next), () => drawCanvas(next)]) {
      await settle();
      frames.push(await frameCost(work));
    }
    if (i >= WARMUP) {
      layerSync.push(sync[0]);
      canvasSync.push(sync[1]);
      [idle, layerFrame, canvasFrame].forEach((samples, k) => samples.push(frames[k]!));
    }
  }
  await unmount(layer);
  stage.remove();

  const bench = 'annotation-overlay';
  const svg = `SVG layer, ${REGIONS} regions, 1080p`;
  const canvas = `Canvas 2D reference, ${REGIONS} regions, 1080p`;
  const timer = `performance.now() ${crossOriginIsolated ? '5 µs' : '100 µs'} resolution`;
  const frameNote = `requestAnimationFrame → task after the frame's rendering (script, style, layout, paint, commit); ${RUNS} frames each after ${WARMUP} warm-up, SVG and canvas frames interleaved, ${SETS} rotating region sets; ${timer}`;
  const p = (samples: number[], q: number) => round(percentile(samples, q), 3);
  const rows: BenchRow[] = [
    { bench, case: svg, metric: 'frame p50', value: p(layerFrame, 50), unit: 'ms', note: frameNote },
    { bench, case: svg, metric: 'frame p95', value: p(layerFrame, 95), unit: 'ms', target: '≤ 2 ms' },
    {
      bench,
      case: svg,
      metric: 'update p50',
      value: p(
        layerSync.map(([update]) => update),
        50
      ),
      unit: 'ms',
      note: 'Svelte update alone (flushSync), no rendering; Svelte in dev mode, as Vitest compiles it'
    },
    {
      bench,
      case: svg,
      metric: 'style + layout p50',
      value: p(
        layerSync.map(([, layout]) => layout),
        50
      ),
      unit: 'ms'
    },
    { bench, case: canvas, metric: 'frame p50', value: p(canvasFrame, 50), unit: 'ms' },
    { bench, case: canvas, metric: 'frame p95', value: p(canvasFrame, 95), unit: 'ms' },
    {
      bench,
      case: canvas,
      metric: 'draw p50',
      value: p(
        canvasSync.map(([drawn]) => drawn),
        50
      ),
      unit: 'ms'
    },
    {
      bench,
      case: 'SVG layer / Canvas 2D',
      metric: 'frame p50 ratio',
      value: round(percentile(layerFrame, 50) / percentile(canvasFrame, 50), 2),
      unit: '×',
      note: 'same regions, same run'
    },
    {
      bench,
      case: 'idle frame (nothing changed)',
      metric: 'frame p50',
      value: p(idle, 50),
      unit: 'ms',
      note: 'what the frame measure costs with no drawing'
    }
  ];
  console.table(rows.map(({ case: c, metric, value, unit, target }) => ({ case: c, metric, value, unit, target })));
  await commands.writeFile('tests/bench/results/annotation-overlay.json', JSON.stringify(rows, null, 2));
});
