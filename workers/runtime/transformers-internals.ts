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

/** Resolves in a fresh task, after messages that are already queued (an abort) have run. */
function afterQueuedMessages(): Promise<void> {
  return new Promise((resolve) => {
    const { port1, port2 } = new MessageChannel();
    port1.onmessage = () => {
      port1.close();
      resolve();
    };
    port2.postMessage(null);
  });
}

/** Thrown by a step that `shouldStop` refused to run. */
export class StoppedBetweenSteps extends Error {
  override name = 'StoppedBetweenSteps';
}

/**
 * ORT's WASM backend settles each run in microtasks, so a whole answer can be generated without
 * this worker reading a single message: yield before every decoding step so abort() lands at once.
 * With `shouldStop`, a step it answers true for throws StoppedBetweenSteps instead of running:
 * Whisper's generate() drops the `stopping_criteria` it is given, so this is how it is stopped.
 */
export function yieldBetweenSteps(model: PreTrainedModel, shouldStop: () => boolean = () => false): void {
  wrapModelMethod(model, 'forward', async (forward) => {
    await afterQueuedMessages();
    if (shouldStop()) {
      throw new StoppedBetweenSteps('Stopped');
    }
    return forward();
  });
}
