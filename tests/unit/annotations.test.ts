import { describe, expect, it } from 'vitest';
import { boundsOf, cropRect, florenceAnnotations, type Annotation } from '#lib/core/annotations.ts';

describe('florenceAnnotations', () => {
  it('turns boxes into clockwise corners, whichever way round the model wrote them, clamped to the frame', () => {
    const { items } = florenceAnnotations(
      {
        labels: ['car', ' kettle '],
        bboxes: [
          [10, 20, 110, 220],
          [700, 300, 600, -5]
        ]
      },
      'object',
      640,
      480
    );
    expect(items).toEqual([
      {
        kind: 'object',
        label: 'car',
        corners: [
          [10, 20],
          [110, 20],
          [110, 220],
          [10, 220]
        ]
      },
      {
        kind: 'object',
        label: 'kettle',
        corners: [
          [600, 0],
          [640, 0],
          [640, 300],
          [600, 300]
        ]
      }
    ]);
  });

  it('keeps an OCR quad as its four points, slant and all', () => {
    const { items, width, height } = florenceAnnotations(
      { labels: ['EXIT'], quad_boxes: [[10, 12, 90, 8, 92, 40, 12, 44]] },
      'text',
      100,
      50
    );
    expect([width, height]).toEqual([100, 50]);
    expect(items[0]!.corners).toEqual([
      [10, 12],
      [90, 8],
      [92, 40],
      [12, 44]
    ]);
    expect(boundsOf(items[0]!)).toEqual({ x: 10, y: 8, width: 82, height: 36 });
  });
});

describe('cropRect', () => {
  const region = (corners: [number, number][]): Annotation => ({ kind: 'object', label: 'cup', corners });
  const box = (x1: number, y1: number, x2: number, y2: number) =>
    region([
      [x1, y1],
      [x2, y1],
      [x2, y2],
      [x1, y2]
    ]);

  it('grows the bounds by the padding and rounds outwards to whole pixels', () => {
    expect(cropRect(box(10.4, 20.6, 30.2, 40.5), 640, 480)).toEqual({ x: 10, y: 20, width: 21, height: 21 });
    expect(cropRect(box(100, 100, 200, 150), 640, 480, 16)).toEqual({ x: 84, y: 84, width: 132, height: 82 });
  });

  it('keeps the padded rectangle inside the frame', () => {
    expect(cropRect(box(5, 470, 635, 480), 640, 480, 20)).toEqual({ x: 0, y: 450, width: 640, height: 30 });
  });

  it('takes the bounds of a slanted quad', () => {
    const quad = region([
      [10, 12],
      [90, 8],
      [92, 40],
      [12, 44]
    ]);
    expect(cropRect(quad, 100, 50, 2)).toEqual({ x: 8, y: 6, width: 86, height: 40 });
  });

  it('never gives an empty rectangle, even for a region squashed onto the frame’s edge', () => {
    expect(cropRect(box(640, 100, 640, 100), 640, 480)).toEqual({ x: 639, y: 100, width: 1, height: 1 });
    expect(cropRect(box(0, 0, 0, 0), 640, 480)).toEqual({ x: 0, y: 0, width: 1, height: 1 });
  });
});
