/** Prompt formats of the supported VLM architectures (the text half of their processors). */

/**
 * moondream has no chat template and merges one image feature per `<image>` token; with no
 * image (0 tokens) the question goes to its text decoder alone.
 */
export function moondreamPrompt(question: string, imageTokens: number): string {
  const image = imageTokens > 0 ? `${'<image>'.repeat(imageTokens)}\n\n` : '';
  return `${image}Question: ${question}\n\nAnswer:`;
}

/**
 * LLaVA-OneVision's chat text with its one `<image>` expanded to one token per image feature (the
 * model merges features into exactly as many tokens; transformers.js has no processor doing it).
 */
export function llavaImagePrompt(chatText: string, imageTokens: number): string {
  const parts = chatText.split('<image>');
  if (parts.length !== 2) {
    throw new Error(`Expected one <image> in the chat text, found ${parts.length - 1}`);
  }
  return parts.join('<image>'.repeat(imageTokens));
}

/**
 * Idefics3 (SmolVLM) chat text with its one `<image>` placeholder expanded for an unsplit image:
 * the global-image marker and `imageSeqLen` image tokens between fake-token fences.
 */
export function idefics3ImagePrompt(chatText: string, imageSeqLen: number): string {
  const parts = chatText.split('<image>');
  if (parts.length !== 2) {
    throw new Error(`Expected one <image> in the chat text, found ${parts.length - 1}`);
  }
  const fence = '<fake_token_around_image>';
  return `${parts[0]}${fence}<global-img>${'<image>'.repeat(imageSeqLen)}${fence}${parts[1]}`;
}
