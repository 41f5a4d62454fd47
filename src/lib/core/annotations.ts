/**
 * Regions a model found in a frame (objects, lines of text, a phrase it was asked to find), in
 * the frame's own pixels, so they can be drawn over the live or frozen view at any size and
 * cropped out of the frame to ask about one region.
 */

export type AnnotationKind = 'object' | 'text' | 'phrase';

export interface Annotation {
  kind: AnnotationKind;
  /** What it is: an object's name, the text read, the phrase found. */
  label: string;
  /** Four corners in frame pixels, clockwise from the top left (an OCR line may be slanted). */
  corners: [number, number][];
}

export interface FrameAnnotations {
  /** The frame the corners are in, in pixels. */
  width: number;
  height: number;
  items: Annotation[];
}

/** The Florence-2 answer shapes its processor's `post_process_generation` returns. */
export type FlorenceBoxes = { labels: string[]; bboxes: number[][] };
export type FlorenceQuads = { labels: string[]; quad_boxes: number[][] };

/** An axis-aligned box [x1, y1, x2, y2] as corners; random or sloppy output may give x2 < x1. */
function boxCorners([a, b, c, d]: number[]): [number, number][] {
  const [left, right] = [Math.min(a!, c!), Math.max(a!, c!)];
  const [top, bottom] = [Math.min(b!, d!), Math.max(b!, d!)];
  return [
    [left, top],
    [right, top],
    [right, bottom],
    [left, bottom]
  ];
}

/** Florence-2's boxes or OCR quads as annotations of `kind`, clamped to the frame. */
export function florenceAnnotations(
  result: FlorenceBoxes | FlorenceQuads,
  kind: AnnotationKind,
  width: number,
  height: number
): FrameAnnotations {
  const shapes = 'quad_boxes' in result ? result.quad_boxes : result.bboxes;
  const items = shapes.map((shape, index) => {
    const corners =
      shape.length === 8 ? [0, 2, 4, 6].map((i): [number, number] => [shape[i]!, shape[i + 1]!]) : boxCorners(shape);
    return {
      kind,
      label: (result.labels[index] ?? '').trim(),
      corners: corners.map(([x, y]): [number, number] => [clamp(x, width), clamp(y, height)])
    };
  });
  return { width, height, items };
}

function clamp(value: number, max: number): number {
  return Math.min(Math.max(value, 0), max);
}

/** The smallest axis-aligned rectangle holding an annotation, in frame pixels, for cropping it. */
export function boundsOf(annotation: Annotation): { x: number; y: number; width: number; height: number } {
  const xs = annotation.corners.map(([x]) => x);
  const ys = annotation.corners.map(([, y]) => y);
  const x = Math.min(...xs);
  const y = Math.min(...ys);
  return { x, y, width: Math.max(...xs) - x, height: Math.max(...ys) - y };
}

/**
 * The integer pixel rectangle to crop for asking about one region: its bounds grown by `padding`
 * frame pixels on each side (a little context helps a model name what is in a tight box), rounded
 * outwards and kept inside the frame, and never empty, since a zero-sized crop cannot be drawn.
 */
export function cropRect(
  annotation: Annotation,
  frameWidth: number,
  frameHeight: number,
  padding = 0
): { x: number; y: number; width: number; height: number } {
  const bounds = boundsOf(annotation);
  const [x, width] = span(bounds.x, bounds.width, frameWidth, padding);
  const [y, height] = span(bounds.y, bounds.height, frameHeight, padding);
  return { x, y, width, height };
}

/** One axis of {@link cropRect}: [start, length] within 0…size, at least one pixel long. */
function span(start: number, length: number, size: number, padding: number): [number, number] {
  const end = Math.min(size, Math.ceil(start + length + padding));
  const from = Math.min(Math.max(0, Math.floor(start - padding)), size - 1);
  return [from, Math.max(end, from + 1) - from];
}
