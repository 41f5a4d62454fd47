import { describe, expect, it, vi } from 'vitest';
import { EventBus } from '#lib/core/event-bus.ts';

interface TestEvents {
  fallback: { reason: string };
  answer: { text: string };
}

describe('the typed event bus', () => {
  it('tells every subscriber, none replacing another, and only of its own event', () => {
    const bus = new EventBus<TestEvents>();
    const first = vi.fn();
    const second = vi.fn();
    const other = vi.fn();
    bus.on('fallback', first);
    bus.on('fallback', second);
    bus.on('answer', other);
    bus.emit('fallback', { reason: 'WebGPU failed' });
    expect(first).toHaveBeenCalledWith({ reason: 'WebGPU failed' });
    expect(second).toHaveBeenCalledWith({ reason: 'WebGPU failed' });
    expect(other).not.toHaveBeenCalled();
  });

  it('unsubscribes one listener at a time, even the same function subscribed twice', () => {
    const bus = new EventBus<TestEvents>();
    const listener = vi.fn();
    const offFirst = bus.on('answer', listener);
    bus.on('answer', listener);
    offFirst();
    bus.emit('answer', { text: 'a kettle' });
    expect(listener).toHaveBeenCalledTimes(1);
    offFirst();
    bus.emit('answer', { text: 'a kettle' });
    // Unsubscribing the first again leaves the second subscription in place.
    expect(listener).toHaveBeenCalledTimes(2);
  });

  it('a throwing listener neither stops the others nor fails the emitter', () => {
    const bus = new EventBus<TestEvents>();
    const after = vi.fn();
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    bus.on('answer', () => {
      throw new Error('broken subscriber');
    });
    bus.on('answer', after);
    expect(() => bus.emit('answer', { text: 'x' })).not.toThrow();
    expect(after).toHaveBeenCalled();
    expect(logged).toHaveBeenCalled();
    logged.mockRestore();
  });

  it('a listener that unsubscribes while being told does not make the next one miss the event', () => {
    const bus = new EventBus<TestEvents>();
    const next = vi.fn();
    const off = bus.on('answer', () => off());
    bus.on('answer', next);
    bus.emit('answer', { text: 'x' });
    expect(next).toHaveBeenCalledTimes(1);
  });
});
