import { idefics3Repo, TINY_SMOLVLM, type Idefics3Family, type Idefics3Sizes } from './idefics3.ts';
import type { RepoFile } from './repo-files.ts';

/**
 * SmolVLM2's chat template: SmolVLM's plus `<video>`. transformers.js 4.3 expands only `<image>`,
 * so a video reaches the model as sampled frames, each an image of its own.
 */
const CHAT_TEMPLATE =
  "<|im_start|>{% for message in messages %}{{ message['role'] | capitalize }}" +
  "{% if message['content'][0]['type'] == 'image' %}{{ ':' }}{% else %}{{ ': ' }}{% endif %}" +
  "{% for line in message['content'] %}{% if line['type'] == 'text' %}{{ line['text'] }}" +
  "{% elif line['type'] == 'image' %}{{ '<image>' }}{% elif line['type'] == 'video' %}{{ '<video>' }}{% endif %}" +
  "{% endfor %}<end_of_utterance>\n{% endfor %}{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}";

/** What HuggingFaceTB/SmolVLM2-256M-Video-Instruct declares: model_type `smolvlm`, SmolVLM classes, 1 fps up to 64 frames. */
export const SMOLVLM2: Idefics3Family = {
  architecture: 'SmolVLMForConditionalGeneration',
  modelType: 'smolvlm',
  visionModelType: 'smolvlm_vision',
  imageProcessorType: 'SmolVLMImageProcessor',
  processorClass: 'SmolVLMProcessor',
  chatTemplate: CHAT_TEMPLATE,
  videoSampling: { fps: 1, maxFrames: 64 }
};

/** SmolVLM2 is Idefics3-shaped: the tiny SmolVLM's sizes (32 px tiles, 4 image tokens each). */
export const TINY_SMOLVLM2: Idefics3Sizes = TINY_SMOLVLM;

/** A SmolVLM2 repo: the SmolVLM graphs and tokenizer under SmolVLM2's names and templates. */
export function smolvlm2Repo(repo: string, sizes: Idefics3Sizes): RepoFile[] {
  return idefics3Repo(repo, sizes, SMOLVLM2);
}
