import { flushSync, mount, unmount } from 'svelte';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import Toaster from '#lib/components/Toaster.svelte';
import { MAX_TOASTS, TOAST_MS, toasts } from '#lib/state/toasts.svelte.ts';

const mounted: ReturnType<typeof mount>[] = [];

beforeEach(() => {
  vi.useFakeTimers();
  // One store for the whole app: start every test from an empty, running queue.
  for (const toast of [...toasts.items]) {
    toasts.dismiss(toast.id);
  }
});

afterEach(async () => {
  await Promise.all(mounted.splice(0).map((component) => unmount(component)));
  document.body.replaceChildren();
  vi.useRealTimers();
});

const messages = (): string[] => toasts.items.map((toast) => toast.message);

function mountToaster(): HTMLElement {
  const target = document.body.appendChild(document.createElement('div'));
  mounted.push(mount(Toaster, { target }));
  flushSync();
  return target.querySelector('section')!;
}

it('shows a notice and takes it away after TOAST_MS', () => {
  toasts.show('Document removed');
  expect(messages()).toEqual(['Document removed']);
  vi.advanceTimersByTime(TOAST_MS - 1);
  expect(messages()).toEqual(['Document removed']);
  vi.advanceTimersByTime(1);
  expect(messages()).toEqual([]);
});

it('gives each toast its own full time, not the time left after the one before it', () => {
  toasts.show('First');
  vi.advanceTimersByTime(TOAST_MS / 2);
  toasts.show('Second');
  vi.advanceTimersByTime(TOAST_MS / 2);
  expect(messages()).toEqual(['Second']);
  vi.advanceTimersByTime(TOAST_MS / 2);
  expect(messages()).toEqual([]);
});

it('runs an action once and removes its toast, however often it is pressed', async () => {
  const undo = vi.fn();
  const id = toasts.show('Document removed', { action: { label: 'Undo', run: undo } });
  await Promise.all([toasts.act(id), toasts.act(id)]);
  await toasts.act(id);
  expect(undo).toHaveBeenCalledTimes(1);
  expect(messages()).toEqual([]);
});

it('dismisses one toast and leaves the others', () => {
  const first = toasts.show('First');
  toasts.show('Second');
  toasts.dismiss(first);
  expect(messages()).toEqual(['Second']);
});

it(`keeps at most ${MAX_TOASTS}: the oldest gives way, and its timer goes with it`, () => {
  const run = vi.fn();
  toasts.show('One', { action: { label: 'Undo', run } });
  for (const message of ['Two', 'Three', 'Four']) {
    toasts.show(message);
  }
  expect(messages()).toEqual(['Two', 'Three', 'Four']);
  vi.advanceTimersByTime(TOAST_MS);
  expect(messages()).toEqual([]);
  expect(run).not.toHaveBeenCalled();
});

it('an error toast is marked as an error', () => {
  toasts.show('Could not save', { tone: 'error' });
  expect(toasts.items[0]?.tone).toBe('error');
});

it('waits while the pointer is on a toast and carries on with the time that was left', () => {
  const region = mountToaster();
  toasts.show('Document removed');
  vi.advanceTimersByTime(TOAST_MS / 2);
  region.dispatchEvent(new PointerEvent('pointerenter'));
  vi.advanceTimersByTime(TOAST_MS * 3);
  expect(messages()).toEqual(['Document removed']);
  region.dispatchEvent(new PointerEvent('pointerleave'));
  vi.advanceTimersByTime(TOAST_MS / 2 - 1);
  expect(messages()).toEqual(['Document removed']);
  vi.advanceTimersByTime(1);
  expect(messages()).toEqual([]);
});

it('waits while focus is inside a toast (a keyboard user reaching for Undo)', () => {
  const region = mountToaster();
  toasts.show('Document removed', { action: { label: 'Undo', run: () => undefined } });
  flushSync();
  const undo = region.querySelector('button')!;
  undo.focus();
  vi.advanceTimersByTime(TOAST_MS * 2);
  expect(messages()).toEqual(['Document removed']);
  undo.blur();
  vi.advanceTimersByTime(TOAST_MS);
  expect(messages()).toEqual([]);
});

it('a toast dismissed while it held focus does not leave later toasts paused', () => {
  const region = mountToaster();
  toasts.show('First');
  flushSync();
  const dismiss = region.querySelector<HTMLButtonElement>('button[aria-label="Dismiss"]')!;
  dismiss.focus();
  dismiss.click();
  flushSync();
  toasts.show('Second');
  vi.advanceTimersByTime(TOAST_MS);
  expect(messages()).toEqual([]);
});

it('the Undo button in the region runs the action once and the toast goes', () => {
  const region = mountToaster();
  const undo = vi.fn();
  toasts.show('Document removed', { action: { label: 'Undo', run: undo } });
  flushSync();
  const button = [...region.querySelectorAll('button')].find((b) => b.textContent?.trim() === 'Undo')!;
  button.click();
  button.click();
  flushSync();
  expect(undo).toHaveBeenCalledTimes(1);
  expect(region.textContent).not.toContain('Document removed');
});
