// Named .svelte.test.ts for $state: the layer's props change in place, as the camera page changes them.
import { flushSync, mount, unmount } from 'svelte';
import { afterEach, beforeAll, expect, it, vi } from 'vitest';
import { page, userEvent } from 'vitest/browser';
import AnnotationLayer from '#lib/components/AnnotationLayer.svelte';
// The design tokens the layer draws with, and .visually-hidden.
import '../../src/app.css';
import { boundsOf, type Annotation, type FrameAnnotations } from '#lib/core/annotations.ts';

const FRAME = { width: 1920, height: 1080 };

const box = (kind: Annotation['kind'], label: string, x: number, y: number, w: number, h: number): Annotation => ({
  kind,
  label,
  corners: [
    [x, y],
    [x + w, y],
    [x + w, y + h],
    [x, y + h]
  ]
});
const car = box('object', 'car', 200, 300, 600, 400);
const kettle = box('phrase', 'kettle', 1500, 100, 200, 300);
const exit: Annotation = {
  kind: 'text',
  label: 'EXIT',
  corners: [
    [900, 820],
    [1100, 800],
    [1104, 860],
    [904, 880]
  ]
};
const found: FrameAnnotations = { ...FRAME, items: [car, kettle, exit] };

type Props = {
  annotations: FrameAnnotations | null;
  fit: 'cover' | 'contain';
  hidden: boolean;
  onSelect: (annotation: Annotation) => void;
};

const mounted: ReturnType<typeof mount>[] = [];
// Room for the widest stage, so every point the tests probe is on screen.
beforeAll(() => page.viewport(1280, 800));
afterEach(async () => {
  await Promise.all(mounted.splice(0).map((component) => unmount(component)));
  document.body.replaceChildren();
});

/**
 * The camera page's arrangement: a box holding the picture (a canvas standing in for the video or
 * still, filling the box with `object-fit`) and the layer over it.
 */
function stage(initial: Partial<Props> = {}) {
  const box = document.body.appendChild(document.createElement('div'));
  box.style.cssText = 'position: relative; overflow: hidden; background: #000';
  const picture = box.appendChild(document.createElement('canvas'));
  Object.assign(picture, FRAME);
  const props: Props = $state({ annotations: found, fit: 'cover', hidden: false, onSelect: vi.fn(), ...initial });
  mounted.push(mount(AnnotationLayer, { target: box, props }));
  const resize = (width: number, height: number) => {
    Object.assign(box.style, { width: `${width}px`, height: `${height}px` });
    picture.style.cssText = `display: block; width: 100%; height: 100%; object-fit: ${props.fit}`;
  };
  resize(640, 360);
  flushSync();
  return { box, picture, props, resize };
}

/** Where object-fit puts a frame rectangle inside `box`, in viewport pixels. */
function shown(
  box: HTMLElement,
  fit: 'cover' | 'contain',
  rect: { x: number; y: number; width: number; height: number }
) {
  const outer = box.getBoundingClientRect();
  const scale = (fit === 'cover' ? Math.max : Math.min)(outer.width / FRAME.width, outer.height / FRAME.height);
  const left = outer.left + (outer.width - FRAME.width * scale) / 2;
  const top = outer.top + (outer.height - FRAME.height * scale) / 2;
  return {
    left: left + rect.x * scale,
    top: top + rect.y * scale,
    width: rect.width * scale,
    height: rect.height * scale
  };
}

function expectRect(
  actual: DOMRect,
  expected: ReturnType<typeof shown>,
  keys: ('left' | 'top' | 'width' | 'height')[] = ['left', 'top', 'width', 'height']
) {
  for (const key of keys) {
    expect(Math.abs(actual[key] - expected[key]), `${key}: ${actual[key]} vs ${expected[key]}`).toBeLessThan(0.6);
  }
}

for (const fit of ['cover', 'contain'] as const) {
  it(`lines its boxes up with a ${fit} picture, and keeps them there as the box resizes`, () => {
    const { box, resize } = stage({ fit });
    // A phone held upright (cover crops the sides), then a wide desktop pane (contain letterboxes it).
    for (const [width, height] of [
      [360, 640],
      [900, 400]
    ] as const) {
      resize(width, height);
      // One region of each kind here, so each kind's outline path is that region's outline.
      for (const annotation of found.items) {
        const outline = box.querySelector(`path.line[data-kind="${annotation.kind}"]`)!;
        expectRect(outline.getBoundingClientRect(), shown(box, fit, boundsOf(annotation)));
      }
      // Each region's button is where its outline is (with its label's strip above): tapping the outline taps it.
      const buttons = page.getByRole('button').elements();
      found.items.forEach((annotation, i) => {
        const rect = buttons[i]!.getBoundingClientRect();
        const region = shown(box, fit, boundsOf(annotation));
        expectRect(rect, region, ['left', 'width']);
        expect(Math.abs(rect.bottom - (region.top + region.height))).toBeLessThan(0.6);
        const middle = [region.left + region.width / 2, region.top + region.height / 2] as const;
        const outer = box.getBoundingClientRect();
        if (middle[0] > outer.left && middle[0] < outer.right) {
          expect(buttons[i]!.contains(document.elementFromPoint(...middle))).toBe(true);
        }
      });
    }
  });
}

it('announces the regions as a list of buttons named by their labels, kind by kind', async () => {
  const { box } = stage();
  expect(page.getByRole('status').element().textContent).toBe('3 regions found: car, kettle, EXIT');
  const list = page.getByRole('list', { name: 'Regions found' });
  await expect.element(list).toBeInTheDocument();
  expect(list.getByRole('listitem').elements()).toHaveLength(3);
  expect(
    list
      .getByRole('button')
      .elements()
      .map((b) => b.getAttribute('aria-label'))
  ).toEqual(['Ask about “car”', 'Ask about “kettle”', 'Ask about the text “EXIT”']);
  // The outlines are drawing, not content: the list says it once.
  expect(box.querySelector('svg')!.getAttribute('aria-hidden')).toBe('true');
  // Each label is shown on the picture; the kinds are drawn differently.
  expect([...box.querySelectorAll('.tag')].map((tag) => tag.textContent)).toEqual(['car', 'kettle', 'EXIT']);
  const strokes = [...box.querySelectorAll('path.line')].map((p) => {
    const style = getComputedStyle(p);
    return `${style.stroke} ${style.strokeDasharray} ${style.strokeWidth} ${style.fill}`;
  });
  expect(new Set(strokes).size).toBe(3);
  expect(strokes.every((s) => !s.startsWith('none'))).toBe(true);
});

it('keeps the label of a region cut off by the picture’s edge on screen, and drops a hidden region’s', () => {
  const wheel = box('object', 'wheel', 250, 550, 120, 120);
  const sign = box('text', 'OPEN', 1000, 0, 200, 60);
  const { box: outer, resize } = stage({ annotations: { ...FRAME, items: [car, wheel, kettle, sign] } });
  // Upright phone, cover: the car runs off the left edge, the wheel and the kettle are off screen.
  resize(360, 640);
  const layer = outer.getBoundingClientRect();
  const tag = (label: string) => [...outer.querySelectorAll('.tag')].find((t) => t.textContent === label)!;
  const carTag = tag('car').getBoundingClientRect();
  expect(shown(outer, 'cover', boundsOf(car)).left).toBeLessThan(layer.left);
  expect(Math.abs(carTag.left - layer.left)).toBeLessThan(0.6);
  expect(tag('wheel').getBoundingClientRect().right).toBeLessThanOrEqual(layer.left);
  expect(tag('kettle').getBoundingClientRect().left).toBeGreaterThanOrEqual(layer.right);
  // A region at the frame's top edge has no room above it: its label goes just inside it.
  const signTag = tag('OPEN').getBoundingClientRect();
  expect(Math.abs(signTag.top - layer.top)).toBeLessThan(0.6);
});

it('a click, Enter or Space on a region selects it', async () => {
  const onSelect = vi.fn();
  stage({ onSelect });
  await page.getByRole('button', { name: 'Ask about “kettle”' }).click();
  expect(onSelect).toHaveBeenLastCalledWith(kettle);

  page.getByRole('button', { name: 'Ask about the text “EXIT”' }).element().focus();
  await userEvent.keyboard('{Enter}');
  expect(onSelect).toHaveBeenLastCalledWith(exit);
  await userEvent.tab({ shift: true });
  await userEvent.keyboard(' ');
  expect(onSelect).toHaveBeenLastCalledWith(kettle);
  expect(onSelect).toHaveBeenCalledTimes(3);
});

it('gives a tiny region a 44 px target and lets taps elsewhere through to the picture', () => {
  const dot = box('object', 'screw', 960, 540, 6, 6);
  const { box: outer, picture } = stage({ annotations: { ...FRAME, items: [car, dot] }, fit: 'contain' });
  const button = page.getByRole('button', { name: 'Ask about “screw”' }).element();
  const rect = button.getBoundingClientRect();
  expect(rect.width).toBeLessThan(4);
  // The region is the button's bottom, under its label's strip: 6 frame pixels, 2 on screen.
  const [cx, cy] = [rect.left + rect.width / 2, rect.bottom - 1];
  const hits = (x: number, y: number) => button.contains(document.elementFromPoint(x, y));
  expect([hits(cx + 20, cy + 20), hits(cx - 20, cy + 20), hits(cx + 24, cy), hits(cx, cy + 24)]).toEqual([
    true,
    true,
    false,
    false
  ]);
  // Outside every region the layer takes no pointer events.
  const corner = outer.getBoundingClientRect();
  expect(document.elementFromPoint(corner.right - 5, corner.bottom - 5)).toBe(picture);
});

it('a smaller region inside a larger one stays on top, so both can be tapped', () => {
  const wheel = box('object', 'wheel', 250, 550, 120, 120);
  const { box: outer } = stage({ annotations: { ...FRAME, items: [wheel, car] } });
  const target = page.getByRole('button', { name: 'Ask about “wheel”' }).element().getBoundingClientRect();
  const hit = document.elementFromPoint(target.left + target.width / 2, target.top + target.height / 2);
  expect(hit?.getAttribute('aria-label')).toBe('Ask about “wheel”');
  expect(outer.querySelectorAll('button')).toHaveLength(2);
});

it('draws and announces nothing for no regions, or when hidden, and comes back with new ones', () => {
  const { box, props } = stage({ annotations: { ...FRAME, items: [] } });
  const layer = () => box.lastElementChild!;
  expect(layer().querySelector('svg, ul, button')).toBeNull();
  expect(layer().textContent.trim()).toBe('');

  props.annotations = found;
  props.hidden = true;
  flushSync();
  expect(layer().querySelector('svg, ul, button')).toBeNull();
  expect(layer().textContent.trim()).toBe('');

  props.hidden = false;
  flushSync();
  expect(layer().querySelectorAll('button')).toHaveLength(3);
  props.annotations = null;
  flushSync();
  expect(layer().querySelector('svg, ul, button')).toBeNull();
});

it('names a region the model gave no words for by its kind', () => {
  stage({
    annotations: {
      ...FRAME,
      items: [
        { ...car, label: '' },
        { ...exit, label: '' }
      ]
    }
  });
  expect(page.getByRole('status').element().textContent).toBe('2 regions found: object, text');
  expect(
    page
      .getByRole('button')
      .elements()
      .map((b) => b.getAttribute('aria-label'))
  ).toEqual(['Ask about this object', 'Ask about this text']);
});
