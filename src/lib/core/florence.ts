/**
 * Florence-2 answers tasks, not questions: a camera question becomes one of its task prompts
 * (read the text with regions, find a phrase, describe regions, detect objects, caption), its streamed tokens are
 * shown without the location tokens, and its parsed result becomes annotations and a sentence.
 */
import {
  florenceAnnotations,
  type AnnotationKind,
  type FlorenceBoxes,
  type FlorenceQuads,
  type FrameAnnotations
} from './annotations.ts';
import { detectIntent } from './model-choice.ts';

export type FlorenceTask =
  '<OCR_WITH_REGION>' | '<CAPTION_TO_PHRASE_GROUNDING>' | '<DENSE_REGION_CAPTION>' | '<OD>' | '<MORE_DETAILED_CAPTION>';

export interface FlorenceRequest {
  task: FlorenceTask;
  /** The processor's input: the task token, followed by the phrase for grounding. */
  text: string;
  /** What was asked for, in the user's words (the phrase to find); '' for the other tasks. */
  phrase: string;
}

/** The words asking to find something; what follows them is the phrase to find. */
const FIND_WORDS = /\b(?:where(?:'s|\s+is|\s+are)?|find|locate|point\s+(?:to|at)|show\s+me)\b/i;

/** The task a question becomes: reading → OCR with regions, "where is the kettle?" → grounding "the kettle". */
export function florenceRequest(question: string): FlorenceRequest {
  const intent = detectIntent(question);
  if (intent === 'read-text') {
    return { task: '<OCR_WITH_REGION>', text: '<OCR_WITH_REGION>', phrase: '' };
  }
  if (intent === 'find') {
    const asked = question.trim().replace(/[?.!]+$/, '');
    const match = FIND_WORDS.exec(asked);
    const phrase = match ? asked.slice(match.index + match[0].length).trim() : '';
    // Nothing named ("What is where?"): every region with a few words on it.
    return phrase
      ? { task: '<CAPTION_TO_PHRASE_GROUNDING>', text: `<CAPTION_TO_PHRASE_GROUNDING>${phrase}`, phrase }
      : { task: '<DENSE_REGION_CAPTION>', text: '<DENSE_REGION_CAPTION>', phrase: '' };
  }
  if (intent === 'count') {
    return { task: '<OD>', text: '<OD>', phrase: '' };
  }
  return { task: '<MORE_DETAILED_CAPTION>', text: '<MORE_DETAILED_CAPTION>', phrase: '' };
}

/**
 * Turns streamed pieces (decoded with special tokens, which Florence-2's locations are) into
 * what the user reads: sequence markers dropped, each run of location tokens ending a line. A
 * piece may end inside a token; that tail waits for the next piece.
 */
export function florenceStreamFilter(): (piece: string) => string {
  let pending = '';
  let lineOpen = false;
  return (piece) => {
    const text = pending + piece;
    const cut = text.lastIndexOf('<') > text.lastIndexOf('>') ? text.lastIndexOf('<') : text.length;
    pending = text.slice(cut);
    let out = '';
    for (const part of text.slice(0, cut).split(/(<[^<>]+>)/)) {
      if (/^<loc_\d+>$/.test(part)) {
        out += lineOpen ? '\n' : '';
        lineOpen = false;
      } else if (!/^<\/?s>$|^<pad>$/.test(part) && part) {
        out += part;
        lineOpen = true;
      }
    }
    return out;
  };
}

const KINDS: Partial<Record<FlorenceTask, AnnotationKind>> = {
  '<OCR_WITH_REGION>': 'text',
  '<CAPTION_TO_PHRASE_GROUNDING>': 'phrase',
  '<DENSE_REGION_CAPTION>': 'object',
  '<OD>': 'object'
};

/**
 * The processor's parsed result (`post_process_generation(...)[task]`) as the answer's sentence
 * and, for tasks with regions, its annotations in frame pixels.
 */
export function florenceAnswer(
  request: FlorenceRequest,
  parsed: unknown,
  width: number,
  height: number
): { text: string; annotations: FrameAnnotations | null } {
  const kind = KINDS[request.task];
  if (!kind) {
    return { text: String(parsed).trim(), annotations: null };
  }
  const annotations = florenceAnnotations(parsed as FlorenceBoxes | FlorenceQuads, kind, width, height);
  const labels = annotations.items.map((item) => item.label).filter(Boolean);
  return { text: sentence(request, labels, annotations.items.length), annotations };
}

function sentence(request: FlorenceRequest, labels: string[], regions: number): string {
  switch (request.task) {
    case '<OCR_WITH_REGION>':
      return labels.length > 0 ? labels.join('\n') : 'No text found.';
    case '<CAPTION_TO_PHRASE_GROUNDING>':
      return regions > 0
        ? `Found ${request.phrase} in ${regions === 1 ? 'one place' : `${regions} places`}.`
        : `Could not find ${request.phrase}.`;
    case '<DENSE_REGION_CAPTION>':
      return labels.length > 0 ? labels.join('\n') : 'No objects found.';
    default: {
      const counts = new Map<string, number>();
      for (const label of labels) {
        counts.set(label, (counts.get(label) ?? 0) + 1);
      }
      return counts.size > 0
        ? [...counts].map(([label, count]) => (count > 1 ? `${count} × ${label}` : label)).join(', ')
        : 'No objects found.';
    }
  }
}
