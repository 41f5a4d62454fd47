import { expect, it } from 'vitest';
import { afterPaint } from '#lib/components/after-paint.ts';

it('resolves only once the next frame has been drawn', async () => {
  const order: string[] = [];
  requestAnimationFrame(() => order.push('frame'));
  await afterPaint().then(() => order.push('after paint'));
  expect(order).toEqual(['frame', 'after paint']);
});

it('resolves in a task after the frame, so its work does not lengthen the frame’s task', async () => {
  const order: string[] = [];
  requestAnimationFrame(() => setTimeout(() => order.push('task queued by the frame')));
  await afterPaint().then(() => order.push('after paint'));
  expect(order).toEqual(['task queued by the frame', 'after paint']);
});
