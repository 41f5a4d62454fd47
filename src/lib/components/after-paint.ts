/**
 * Resolves in a task of its own once the next frame is on screen, so work that no first paint
 * needs (sending the outbox, content below the fold) neither delays that paint nor joins its long
 * task. A hidden page paints no frames, so there it waits for nothing.
 */
export function afterPaint(): Promise<void> {
  return new Promise((resolve) => {
    if (document.visibilityState === 'hidden') {
      setTimeout(resolve);
    } else {
      requestAnimationFrame(() => setTimeout(resolve));
    }
  });
}
