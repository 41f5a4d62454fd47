import { describe, expect, it } from 'vitest';
import { boundsOf, florenceAnnotations } from '#lib/core/annotations.ts';

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
