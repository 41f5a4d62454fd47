/**
 * The transformers.js internals this app wraps: `PreTrainedModel.encode_image` (timing the
 * vision encoder) and `forward` (yielding between decoding steps so an abort lands at once).
 * They are not public API, so package.json pins transformers.js to one exact version and
 * tests/browser/transformers-internals.test.ts fails when an upgrade renames them or stops
 * generate() from calling them.
 */
import { env, type PreTrainedModel } from '@huggingface/transformers';

export type WrappedInternal = 'encode_image' | 'forward';

/**
 * Replaces `model[name]` by `around`, which runs the original through `call`; generate() finds the
 * replacement because it calls these methods on the instance. Throws when the method is gone.
 */
export function wrapModelMethod(
  model: PreTrainedModel,
  name: WrappedInternal,
  around: (call: () => Promise<unknown>) => Promise<unknown>
): void {
  const target = model as unknown as Record<WrappedInternal, unknown>;
  const original = target[name];
  if (typeof original !== 'function') {
    throw new Error(
      `transformers.js ${env.version} has no ${model.constructor.name}.${name}(): update workers/runtime/transformers-internals.ts for it`
    );
  }
  target[name] = (inputs: unknown) =>
    around(() => (original as (inputs: unknown) => Promise<unknown>).call(model, inputs));
}
