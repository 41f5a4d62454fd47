import { createHash } from 'node:crypto';
import { cosine } from '../../src/lib/core/retrieval/index.ts';
import { stepText, type TaskDefinition } from '../../src/lib/core/tracker/index.ts';
import type { CallOptions } from '../backends/backend.ts';
import type { BackendRegistry } from '../backends/registry.ts';
import { serviceUnavailable } from '../http/errors.ts';

/** The seed's RAG embedding model: used when this API serves it, else its first embedding model. */
const PREFERRED_EMBEDDING_MODEL = 'all-minilm-l6-v2';
/** A caption is a sentence or two: longer would only cost time on every frame. */
const CAPTION_MAX_TOKENS = 96;
/** Tasks whose step vectors are kept: the sample tasks and a classroom's own, with room to spare. */
const CACHED_TASKS = 256;

const CAPTION_PROMPT =
  'In one or two sentences, describe what the person is doing: the action under way, the objects in their hands ' +
  'and what they are touching.';

/**
 * Turns what the camera saw into the tracker's observation: an image becomes the vision model's
 * caption, and a caption becomes one cosine similarity per step, through the API's own backends.
 */
export function taskObserver(deps: { backends: BackendRegistry; visionModel: string }) {
  const stepVectors = new Map<string, Promise<Float32Array[]>>();

  const embeddingModel = () => {
    const models = deps.backends.models().filter((m) => m.capabilities.includes('embeddings'));
    const model = models.find((m) => m.id === PREFERRED_EMBEDDING_MODEL) ?? models[0];
    if (!model) {
      throw serviceUnavailable('No embedding model is served, so observations cannot be matched', 'no_embedding_model');
    }
    return model.id;
  };

  const embed = async (model: string, texts: string[], options: CallOptions) => {
    const { vectors } = await deps.backends.forModel(model, 'embeddings').embed(model, texts, options);
    return vectors.map((v) => Float32Array.from(v));
  };

  /** Step texts embedded once per model and step list (a task's id alone could name another tenant's steps). */
  const stepsOf = (model: string, definition: TaskDefinition, options: CallOptions) => {
    const texts = definition.steps.map(stepText);
    const key = createHash('sha256')
      .update(JSON.stringify([model, texts]))
      .digest('base64url');
    let vectors = stepVectors.get(key);
    if (!vectors) {
      vectors = embed(model, texts, options);
      vectors.catch(() => stepVectors.delete(key));
      stepVectors.set(key, vectors);
      if (stepVectors.size > CACHED_TASKS) {
        stepVectors.delete(stepVectors.keys().next().value!);
      }
    }
    return vectors;
  };

  return {
    /** One similarity in [-1, 1] per step of `definition`, in step order. */
    async similarities(definition: TaskDefinition, text: string, options: CallOptions): Promise<number[]> {
      const model = embeddingModel();
      const [steps, [seen]] = await Promise.all([stepsOf(model, definition, options), embed(model, [text], options)]);
      return steps.map((step) => cosine(step, seen!));
    },

    /** The vision model's caption of an image (its URL already checked by the caller). */
    async caption(imageUrl: string, options: CallOptions): Promise<string> {
      const { text } = await deps.backends.forModel(deps.visionModel, 'vision').chat(
        {
          model: deps.visionModel,
          messages: [
            {
              role: 'user',
              content: [
                { type: 'image', url: imageUrl },
                { type: 'text', text: CAPTION_PROMPT }
              ]
            }
          ],
          maxTokens: CAPTION_MAX_TOKENS,
          temperature: 0
        },
        options
      );
      return text.trim();
    }
  };
}

export type TaskObserver = ReturnType<typeof taskObserver>;
