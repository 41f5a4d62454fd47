/**
 * Answers written by a model from the user's own passages: the prompt that numbers them, and the
 * citations read back out of the answer. Pure text handling, shared by the page and the server.
 */

/** A retrieved passage as the model sees it. */
export interface Passage {
  /** Where it comes from, e.g. "guide.md › Brewing › Bloom" — also what a citation shows. */
  source: string;
  text: string;
}

/**
 * Characters of passages put into one prompt. Small VLM decoders have 2k–8k token contexts, and
 * prefill time on a phone grows with every token, so a few focused passages beat many.
 */
export const PASSAGE_BUDGET = 2_400;

/** A passage cut shorter than this says too little to be worth its tokens. */
const MIN_PASSAGE_CHARS = 80;

/** Long enough for a few cited sentences; the decoder's speed makes every token count on a phone. */
export const GROUNDED_ANSWER_MAX_TOKENS = 256;

export const NOT_IN_PASSAGES = 'The documents do not say.';

/** "doc › heading › heading › page 3": how a passage is named in prompts and citations. */
export function sourceLabel(documentName: string, headingPath: readonly string[], page?: number): string {
  return [documentName, ...headingPath, ...(page ? [`page ${page}`] : [])].join(' › ');
}

/**
 * The instruction, `context` (e.g. the task the user is doing) and the numbered passages, then
 * the question. Passages share `budget` characters in rank order: the best ones keep the most
 * text, and those past the budget are left out. Numbering follows the order of `passages`, as the
 * citations in the UI do.
 */
export function groundedPrompt(
  question: string,
  passages: readonly Passage[],
  options: { context?: string; budget?: number } = {}
): string {
  const parts: string[] = [];
  if (options.context) {
    parts.push(options.context.trim());
  }
  if (passages.length > 0) {
    const sources = options.context ? 'the task above and the numbered passages below' : 'the numbered passages below';
    parts.push(
      `Answer the question using only ${sources}. After each fact from a passage, cite it by its ` +
        `number in brackets, like [1]. If they do not answer it, say "${NOT_IN_PASSAGES}"`
    );
    let left = options.budget ?? PASSAGE_BUDGET;
    // Once the budget is spent the rest are left out, so the numbers given stay 1..n in rank order.
    for (const [i, passage] of passages.entries()) {
      if (left < MIN_PASSAGE_CHARS) {
        break;
      }
      const text = clip(passage.text.trim(), left);
      left -= text.length;
      parts.push(`[${i + 1}] ${passage.source}\n${text}`);
    }
  }
  parts.push(`Question: ${question.trim()}`);
  return parts.join('\n\n');
}

/** At most `limit` characters, ending at a word boundary with an ellipsis when cut. */
function clip(text: string, limit: number): string {
  if (text.length <= limit) {
    return text;
  }
  const cut = text.slice(0, limit);
  const space = cut.lastIndexOf(' ');
  return `${(space > limit / 2 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

export type AnswerPart = { text: string } | { cite: number };

/**
 * The answer split into text and citations of passages `1..count`, so the UI can link each to its
 * passage. "[2]", "[1, 3]" and "[1][2]" are citations; a number outside the passages (a model
 * inventing "[7]") stays plain text rather than a link to nothing.
 */
export function answerParts(answer: string, count: number): AnswerPart[] {
  const parts: AnswerPart[] = [];
  const pushText = (text: string) => {
    const last = parts.at(-1);
    if (last && 'text' in last) {
      last.text += text;
    } else if (text) {
      parts.push({ text });
    }
  };
  let at = 0;
  for (const match of answer.matchAll(/\[(\d+(?:\s*,\s*\d+)*)\]/g)) {
    const numbers = match[1]!.split(',').map((n) => Number(n.trim()));
    pushText(answer.slice(at, match.index));
    if (numbers.every((n) => n >= 1 && n <= count)) {
      parts.push(...numbers.map((cite) => ({ cite })));
    } else {
      pushText(match[0]);
    }
    at = match.index + match[0].length;
  }
  pushText(answer.slice(at));
  return parts;
}
