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

/**
 * Resolves once the browser is idle (at the latest after 2 s): for work no page shows at start,
 * so that neither its code nor its requests compete with what the page is drawing. Safari has no
 * `requestIdleCallback`: there a short timer stands in.
 */
export function whenIdle(): Promise<void> {
  return new Promise((resolve) => {
    if (typeof requestIdleCallback === 'function') {
      requestIdleCallback(() => resolve(), { timeout: 2000 });
    } else {
      setTimeout(resolve, 200);
    }
  });
}
